import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * A unique, readable id for one worker process: `<host>-<pid>-<random>`. It is the BullMQ
 * worker name, the Redis client name of the process's own connection, and the status rows'
 * `worker_id`, so an operator can go from a row to a process and the failover watcher can
 * see the process's connection vanish.
 */
export function createWorkerId(host: string = hostname(), pid: number = process.pid): string {
  const safeHost = host.replace(/[^A-Za-z0-9.-]/g, '-').slice(0, 40) || 'host';
  return `${safeHost}-${pid}-${randomBytes(3).toString('hex')}`;
}

/** The Redis client name of a worker process's own connection. */
export function workerClientName(workerId: string): string {
  return `kai-worker:${workerId}`;
}
