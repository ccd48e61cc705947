/**
 * Global setup of `pnpm test:cluster`: points the run at a Redis Cluster. With
 * `REDIS_CLUSTER_NODES` already set (CI starts the cluster itself), it only checks the
 * variables; otherwise it starts one with `scripts/redis-cluster.sh` (base port
 * `KAI_CLUSTER_BASE_PORT`, default 7101) and stops it when the run ends. The test processes
 * inherit `REDIS_URL` and `REDIS_CLUSTER_NODES` from here.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../scripts/redis-cluster.sh', import.meta.url));

function cluster(command: 'start' | 'stop'): string {
  return execFileSync('bash', [SCRIPT, command, process.env['KAI_CLUSTER_BASE_PORT'] ?? '7101'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

export default function setup(): (() => void) | undefined {
  if ((process.env['REDIS_CLUSTER_NODES'] ?? '').trim() !== '') {
    if (process.env['REDIS_URL'] === undefined) {
      throw new Error('REDIS_CLUSTER_NODES is set but REDIS_URL is not: set REDIS_URL to one of the cluster nodes');
    }
    return undefined;
  }
  for (const line of cluster('start').split('\n')) {
    const match = /^(REDIS_URL|REDIS_CLUSTER_NODES)=(.+)$/.exec(line.trim());
    if (match !== null) process.env[match[1] as string] = match[2];
  }
  if (process.env['REDIS_CLUSTER_NODES'] === undefined) throw new Error('scripts/redis-cluster.sh start printed no REDIS_CLUSTER_NODES');
  return () => void cluster('stop');
}
