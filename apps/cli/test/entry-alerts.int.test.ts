import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startSentryReceiver, type ReceivedEvent, type SentryReceiver } from '@kai-jobs/monitor/testing';
import { useRedisTestContext } from '@kai-jobs/queue/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli, testEnv } from './support.js';

// Every entry point installs the process-wide alerter: the module-level captureException of
// @kai-jobs/monitor delivers to SENTRY_DSN (here the local receiver) from a real process.
const MONITOR_BIN = fileURLToPath(new URL('../../../packages/monitor/src/bin/monitor.ts', import.meta.url));
const BOARD_BIN = fileURLToPath(new URL('../../board/src/bin/board.ts', import.meta.url));
const WORKER_BIN = fileURLToPath(new URL('../../../packages/workers/src/bin/worker.ts', import.meta.url));

const ctx = useRedisTestContext(import.meta.url);
let sentry: SentryReceiver;

beforeAll(async () => {
  sentry = await startSentryReceiver();
});
afterAll(async () => {
  await sentry?.close();
});

/** Runs a bin to its exit; returns its code and output. */
async function runBin(bin: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', bin], {
      env: { PATH: process.env['PATH'] ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

/** A loopback port where nothing listens. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The events received with `service` and, if given, `command` tags. */
function eventsOf(service: string, command?: string): ReceivedEvent[] {
  return sentry.events.filter((event) => event.tags?.['service'] === service && (command === undefined || event.tags?.['command'] === command));
}

describe('entry points report through the module-level captureException', () => {
  it('kai-jobs worker and start: a failure that ends them (Redis unreachable) arrives in Sentry, once each', async () => {
    const redisUrl = `redis://127.0.0.1:${await deadPort()}`;
    for (const command of ['worker', 'start']) {
      const cli = spawnCli([command], testEnv(redisUrl, ctx.prefix, { SENTRY_DSN: sentry.dsn, SENTRY_ENVIRONMENT: 'entry-test' }));
      expect(await cli.exited, cli.stderr()).toBe(1);
      const events = eventsOf('kai-jobs', command);
      expect(events, cli.stderr()).toHaveLength(1);
      const [event] = events as [ReceivedEvent];
      expect(event.level).toBe('fatal');
      expect(event.environment).toBe('entry-test');
      expect(event.exception?.values?.[0]?.value).toMatch(/127\.0\.0\.1/);
    }
  }, 120_000);

  it('a usage mistake is not an alert; without SENTRY_DSN nothing is sent', async () => {
    const before = sentry.events.length;
    const typo = spawnCli(['worker', '--nope'], testEnv(ctx.redisUrl, ctx.prefix, { SENTRY_DSN: sentry.dsn }));
    expect(await typo.exited).toBe(2);
    const redisUrl = `redis://127.0.0.1:${await deadPort()}`;
    const quiet = spawnCli(['worker'], testEnv(redisUrl, ctx.prefix));
    expect(await quiet.exited).toBe(1);
    expect(sentry.events.length).toBe(before);
  }, 120_000);

  it('kai-jobs-board: failing to listen (port taken) is reported with service board', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = taken.address() as { port: number };
      const result = await runBin(BOARD_BIN, {
        REDIS_URL: ctx.redisUrl,
        KAI_PREFIX: ctx.prefix,
        BOARD_HOST: '127.0.0.1',
        BOARD_PORT: String(port),
        BOARD_TOKEN: 'entry-test-token-not-a-secret',
        SENTRY_DSN: sentry.dsn,
      });
      expect(result.code, result.output).toBe(1);
      const events = eventsOf('board');
      expect(events, result.output).toHaveLength(1);
      expect(events[0]?.exception?.values?.[0]?.value).toMatch(/EADDRINUSE/);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  }, 120_000);

  it('kai-jobs-monitor: a failed start is reported through its own alerter, installed process-wide', async () => {
    const result = await runBin(MONITOR_BIN, {
      REDIS_URL: `redis://127.0.0.1:${await deadPort()}`,
      KAI_PREFIX: ctx.prefix,
      SENTRY_DSN: sentry.dsn,
    });
    expect(result.code, result.output).toBe(1);
    const events = eventsOf('kai-monitor');
    expect(events, result.output).toHaveLength(1);
    expect(events[0]?.level).toBe('fatal');
  }, 120_000);

  it('kai-jobs-worker: a failed start arrives as one fatal event tagged service=kai-worker; without SENTRY_DSN nothing is sent', async () => {
    const redisUrl = `redis://127.0.0.1:${await deadPort()}`;
    const result = await runBin(WORKER_BIN, { REDIS_URL: redisUrl, KAI_PREFIX: ctx.prefix, SENTRY_DSN: sentry.dsn, SENTRY_ENVIRONMENT: 'entry-test' });
    expect(result.code, result.output).toBe(1);
    const events = eventsOf('kai-worker');
    expect(events, result.output).toHaveLength(1);
    expect(events[0]?.level).toBe('fatal');
    expect(events[0]?.environment).toBe('entry-test');
    expect(events[0]?.exception?.values?.[0]?.value).toMatch(/127\.0\.0\.1/);
    const before = sentry.events.length;
    const quiet = await runBin(WORKER_BIN, { REDIS_URL: redisUrl, KAI_PREFIX: ctx.prefix });
    expect(quiet.code, quiet.output).toBe(1);
    expect(sentry.events.length).toBe(before);
  }, 120_000);
});
