/**
 * The chaos suite's own `redis-server`: a spare port, AOF on, and a data directory that
 * survives a crash, so a scenario can `kill -9` Redis and start it again on the same port
 * with the same data, as a container restart would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { waitFor } from '@kai-jobs/queue/testing';
import { freePort } from '../../bench/lib/redis-server.js';

/** How often Redis fsyncs its append-only file (`appendfsync`). */
export type AppendFsync = 'always' | 'everysec';

/** A private Redis that can be crashed and restarted. */
export interface ChaosRedis {
  readonly port: number;
  readonly url: string;
  readonly appendfsync: AppendFsync;
  /** An admin connection that reconnects by itself across restarts. */
  readonly admin: Redis;
  /** `kill -9`: no shutdown, no final fsync — what a crashed host process leaves. */
  crash(): Promise<void>;
  /** Starts the server again on the same port and data directory; resolves once it answers. */
  start(): Promise<void>;
  /** True while the server process runs. */
  isRunning(): boolean;
  /** Stops the server for good and deletes its data directory. */
  destroy(): Promise<void>;
}

/** Starts a `redis-server` with AOF (`appendfsync` as given) on a spare port. */
export async function startChaosRedis(options: { appendfsync?: AppendFsync } = {}): Promise<ChaosRedis> {
  const appendfsync = options.appendfsync ?? 'always';
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'kai-chaos-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();

  const launch = async (): Promise<void> => {
    const started = spawn(
      'redis-server',
      // RDB snapshots off: the AOF alone is what a restart recovers from.
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', appendfsync],
      { stdio: 'ignore' },
    );
    child = started;
    exited = new Promise((resolve) => started.once('exit', () => resolve()));
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    // Refused connections are expected until the server listens; connect() rejects with them too.
    probe.on('error', () => undefined);
    try {
      await waitFor(
        async () => {
          if (started.exitCode !== null) throw new Error(`redis-server on ${port} exited with ${started.exitCode}`);
          try {
            if (probe.status !== 'ready') await probe.connect();
            // LOADING while the AOF replays: not ready until PING answers.
            return (await probe.ping()) === 'PONG';
          } catch {
            probe.disconnect();
            return false;
          }
        },
        { timeoutMs: 20_000, intervalMs: 25, message: `redis-server on ${port} did not start` },
      );
    } finally {
      probe.disconnect();
    }
  };

  await launch();
  const admin = new Redis(url, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
  admin.on('error', () => undefined);
  await waitFor(() => admin.status === 'ready', { timeoutMs: 10_000, message: 'admin connection not ready' });

  return {
    port,
    url,
    appendfsync,
    admin,
    async crash() {
      child?.kill('SIGKILL');
      await exited;
      child = null;
    },
    async start() {
      if (child !== null) throw new Error(`redis-server on ${port} is already running`);
      await launch();
    },
    isRunning: () => child !== null && child.exitCode === null,
    async destroy() {
      admin.disconnect();
      child?.kill('SIGKILL');
      await exited;
      child = null;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
