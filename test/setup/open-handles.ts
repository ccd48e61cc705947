/**
 * Fails an integration test file that leaves a Redis connection open: every ioredis client
 * (including BullMQ's own duplicates) is recorded when it connects and forgotten when it
 * ends; after the file's last test the set must drain. A worker left running keeps its
 * connections, so a leaked worker fails the file too.
 */
import { afterAll } from 'vitest';
import { Redis } from 'ioredis';

const open = new Set<Redis>();
const originalConnect = Redis.prototype.connect;

Redis.prototype.connect = function connect(this: Redis, ...args: Parameters<Redis['connect']>) {
  if (!open.has(this)) {
    open.add(this);
    this.once('end', () => open.delete(this));
  }
  return originalConnect.apply(this, args);
};

afterAll(async () => {
  const deadline = Date.now() + 5_000;
  while (open.size > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  if (open.size > 0) {
    const names = [...open].map((client) => `${client.options.connectionName ?? 'unnamed'}@${client.options.port}`);
    for (const client of open) client.disconnect();
    throw new Error(`this test file left ${open.size} Redis connection(s) open: ${names.join(', ')}`);
  }
});
