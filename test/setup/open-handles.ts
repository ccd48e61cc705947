/**
 * Fails an integration test file that leaves a Redis connection open: every ioredis client
 * (including BullMQ's own duplicates) is recorded when it connects and forgotten when it
 * ends; after the file's last test the set must drain. A worker left running keeps its
 * connections, so a leaked worker fails the file too.
 *
 * On a Redis Cluster (`REDIS_CLUSTER_NODES`) a `Cluster` client is recorded as one
 * connection; the per-node connections it opens end when it ends, so a leaked cluster client
 * is reported once (with its nodes' ports), not once per node.
 */
import { afterAll } from 'vitest';
import { Cluster, Redis } from 'ioredis';

const open = new Set<Redis>();
const openClusters = new Set<Cluster>();
const originalConnect = Redis.prototype.connect;
const originalClusterConnect = Cluster.prototype.connect;

Redis.prototype.connect = function connect(this: Redis, ...args: Parameters<Redis['connect']>) {
  if (!open.has(this)) {
    open.add(this);
    this.once('end', () => open.delete(this));
  }
  return originalConnect.apply(this, args);
};

Cluster.prototype.connect = function connect(this: Cluster, ...args: Parameters<Cluster['connect']>) {
  if (!openClusters.has(this)) {
    openClusters.add(this);
    this.once('end', () => openClusters.delete(this));
  }
  return originalClusterConnect.apply(this, args);
};

async function drained(timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while ((open.size > 0 || openClusters.size > 0) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return open.size === 0 && openClusters.size === 0;
}

afterAll(async () => {
  if (await drained(5_000)) return;
  const clusters = [...openClusters].map((cluster) => {
    const ports = cluster.nodes('all').map((node) => node.options.port);
    return `${cluster.options.redisOptions?.connectionName ?? 'unnamed'} cluster@${ports.join(',')}`;
  });
  // A cluster's node connections end with it: disconnect the clusters first, so only
  // connections that belong to no cluster are left to count.
  for (const cluster of openClusters) cluster.disconnect();
  await drained(1_000);
  const names = [...open].map((client) => `${client.options.connectionName ?? 'unnamed'}@${client.options.port}`);
  for (const client of open) client.disconnect();
  const leaked = [...clusters, ...names];
  throw new Error(`this test file left ${leaked.length} Redis connection(s) open: ${leaked.join(', ')}`);
});
