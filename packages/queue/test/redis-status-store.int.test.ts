import { describe, expect, it } from 'vitest';
import { jobCatalog, RedisJobStore, type StatusStore } from '../src/index.js';
import { runAlertOutboxContract, runStatusStoreContract, type StatusStoreContractHarness, useRedisTestContext, testPrefix, deleteKeys, scanKeys, testRedisConnection } from '../src/testing.js';
import type { RedisClient } from '../src/index.js';

/** Backdates a Redis row's times and its index scores together. */
async function backdate(
  redis: RedisClient,
  store: RedisJobStore,
  id: string,
  change: { heartbeatMs?: number; updateMs?: number },
): Promise<void> {
  const row = await store.get(id);
  if (row === null) throw new Error(`no row ${id}`);
  const keys = store.keys(row.type);
  if (change.heartbeatMs !== undefined && row.lastHeartbeat !== null) {
    const at = row.lastHeartbeat - change.heartbeatMs;
    await redis.hset(keys.row(id), 'last_heartbeat', at);
    await redis.zadd(keys.heartbeatIndex, 'XX', at, id);
  }
  if (change.updateMs !== undefined) {
    const at = row.updatedAt - change.updateMs;
    await redis.hset(keys.row(id), 'updated_at', at);
    await redis.zadd(keys.updateIndex, 'XX', at, id);
  }
}

const stores = new WeakMap<StatusStore, { redis: RedisClient; prefix: string }>();

const harness: StatusStoreContractHarness = {
  async setup() {
    const redis = testRedisConnection();
    const prefix = testPrefix(import.meta.url, `contract-${Math.random()}`);
    const store = new RedisJobStore({ connection: redis, prefix });
    stores.set(store, { redis, prefix });
    return {
      store,
      async cleanup() {
        await deleteKeys(redis, prefix);
        await redis.quit();
      },
    };
  },
  async backdate(store, id, change) {
    const entry = stores.get(store);
    if (entry === undefined) throw new Error('unknown store');
    await backdate(entry.redis, store as RedisJobStore, id, change);
  },
  async linkedRow(store, backgroundJobId) {
    return (store as RedisJobStore).linkedJob(backgroundJobId);
  },
};
runStatusStoreContract('redis', harness);
runAlertOutboxContract('redis', harness);

describe('RedisJobStore specifics', () => {
  const ctx = useRedisTestContext(import.meta.url);

  it('puts every key of a queue under its {hash-tag}, so scripts work on Redis Cluster', async () => {
    const store = new RedisJobStore({ connection: ctx.redis, prefix: ctx.prefix });
    const { row } = await store.create({ id: 'job-1', type: 'xml-import', payload: {}, idempotencyKey: 'feed-1' });
    await store.markProcessing(row.id, { fence: 'f', workerId: 'w' });
    const keys = await scanKeys(ctx.redis, `${ctx.prefix}:*`);
    expect(keys.length).toBeGreaterThan(4);
    for (const key of keys) expect(key.startsWith(`${ctx.prefix}:{xml-import}:`)).toBe(true);
  });

  it('keeps a linked background_jobs row under the session\'s hash tag, one script per change, expiring with the finished row', async () => {
    const store = new RedisJobStore({ connection: ctx.redis, prefix: ctx.prefix, retention: { finishedRetentionMs: 60_000 } });
    const { row } = await store.create({ id: 's1', type: 'scrape', payload: {}, refs: { sessionId: 's1', backgroundJobId: 'bg-1' } });
    const linkedKey = store.keys('scrape').backgroundJob('bg-1');
    expect(linkedKey).toBe(`${ctx.prefix}:{${jobCatalog.scrape.queueName}}:background-job:bg-1`);
    expect(await ctx.redis.pttl(linkedKey)).toBe(-1);
    // The row carries the link under the platform's column name.
    expect(await ctx.redis.hget(store.keys('scrape').row('s1'), 'background_job_id')).toBe('bg-1');

    // Missing (lost, or deleted by hand): the next change rebuilds it whole, as the Supabase
    // trigger's upsert creates a linked row that does not exist.
    await ctx.redis.del(linkedKey);
    await store.markProcessing(row.id, { fence: 'f', workerId: 'w1' });
    expect(await store.linkedJob('bg-1')).toMatchObject({ status: 'processing', createdAt: row.createdAt, refs: { sessionId: 's1' } });
    await ctx.redis.del(linkedKey);
    await store.heartbeat([{ id: 's1', type: 'scrape', fence: 'f' }]);
    expect(await store.linkedJob('bg-1')).toMatchObject({ status: 'processing', attempt: 1, workerId: 'w1', createdAt: row.createdAt });

    // Written by someone else first: its created_at and other refs stay, as the trigger keeps them.
    await ctx.redis.del(linkedKey);
    await ctx.redis.hset(linkedKey, 'id', 'bg-1', 'created_at', 1000, 'refs', JSON.stringify({ sessionId: 'old', platform: 'x' }));
    await store.progress(row.id, 'f', { percent: 50 });
    expect(await store.linkedJob('bg-1')).toMatchObject({ progress: 50, createdAt: 1000, refs: { sessionId: 's1', platform: 'x' } });

    await store.fail(row.id, 'f', 'blocked by robots.txt');
    const rowTtl = await ctx.redis.pttl(store.keys('scrape').row('s1'));
    const linkedTtl = await ctx.redis.pttl(linkedKey);
    expect(rowTtl).toBeGreaterThan(50_000);
    expect(Math.abs(linkedTtl - rowTtl)).toBeLessThan(1000);
    expect(await store.linkedJob('bg-1')).toMatchObject({ status: 'failed', error: 'blocked by robots.txt' });
  });

  it('links no background_jobs row to a PDF job: the PDF job\'s own row is one', async () => {
    const store = new RedisJobStore({ connection: ctx.redis, prefix: ctx.prefix });
    await store.create({ id: 'p1', type: 'pdf', payload: {}, refs: { documentId: 'd1', backgroundJobId: 'bg-2' } });
    await store.markProcessing('p1', { fence: 'f', workerId: 'w' });
    await store.complete('p1', 'f', {});
    expect(await store.linkedJob('bg-2')).toBeNull();
    expect(await scanKeys(ctx.redis, `${ctx.prefix}:*background-job:*`)).toEqual([]);
  });

  it('finds stale rows from the index without reading the healthy ones', async () => {
    const store = new RedisJobStore({ connection: ctx.redis, prefix: ctx.prefix });
    const inputs = Array.from({ length: 500 }, (_, i) => ({ id: `j${i}`, type: 'pdf' as const, payload: {} }));
    await store.createMany(inputs);
    for (const input of inputs.slice(0, 3)) {
      await store.markProcessing(input.id, { fence: 'f', workerId: 'w' });
      await backdate(ctx.redis, store, input.id, { updateMs: 600_000 });
    }
    // Pending rows are "fresh" (just created); only the 3 backdated ones are stale.
    const monitorConnection = ctx.connection();
    const monitorStore = new RedisJobStore({ connection: monitorConnection, prefix: ctx.prefix });
    // Warm up: connection handshake and script loading are not part of a query.
    await monitorStore.findStale('pdf', { heartbeatOlderThanMs: 900_000, updateOlderThanMs: 300_000 });
    const commands: string[] = [];
    const original = monitorConnection.sendCommand.bind(monitorConnection);
    monitorConnection.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
      commands.push(command.name);
      return (original as (...args: unknown[]) => unknown)(command, ...rest);
    }) as typeof monitorConnection.sendCommand;
    const stale = await monitorStore.findStale('pdf', { heartbeatOlderThanMs: 900_000, updateOlderThanMs: 300_000 });
    expect(stale.map((c) => c.row.id).sort()).toEqual(['j0', 'j1', 'j2']);
    // One script call that returns the stale rows too: nothing proportional to the 500 rows.
    expect(commands).toEqual(['evalsha']);
    await monitorConnection.quit();
  });

  it('returns each stale row as it was when found stale, not as a newer attempt left it', async () => {
    // Chaos scenario 2 (Redis restart): the rows used to be read in a second round trip; an
    // attempt that started in between came back with its fresh fence and the old attempt's
    // age, and the monitor's compare-and-set then failed the new attempt as stuck.
    const store = new RedisJobStore({ connection: ctx.redis, prefix: ctx.prefix });
    await store.create({ id: 'j1', type: 'pdf', payload: {} });
    await store.markProcessing('j1', { fence: 'old-attempt', workerId: 'w1' });
    await backdate(ctx.redis, store, 'j1', { heartbeatMs: 600_000 });
    const monitorConnection = ctx.connection();
    const monitorStore = new RedisJobStore({ connection: monitorConnection, prefix: ctx.prefix });
    await monitorStore.findStale('pdf', { heartbeatOlderThanMs: 1, updateOlderThanMs: null });
    // A new attempt claims the row right after the index was read, before findStale goes on.
    const original = monitorConnection.sendCommand.bind(monitorConnection);
    monitorConnection.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
      const sent = (original as (...args: unknown[]) => Promise<unknown>)(command, ...rest);
      if (command.name !== 'evalsha') return sent;
      return sent.then(async (reply) => {
        await store.markProcessing('j1', { fence: 'new-attempt', workerId: 'w2' });
        return reply;
      });
    }) as typeof monitorConnection.sendCommand;

    const [candidate] = await monitorStore.findStale('pdf', { heartbeatOlderThanMs: 300_000, updateOlderThanMs: null });
    expect(candidate?.row.fence).toBe('old-attempt');
    expect(candidate?.row.workerId).toBe('w1');
    expect(candidate?.storeNow).toBe((candidate?.row.lastHeartbeat ?? 0) + (candidate?.ageMs ?? 0));
    // The compare-and-set on what the monitor saw now fails: the new attempt is left alone.
    const outcome = await monitorStore.recover('j1', {
      expectedFence: candidate?.row.fence ?? null,
      expectedRestartCount: candidate?.row.restartCount ?? 0,
      action: 'fail',
      error: 'stuck',
      history: { event: 'recovery:failed' },
    });
    expect(outcome.applied).toBe(false);
    expect((await store.get('j1'))?.status).toBe('processing');
    monitorConnection.sendCommand = original;
    await monitorConnection.quit();
  });

  it('expires finished rows, their history and idempotency key after the retention', async () => {
    const store = new RedisJobStore({ connection: ctx.redis, prefix: ctx.prefix, retention: { finishedRetentionMs: 60_000 } });
    const { row } = await store.create({ id: 'r1', type: 'pdf', payload: {}, idempotencyKey: 'once' });
    await store.markProcessing(row.id, { fence: 'f', workerId: 'w' });
    await store.complete(row.id, 'f', {});
    const keys = store.keys('pdf');
    for (const key of [keys.row('r1'), keys.history('r1'), keys.idempotency('once')]) {
      const ttl = await ctx.redis.pttl(key);
      expect(ttl).toBeGreaterThan(50_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
    }
    expect(await ctx.redis.zscore(keys.updateIndex, 'r1')).toBeNull();
    expect(await ctx.redis.zscore(keys.heartbeatIndex, 'r1')).toBeNull();
  });

  it('judges ages by Redis TIME, not the caller clock', async () => {
    const store = new RedisJobStore({ connection: ctx.redis, prefix: ctx.prefix });
    const [seconds, micros] = await ctx.redis.time();
    const redisNow = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    const storeNow = await store.now();
    expect(Math.abs(storeNow - redisNow)).toBeLessThan(1000);
  });
});
