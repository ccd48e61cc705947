import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** A private redis-server for a benchmark: nothing else talks to it, so its stats are ours. */
export interface BenchRedis {
  url: string;
  port: number;
  admin: Redis;
  /** Resets INFO commandstats and the CPU baseline. */
  resetStats(): Promise<void>;
  /** Commands executed and CPU seconds used (user + sys) since the last reset. */
  stats(): Promise<{ commands: number; cpuSeconds: number; byCommand: Record<string, number> }>;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const index = line.indexOf(':');
    if (index > 0) out[line.slice(0, index)] = line.slice(index + 1);
  }
  return out;
}

/** Starts `redis-server` on a spare port with no persistence. */
export async function startBenchRedis(extraArgs: string[] = []): Promise<BenchRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'kai-bench-redis-'));
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extraArgs], {
    stdio: 'ignore',
  });
  const url = `redis://127.0.0.1:${port}`;
  const admin = new Redis(url, { maxRetriesPerRequest: null, retryStrategy: (n) => (n > 50 ? null : 50) });
  // Refused connections while the server starts are expected; the retry strategy handles them.
  admin.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    admin.once('ready', () => resolve());
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  let cpuBaseline = 0;
  const cpuNow = async (): Promise<number> => {
    const info = parseInfo(await admin.info('cpu'));
    return Number(info['used_cpu_user'] ?? 0) + Number(info['used_cpu_sys'] ?? 0);
  };
  return {
    url,
    port,
    admin,
    async resetStats() {
      await admin.config('RESETSTAT');
      cpuBaseline = await cpuNow();
    },
    async stats() {
      const info = parseInfo(await admin.info('commandstats'));
      const byCommand: Record<string, number> = {};
      let commands = 0;
      for (const [key, value] of Object.entries(info)) {
        const calls = /calls=(\d+)/.exec(value);
        if (key.startsWith('cmdstat_') && calls) {
          byCommand[key.slice(8)] = Number(calls[1]);
          commands += Number(calls[1]);
        }
      }
      // The INFO calls made to read the stats are not the workload's.
      commands -= byCommand['info'] ?? 0;
      return { commands, cpuSeconds: (await cpuNow()) - cpuBaseline, byCommand };
    },
    async stop() {
      await admin.quit().catch(() => undefined);
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}
