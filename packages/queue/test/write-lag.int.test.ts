import { describe, expect, it } from 'vitest';
import { writeLagKey, WriteLagRegistry } from '../src/index.js';
import { useRedisTestContext } from '../src/testing.js';

const ctx = useRedisTestContext(import.meta.url);

describe('WriteLagRegistry', () => {
  it('publishes each worker\'s lag under <prefix>:workers:write-lag, stamped with Redis\' clock', async () => {
    const registry = new WriteLagRegistry({ connection: ctx.connection(), prefix: ctx.prefix });
    expect(registry.key).toBe(`${ctx.prefix}:workers:write-lag`);
    expect(writeLagKey('kai')).toBe('kai:workers:write-lag');
    await registry.publish('w1', { pendingJobs: 3, oldestPendingMs: 1234.6 });
    await registry.publish('w2', { pendingJobs: 0, oldestPendingMs: 0 });
    const [seconds] = await ctx.redis.time();
    const stored = JSON.parse((await ctx.redis.hget(registry.key, 'w1')) as string) as { at: number };
    expect(Math.abs(stored.at - Number(seconds) * 1000)).toBeLessThan(2000);
    const read = await registry.read();
    expect(read.map(({ workerId, pendingJobs, oldestPendingMs }) => ({ workerId, pendingJobs, oldestPendingMs }))).toEqual([
      { workerId: 'w1', pendingJobs: 3, oldestPendingMs: 1235 },
      { workerId: 'w2', pendingJobs: 0, oldestPendingMs: 0 },
    ]);
    expect(read.every((lag) => lag.ageMs >= 0 && lag.ageMs < 2000)).toBe(true);
  });

  it('isBehind: a fresh report with pending writes; not a stale one, an empty one or none', async () => {
    const registry = new WriteLagRegistry({ connection: ctx.connection(), prefix: ctx.prefix });
    await registry.publish('busy', { pendingJobs: 2, oldestPendingMs: 5000 });
    await registry.publish('idle', { pendingJobs: 0, oldestPendingMs: 0 });
    expect(await registry.isBehind('busy', 60_000)).toBe(true);
    expect(await registry.isBehind('idle', 60_000)).toBe(false);
    expect(await registry.isBehind('unknown', 60_000)).toBe(false);
    // A worker that died with a backlog: its last report ages out.
    const stored = JSON.parse((await ctx.redis.hget(registry.key, 'busy')) as string) as { at: number };
    await ctx.redis.hset(registry.key, 'busy', JSON.stringify({ ...stored, at: stored.at - 120_000 }));
    expect(await registry.isBehind('busy', 60_000)).toBe(false);
    await ctx.redis.hset(registry.key, 'broken', 'not json');
    expect(await registry.isBehind('broken', 60_000)).toBe(false);
    expect((await registry.read()).map((lag) => lag.workerId)).toEqual(['busy', 'idle']);
    await registry.remove('busy');
    expect(await ctx.redis.hexists(registry.key, 'busy')).toBe(0);
  });

  it('refuses a malformed report', async () => {
    const registry = new WriteLagRegistry({ connection: ctx.connection(), prefix: ctx.prefix });
    await expect(registry.publish('w1', { pendingJobs: -1, oldestPendingMs: Number.NaN })).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringMatching(/pendingJobs.*\n.*oldestPendingMs/),
    });
    expect(await ctx.redis.exists(registry.key)).toBe(0);
  });
});
