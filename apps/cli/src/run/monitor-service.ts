import { Alerter, createMonitor, parseMonitorEnv, RedisAlertDedupeStore, type Monitor, type MonitorEnvConfig } from '@kai-jobs/monitor';
import { closeRedis, ConnectionRole, createRedisConnection, toError, type JobStore, type Logger, type RedisClient } from '@kai-jobs/queue';
import type { Environment } from '../config/cli-env.js';

/** A monitor with its alerter, not yet ticking on a schedule. */
export interface MonitorService {
  readonly monitor: Monitor;
  readonly alerter: Alerter;
  readonly config: MonitorEnvConfig;
  /** Stops ticking and closes everything, flushing pending alerts. */
  close(): Promise<void>;
}

/**
 * Builds the monitor the environment describes (`MONITOR_CHECK_INTERVAL_MS`, the thresholds,
 * `SENTRY_DSN`, … — parsed by `parseMonitorEnv`), as the `kai-jobs-monitor` binary does:
 * alerts deduplicated in Redis across replicas, Sentry when a DSN is set, else the log.
 */
export function createMonitorService(env: Environment, logger: Logger, store: JobStore | null = null): MonitorService {
  const config = parseMonitorEnv(env);
  const dedupeConnection: RedisClient = createRedisConnection(config.redis, { role: ConnectionRole.Worker, connectionName: 'kai-monitor-dedupe' });
  dedupeConnection.on('error', () => undefined);
  const alerter = new Alerter({
    ...(config.sentry.dsn ? { dsn: config.sentry.dsn } : {}),
    environment: config.sentry.environment,
    ...(config.sentry.release ? { release: config.sentry.release } : {}),
    logger,
    dedupeStore: new RedisAlertDedupeStore({ connection: dedupeConnection, prefix: config.redis.prefix }),
  });
  const monitor = createMonitor({
    ...config.monitor,
    redis: config.redis,
    alerter,
    logger,
    ...(store === null ? {} : { store }),
  });
  let closing: Promise<void> | undefined;
  return {
    monitor,
    alerter,
    config,
    close() {
      closing ??= (async () => {
        await monitor.close().catch((error: unknown) => logger.warn('closing the monitor failed', { error: toError(error).message }));
        await alerter.close();
        await closeRedis(dedupeConnection);
      })();
      return closing;
    },
  };
}
