#!/usr/bin/env -S node --import tsx
/**
 * The monitor process: ticks on the job-monitor queue every MONITOR_CHECK_INTERVAL_MS (any
 * number of replicas give one tick per interval), consumes BullMQ's stalled events, alerts
 * Sentry (SENTRY_DSN) or the log. Reads the environment (see the README).
 */
import { ConnectionRole, createJobStore, createLogger, createRedisConnection, closeRedis, storeRetentionOptions } from '@kai-jobs/queue';
import { Alerter } from '../alerts/alerter.js';
import { RedisAlertDedupeStore } from '../alerts/dedupe-store.js';
import { installProcessAlerter } from '../alerts/process-alerter.js';
import type { CrashPoint } from '../alerts/outbox-delivery.js';
import { createMonitor } from '../monitor.js';
import { parseMonitorEnv } from '../entry/monitor-env.js';

let config;
try {
  config = parseMonitorEnv(process.env);
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(2);
}
const logger = createLogger({ level: config.logLevel, base: { service: 'kai-monitor' } });
const dedupeConnection = createRedisConnection(config.redis, { role: ConnectionRole.Worker });
dedupeConnection.on('error', () => undefined);
const alerter = new Alerter({
  ...(config.sentry.dsn ? { dsn: config.sentry.dsn } : {}),
  environment: config.sentry.environment,
  ...(config.sentry.release ? { release: config.sentry.release } : {}),
  logger,
  dedupeStore: new RedisAlertDedupeStore({ connection: dedupeConnection, prefix: config.redis.prefix }),
});
// The module-level captureException/captureMessage report through the monitor's alerter.
const processAlerts = installProcessAlerter({ service: 'kai-monitor', alerter, logger });
const fatal = (error: unknown): void => {
  logger.error('uncaught error: the monitor stops', { error: (error as Error)?.stack ?? String(error) });
  void processAlerts.reportFatal(error, { uncaught: 'true' }).finally(() => process.exit(1));
};
process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);
// STATUS_STORE=supabase: the monitor reads and transitions the Supabase rows; else Redis.
const store = config.stores.kind === 'supabase' ? createJobStore({ ...config.stores, logger, retention: storeRetentionOptions(config.retention) }) : null;
// Test-only (process tests, the chaos suite): KAI_MONITOR_CRASH_AT=<crash point> makes this
// process kill itself with SIGKILL the first time a tick reaches that point.
const crashAt = process.env['KAI_MONITOR_CRASH_AT'];
const crashHook = crashAt
  ? (point: CrashPoint): void => {
      if (point === crashAt) process.kill(process.pid, 'SIGKILL');
    }
  : undefined;
const monitor = createMonitor({
  ...config.monitor,
  ...(crashHook ? { crashHook } : {}),
  redis: config.redis,
  alerter,
  logger,
  ...(store ? { store } : {}),
});

let stopping = false;
const stop = async (signal: string): Promise<void> => {
  if (stopping) process.exit(130);
  stopping = true;
  logger.info('signal received: stopping the monitor', { signal });
  await monitor.close();
  await store?.close();
  await processAlerts.close();
  await alerter.close();
  await closeRedis(dedupeConnection);
  await logger.flush();
  process.exit(0);
};
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));

try {
  await monitor.start();
  logger.info('monitor ready', { monitorId: monitor.monitorId, sentry: config.sentry.dsn ? 'configured' : 'log only' });
} catch (error) {
  logger.error('monitor failed to start', { error: (error as Error).message });
  await processAlerts.reportFatal(error);
  await logger.flush();
  process.exit(1);
}
