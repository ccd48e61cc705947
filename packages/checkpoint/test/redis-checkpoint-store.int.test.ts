import { RedisStatusStore, type RedisClient } from '@kai-jobs/queue';
import { deleteKeys, testPrefix, testRedisConnection } from '@kai-jobs/queue/testing';
import { checkpointKeys, RedisCheckpointStore } from '../src/index.js';
import { runCheckpointStoreContract } from '../src/testing.js';

const prefixes = new WeakMap<object, { redis: RedisClient; prefix: string }>();

runCheckpointStoreContract('redis', {
  async setup() {
    const redis = testRedisConnection();
    const prefix = testPrefix(import.meta.url, `contract-${Math.random()}`);
    const checkpointStore = new RedisCheckpointStore({ connection: redis, prefix });
    prefixes.set(checkpointStore, { redis, prefix });
    return {
      statusStore: new RedisStatusStore({ connection: redis, prefix }),
      checkpointStore,
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
