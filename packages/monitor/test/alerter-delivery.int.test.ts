import { createMemoryLogger } from '@kai-jobs/queue';
import { useRedisTestContext, waitFor } from '@kai-jobs/queue/testing';
import { describe, expect, it } from 'vitest';
import { Alerter, RedisAlertDedupeStore } from '../src/index.js';
import { startSentryReceiver, startUnresponsiveServer } from '../src/testing.js';
import { statusRow } from './fixtures/rows.js';

describe('Alerter delivery', () => {
  const ctx = useRedisTestContext(import.meta.url);

  it('sends one event when two replicas raise the same alert concurrently (Redis dedupe)', async () => {
    const receiver = ctx.manage('receiver', await startSentryReceiver());
    const replicas = [0, 1].map(
      (i) =>
        new Alerter({
          dsn: receiver.dsn,
          serverName: `monitor-${i}`,
          dedupeStore: new RedisAlertDedupeStore({ connection: ctx.connection(), prefix: ctx.prefix }),
        }),
    );
    const row = statusRow();
    const input = { kind: 'stuck-job', row, reason: 'update_timeout', stuckForMs: 6 * 60_000 } as const;
    // Five ticks' worth of retries on each replica, all at once.
    const outcomes = await Promise.all(replicas.flatMap((alerter) => Array.from({ length: 5 }, () => alerter.alert(input))));
    expect(outcomes.filter((o) => o.status === 'sent')).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === 'duplicate')).toHaveLength(9);
    // Closing flushes everything pending, so a second event would have arrived by now.
    await Promise.all(replicas.map((alerter) => alerter.close()));
    expect(receiver.events).toHaveLength(1);
    expect(receiver.events[0]?.fingerprint).toEqual(['stuck-job', 'update_timeout']);

    const key = `${ctx.prefix}:alerts:dedupe:stuck-job:job-1:2:update_timeout`;
    expect(await ctx.redis.exists(key)).toBe(1);
    const ttl = await ctx.redis.pttl(key);
    expect(ttl).toBeGreaterThan(6 * 24 * 3_600_000);

    // Another attempt of the same job is a new alert.
    const next = new Alerter({
      dsn: receiver.dsn,
      dedupeStore: new RedisAlertDedupeStore({ connection: ctx.redis, prefix: ctx.prefix }),
    });
    expect((await next.alert({ ...input, attempt: 3 })).status).toBe('sent');
    await receiver.waitForEvents(2);
    await next.close();
  });

  it('never slows the caller when Sentry accepts connections and never answers', async () => {
    const blackhole = ctx.manage('unresponsive server', await startUnresponsiveServer());
    const logger = createMemoryLogger();
    const alerter = new Alerter({ dsn: blackhole.dsn, logger, sendTimeoutMs: 10_000, flushTimeoutMs: 200 });
    const started = performance.now();
    for (let i = 0; i < 10; i += 1) {
      const outcome = await alerter.alert({ kind: 'stuck-job', row: statusRow({ id: `job-${i}` }), reason: 'update_timeout', stuckForMs: 1 });
      expect(outcome.status).toBe('sent');
      alerter.captureException(new Error(`failure ${i}`), { tags: { n: i } });
    }
    const elapsedMs = performance.now() - started;
    // 20 captures: each only queues the event. Generous bound for a shared, noisy CI machine.
    expect(elapsedMs).toBeLessThan(1000);
    // The SDK did try to deliver (so the bound above is not just "nothing happened").
    await waitFor(() => blackhole.connections() > 0, { message: 'the SDK never connected' });
    // Shutdown is bounded by flushTimeoutMs: the events are still pending, so it reports false.
    expect(await alerter.close()).toBe(false);
    // After close, alerts still succeed — to the log.
    const late = await alerter.alert({ kind: 'stuck-job', row: statusRow({ id: 'job-late' }), reason: 'lost', stuckForMs: 1 });
    expect(late.status).toBe('logged');
    expect(logger.lines.some((line) => line.message === 'alert: Stuck PDF job detected: job-late (lost)')).toBe(true);
  });

  it('gives up on a request after sendTimeoutMs, so flush() completes while Sentry stays silent', async () => {
    const blackhole = ctx.manage('unresponsive server', await startUnresponsiveServer());
    const alerter = new Alerter({ dsn: blackhole.dsn, sendTimeoutMs: 150, flushTimeoutMs: 5_000 });
    alerter.captureMessage('into the void', 'warning');
    await waitFor(() => blackhole.connections() > 0);
    // The request is destroyed at its deadline; the queue drains well before flushTimeoutMs.
    expect(await alerter.flush()).toBe(true);
    await alerter.close();
  });
});
