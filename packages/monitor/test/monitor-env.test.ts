import { describe, expect, it } from 'vitest';
import { parseMonitorEnv } from '../src/index.js';

describe('parseMonitorEnv', () => {
  it('maps the environment onto the monitor options, catalog defaults otherwise', () => {
    const config = parseMonitorEnv({
      MONITOR_CHECK_INTERVAL_MS: '15000',
      MONITOR_AUTO_RESTART: 'false',
      MONITOR_MAX_RESTARTS: '5',
      PDF_UPDATE_TIMEOUT_MS: '120000',
      SENTRY_DSN: 'http://publickey@127.0.0.1:9/1',
      FAILOVER_GRACE_MS: '2500',
    });
    expect(config.monitor.failover).toEqual({ enabled: true, graceMs: 2500 });
    expect(parseMonitorEnv({ FAILOVER_ENABLED: 'false' }).monitor.failover).toEqual({ enabled: false });
    expect(config.monitor).toMatchObject({
      checkIntervalMs: 15_000,
      autoRestart: false,
      types: { pdf: { maxRestarts: 5, updateTimeoutMs: 120_000 }, scrape: { maxRestarts: 5 } },
    });
    expect(config.sentry).toEqual({ dsn: 'http://publickey@127.0.0.1:9/1', environment: 'production', release: undefined });
    expect(config.stores).toEqual({ kind: 'redis' });
    expect(parseMonitorEnv({}).sentry.dsn).toBeUndefined();
  });

  it('refuses malformed values with the variable name', () => {
    expect(() => parseMonitorEnv({ MONITOR_CHECK_INTERVAL_MS: 'soon' })).toThrow(/MONITOR_CHECK_INTERVAL_MS must be a whole number/);
    expect(() => parseMonitorEnv({ MONITOR_AUTO_RESTART: 'yes' })).toThrow(/MONITOR_AUTO_RESTART/);
    expect(() => parseMonitorEnv({ REDIS_URL: 'localhost' })).toThrow(/not a URL|scheme/);
  });
});

describe('parseMonitorEnv: Redis', () => {
  it('reads REDIS_CLUSTER_NODES into clusterNodes; unset means a single Redis', () => {
    expect(parseMonitorEnv({}).redis.clusterNodes).toEqual([]);
    const { redis } = parseMonitorEnv({ REDIS_URL: 'redis://10.0.0.5:6379', REDIS_CLUSTER_NODES: '10.0.0.5:6379 10.0.0.7:6379' });
    expect(redis).toMatchObject({ url: 'redis://10.0.0.5:6379', clusterNodes: ['10.0.0.5:6379', '10.0.0.7:6379'] });
    expect(() => parseMonitorEnv({ REDIS_CLUSTER_NODES: 'nope' })).toThrow(/REDIS_CLUSTER_NODES: "nope" is not host:port/);
  });
});

describe('parseMonitorEnv: retention', () => {
  it('passes KAI_RETENTION_* to the stores the monitor opens, and names a bad variable', () => {
    const config = parseMonitorEnv({ KAI_RETENTION_FINISHED: '2d', KAI_RETENTION_CHECKPOINTS: '36h', KAI_RETENTION_HISTORY_ENTRIES: '100', KAI_RETENTION_ARTIFACTS_COMPLETED: '1d' });
    expect(config.monitor.storeRetention).toEqual({ finishedRetentionMs: 2 * 86_400_000, checkpointRetentionMs: 36 * 3_600_000, maxHistoryEntries: 100 });
    expect(parseMonitorEnv({}).monitor.storeRetention).toEqual({});
    expect(() => parseMonitorEnv({ KAI_RETENTION_FINISHED: 'soon' })).toThrow(/KAI_RETENTION_FINISHED: expected a duration/);
  });
});
