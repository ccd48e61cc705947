/**
 * Setup of every `pnpm test:cluster` file: the run must really be on a Redis Cluster. Without
 * this, a lost `REDIS_CLUSTER_NODES` would let the suites pass against a single Redis.
 */
import { beforeAll } from 'vitest';
import { Cluster } from 'ioredis';
import { closeRedis } from '@kai-jobs/queue';
import { testClusterNodes, testRedisConnection } from '@kai-jobs/queue/testing';

beforeAll(async () => {
  if (testClusterNodes().length === 0) throw new Error('the cluster run needs REDIS_CLUSTER_NODES (see scripts/redis-cluster.sh)');
  const redis = testRedisConnection();
  try {
    if (!(redis instanceof Cluster)) throw new Error('testRedisConnection() did not open a Cluster client');
    const info = await redis.cluster('INFO');
    if (!/cluster_state:ok/.test(info)) throw new Error(`the Redis Cluster is not ok:\n${info}`);
    if (redis.nodes('master').length < 2) throw new Error(`expected several primaries, found ${redis.nodes('master').length}`);
  } finally {
    await closeRedis(redis);
  }
});
