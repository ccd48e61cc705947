import { describe, expect, it } from 'vitest';
import { RedisJobStore, RedisWorkerRegistryStore, workerRegistryKeys, type WorkerRegistryEntry } from '../src/index.js';
import { expectErrorNamed, useRedisTestContext } from '../src/testing.js';

const entry = (workerId: string): WorkerRegistryEntry => ({
  workerId,
  clientName: `kai-worker:${workerId}`,
  host: 'h',
  pid: 7,
  startedAt: 1,
  queues: ['pdf-processing'],
  bullWorkerIds: ['b1'],
  lockTokenPrefixes: ['b1:'],
});

describe('RedisWorkerRegistryStore', () => {
  const ctx = useRedisTestContext(import.meta.url);

  it('registers, heartbeats with the store clock, reads back, and removes', async () => {
    const store = new RedisWorkerRegistryStore({ connection: ctx.redis, prefix: ctx.prefix });
    const clock = new RedisJobStore({ connection: ctx.redis, prefix: ctx.prefix });
    const before = await clock.now();
    const registeredAt = await store.register(entry('w1'));
    expect(registeredAt).toBeGreaterThanOrEqual(before);
    const snapshot = await store.read();
    expect(snapshot.entries.get('w1')).toEqual(entry('w1'));
    expect(snapshot.heartbeats.get('w1')).toBe(registeredAt);
    expect(snapshot.invalid).toEqual([]);

    await store.remove('w1');
    expect((await store.read()).entries.size).toBe(0);
    // A heartbeat puts a removed entry back (the process is alive after all).
    const beat = await store.heartbeat(entry('w1'));
    expect(beat).toBeGreaterThanOrEqual(registeredAt);
    expect((await store.read()).entries.get('w1')).toEqual(entry('w1'));
  });

  it('reports unreadable entries instead of failing, and refuses to register a bad entry', async () => {
    const store = new RedisWorkerRegistryStore({ connection: ctx.redis, prefix: ctx.prefix });
    const keys = workerRegistryKeys(ctx.prefix);
    expect(keys).toEqual({ registry: `${ctx.prefix}:workers:registry`, heartbeats: `${ctx.prefix}:workers:heartbeats` });
    await ctx.redis.hset(keys.registry, 'broken', '{not json', 'other-id', JSON.stringify(entry('someone-else')));
    await store.register(entry('ok'));
    const snapshot = await store.read();
    expect([...snapshot.entries.keys()]).toEqual(['ok']);
    expect(snapshot.invalid.sort()).toEqual(['broken', 'other-id']);
    await expectErrorNamed(store.register({ ...entry('bad'), lockTokenPrefixes: [''] }), 'ValidationError');
  });
});
