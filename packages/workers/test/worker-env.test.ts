import { describe, expect, it } from 'vitest';
import { parseWorkerEnv } from '../src/entry/worker-env.js';

describe('parseWorkerEnv: Redis', () => {
  it('reads REDIS_CLUSTER_NODES into clusterNodes; unset means a single Redis', () => {
    expect(parseWorkerEnv({}).redis.clusterNodes).toEqual([]);
    const { redis } = parseWorkerEnv({ REDIS_URL: 'redis://10.0.0.5:6379', REDIS_CLUSTER_NODES: '10.0.0.5:6379,10.0.0.6:6379' });
    expect(redis).toMatchObject({ url: 'redis://10.0.0.5:6379', clusterNodes: ['10.0.0.5:6379', '10.0.0.6:6379'] });
  });

  it('refuses a malformed node or a database other than 0 on a cluster, naming the variables', () => {
    expect(() => parseWorkerEnv({ REDIS_CLUSTER_NODES: '10.0.0.5' })).toThrow(/REDIS_CLUSTER_NODES.*"10.0.0.5" is not host:port/);
    expect(() => parseWorkerEnv({ REDIS_URL: 'redis://h:1/3', REDIS_CLUSTER_NODES: 'h:1' })).toThrow(/only database 0/);
  });
});
