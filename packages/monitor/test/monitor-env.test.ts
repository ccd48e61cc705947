import { describe, expect, it } from 'vitest';
import { parseMonitorEnv } from '../src/entry/monitor-env.js';

describe('parseMonitorEnv: Redis', () => {
  it('reads REDIS_CLUSTER_NODES into clusterNodes; unset means a single Redis', () => {
    expect(parseMonitorEnv({}).redis.clusterNodes).toEqual([]);
    const { redis } = parseMonitorEnv({ REDIS_URL: 'redis://10.0.0.5:6379', REDIS_CLUSTER_NODES: '10.0.0.5:6379 10.0.0.7:6379' });
    expect(redis).toMatchObject({ url: 'redis://10.0.0.5:6379', clusterNodes: ['10.0.0.5:6379', '10.0.0.7:6379'] });
    expect(() => parseMonitorEnv({ REDIS_CLUSTER_NODES: 'nope' })).toThrow(/REDIS_CLUSTER_NODES: "nope" is not host:port/);
  });
});
