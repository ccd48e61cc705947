import { describe, expect, it } from 'vitest';
import {
  createMemoryLogger,
  durationBucketIndex,
  metricsKeys,
  minuteOf,
  RedisMetricsRecorder,
  type Clock,
  type RedisClient,
} from '../src/index.js';
import { expectErrorNamed, useRedisTestContext } from '../src/testing.js';

/** A clock the test moves by hand. */
function manualClock(startMs: number): Clock & { set(ms: number): void } {
  let now = startMs;
  return {
    now: () => now,
    sleep: () => Promise.resolve(),
    set(ms) {
      now = ms;
    },
  };
}

/** Counts the transactions a connection sends (wraps the real `multi`; every command still reaches Redis). */
function countTransactions(redis: RedisClient): { count: () => number } {
  let count = 0;
  const original = redis.multi.bind(redis) as (...args: unknown[]) => ReturnType<RedisClient['multi']>;
  (redis as unknown as { multi: (...args: unknown[]) => unknown }).multi = (...args: unknown[]) => {
    count += 1;
    return original(...args);
  };
  return { count: () => count };
}

describe('RedisMetricsRecorder', () => {
  const ctx = useRedisTestContext(import.meta.url);
  const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

  it('batch "tick": the calls of one event-loop turn share one transaction, written right after it', async () => {
    const redis = ctx.connection();
    const transactions = countTransactions(redis);
    const clock = manualClock(T0 + 5_000);
    const recorder = new RedisMetricsRecorder({ connection: redis, prefix: ctx.prefix, clock, batch: 'tick' });
    const keys = metricsKeys(ctx.prefix);
    // Three jobs finish in one turn: counts, durations and gap samples of all three.
    await Promise.all([
      recorder.jobCompleted('pdf', 1_500),
      recorder.jobCompleted('pdf', 2_500),
      recorder.updateGaps('pdf', { maxUpdateGapMs: 10, maxHeartbeatGapMs: 20 }),
      recorder.updateGaps('pdf', { maxUpdateGapMs: 30 }),
      recorder.jobFailed('scrape', 'crawl'),
    ]);
    expect(transactions.count()).toBe(0);
    await new Promise<void>((resolve) => setImmediate(resolve));
    await recorder.flush();
    expect(transactions.count()).toBe(1);
    expect(await ctx.redis.hgetall(keys.totals('pdf'))).toMatchObject({ completed: '2', duration_sum_ms: '4000' });
    expect(await ctx.redis.hget(keys.bucket('pdf', minuteOf(T0)), 'completed')).toBe('2');
    expect(await ctx.redis.hget(keys.totals('scrape'), 'failed')).toBe('1');
    expect(await ctx.redis.llen(keys.gapSamples('pdf'))).toBe(2);
    expect(await ctx.redis.pttl(keys.bucket('pdf', minuteOf(T0)))).toBeGreaterThan(0);
    // Nothing pending: flush sends nothing.
    await recorder.flush();
    expect(transactions.count()).toBe(1);
  });

  it('writes per-minute buckets and totals, each call one transaction, with the retention as TTL', async () => {
    const redis = ctx.connection();
    const transactions = countTransactions(redis);
    const clock = manualClock(T0 + 5_000);
    const recorder = new RedisMetricsRecorder({ connection: redis, prefix: ctx.prefix, clock, retentionMs: 3_600_000 });
    await recorder.jobCompleted('pdf', 1_500);
    await recorder.jobCompleted('pdf', 2_500);
    await recorder.jobFailed('pdf', 'tiles_generated');
    await recorder.jobFailed('pdf', null);
    clock.set(T0 + 65_000);
    await recorder.jobStuck('pdf', 'update_timeout');
    await recorder.recovery('pdf', 'restarted');
    await recorder.stalled('pdf');
    await recorder.failover('pdf', 'host-a:123:ab');
    expect(transactions.count()).toBe(8);

    const keys = metricsKeys(ctx.prefix);
    const first = await ctx.redis.hgetall(keys.bucket('pdf', minuteOf(T0)));
    expect(first).toEqual({
      completed: '2',
      duration_sum_ms: '4000',
      [`duration_bucket:${durationBucketIndex(1_500)}`]: '1',
      [`duration_bucket:${durationBucketIndex(2_500)}`]: '1',
      failed: '2',
      'failed_by_stage:tiles_generated': '1',
      'failed_by_stage:unknown': '1',
    });
    const second = await ctx.redis.hgetall(keys.bucket('pdf', minuteOf(T0) + 1));
    expect(second).toEqual({
      stuck: '1',
      'stuck_by_reason:update_timeout': '1',
      'recovery:restarted': '1',
      stalled: '1',
      failover: '1',
      'failover_by_worker:host-a:123:ab': '1',
    });
    const totals = await ctx.redis.hgetall(keys.totals('pdf'));
    expect(totals).toMatchObject({ completed: '2', failed: '2', stuck: '1', failover: '1' });
    // Per-worker counts stay out of the never-expiring totals (worker ids are unbounded over time).
    expect(Object.keys(totals).some((field) => field.startsWith('failover_by_worker:'))).toBe(false);
    expect(await ctx.redis.pttl(keys.totals('pdf'))).toBe(-1);
    const ttl = await ctx.redis.pttl(keys.bucket('pdf', minuteOf(T0)));
    expect(ttl).toBeGreaterThan(3_500_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000);
  });

  it('keeps a capped list of gap samples, newest first', async () => {
    const clock = manualClock(T0);
    const recorder = new RedisMetricsRecorder({ connection: ctx.redis, prefix: ctx.prefix, clock, gapSampleLimit: 10 });
    for (let i = 0; i < 15; i += 1) {
      clock.set(T0 + i);
      await recorder.updateGaps('xml-import', { maxUpdateGapMs: 100 + i, maxHeartbeatGapMs: i % 2 === 0 ? 30_000 : null });
    }
    const entries = await ctx.redis.lrange(metricsKeys(ctx.prefix).gapSamples('xml-import'), 0, -1);
    expect(entries).toHaveLength(10);
    expect(entries[0]).toBe(`${T0 + 14}|114|30000`);
    expect(entries[9]).toBe(`${T0 + 5}|105|`);
  });

  it('rejects programming errors but swallows and logs Redis failures', async () => {
    const recorder = new RedisMetricsRecorder({ connection: ctx.redis, prefix: ctx.prefix });
    await expectErrorNamed(recorder.jobCompleted('pdf', -1), 'ValidationError');
    await expectErrorNamed(recorder.jobCompleted('nope' as 'pdf', 1), 'ValidationError');
    await expectErrorNamed(recorder.recovery('pdf', 'maybe' as 'restarted'), 'ValidationError');

    const broken = ctx.connection();
    await broken.quit();
    const logger = createMemoryLogger();
    const offline = new RedisMetricsRecorder({ connection: broken, prefix: ctx.prefix, logger });
    await expect(offline.jobCompleted('pdf', 10)).resolves.toBeUndefined();
    expect(logger.lines).toEqual([
      expect.objectContaining({ level: 'warn', message: 'metrics write failed; the count is lost' }),
    ]);
  });
});
