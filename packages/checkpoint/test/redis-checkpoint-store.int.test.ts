import { describe, expect, it } from 'vitest';
import { RedisJobStore, type RedisClient } from '@kai-jobs/queue';
import { deleteKeys, testPrefix, testRedisConnection, useRedisTestContext } from '@kai-jobs/queue/testing';
import { checkpointKeys } from '../src/index.js';
import { runCheckpointStoreContract } from '../src/testing.js';

const prefixes = new WeakMap<object, { redis: RedisClient; prefix: string }>();

runCheckpointStoreContract('redis', {
  async setup() {
    const redis = testRedisConnection();
    const prefix = testPrefix(import.meta.url, `contract-${Math.random()}`);
    const store = new RedisJobStore({ connection: redis, prefix });
    prefixes.set(store, { redis, prefix });
    return {
      store,
      async cleanup() {
        await deleteKeys(redis, prefix);
        await redis.quit();
      },
    };
  },
  async tamper(store, job, stage, mutate) {
    const entry = prefixes.get(store);
    if (entry === undefined) throw new Error('unknown store');
    const key = checkpointKeys(entry.prefix, job.type).checkpoints(job.id);
    const data = await entry.redis.hget(key, `${stage}#data`);
    await entry.redis.hset(key, `${stage}#data`, mutate(data ?? ''));
  },
});

describe('RedisJobStore checkpoints and a linked background_jobs row', () => {
  const ctx = useRedisTestContext(import.meta.url);

  it('a checkpoint\'s progress and completeWithCheckpoint move the linked row of a session in the same script', async () => {
    const store = new RedisJobStore({ connection: ctx.redis, prefix: ctx.prefix });
    const job = { id: 'sess-1', type: 'scrape' as const };
    await store.create({ ...job, payload: {}, refs: { sessionId: job.id, backgroundJobId: 'bg-7' } });
    await store.markProcessing(job.id, { fence: 'f', workerId: 'w1' });
    const base = { fence: 'f', schemaVersion: 1, attempt: 1 };
    await store.saveCheckpoint(job, { ...base, stage: 'discover', stageIndex: 0, data: { urls: 3 }, progress: { nextStage: 'crawl', percent: 30 } });
    expect(await store.linkedJob('bg-7')).toMatchObject({ status: 'processing', progress: 30, currentStage: 'crawl' });
    await store.completeWithCheckpoint(job, { ...base, stage: 'crawl', stageIndex: 1, data: { pages: 3 } }, { pages: 3 });
    const row = await store.get(job.id);
    expect(row?.status).toBe('completed');
    expect(await store.linkedJob('bg-7')).toMatchObject({
      status: 'completed',
      progress: 100,
      completedAt: row?.completedAt,
      refs: { sessionId: job.id },
    });
  });
});
