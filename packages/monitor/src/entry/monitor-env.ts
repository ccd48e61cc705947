import { z } from 'zod';
import { parseStoreConfigFromEnv, type StoreEnvConfig } from '@kai-jobs/queue';
import { ConfigError, DEFAULT_KEY_PREFIX, DEFAULT_REDIS_URL, parseClusterNodes, parseRedisConnectionOptions, parseRetentionEnv, storeRetentionOptions, type RedisConnectionOptions, type RetentionEnvConfig } from '@kai-jobs/queue';
import type { MonitorOptions } from '../config.js';

const ms = (name: string) =>
  z
    .string()
    .regex(/^\d+$/, { message: `${name} must be a whole number of milliseconds` })
    .transform(Number)
    .optional();

/** The environment variables the monitor entry point reads (see the README's configuration table). */
export const MonitorEnvSchema = z.object({
  REDIS_URL: z.string().default(DEFAULT_REDIS_URL),
  REDIS_CLUSTER_NODES: z.string().optional(),
  KAI_PREFIX: z.string().default(DEFAULT_KEY_PREFIX),
  MONITOR_ID: z.string().min(1).optional(),
  MONITOR_CHECK_INTERVAL_MS: ms('MONITOR_CHECK_INTERVAL_MS'),
  MONITOR_AUTO_RESTART: z.enum(['true', 'false']).default('true'),
  MONITOR_ABORT_GRACE_MS: ms('MONITOR_ABORT_GRACE_MS'),
  MONITOR_MAX_RESTARTS: z.string().regex(/^\d+$/, { message: 'MONITOR_MAX_RESTARTS must be a whole number' }).transform(Number).optional(),
  PDF_HEARTBEAT_TIMEOUT_MS: ms('PDF_HEARTBEAT_TIMEOUT_MS'),
  PDF_UPDATE_TIMEOUT_MS: ms('PDF_UPDATE_TIMEOUT_MS'),
  SCRAPE_UPDATE_TIMEOUT_MS: ms('SCRAPE_UPDATE_TIMEOUT_MS'),
  XML_IMPORT_UPDATE_TIMEOUT_MS: ms('XML_IMPORT_UPDATE_TIMEOUT_MS'),
  FAILOVER_ENABLED: z.enum(['true', 'false']).default('true'),
  FAILOVER_GRACE_MS: ms('FAILOVER_GRACE_MS'),
  FAILOVER_CHECK_INTERVAL_MS: ms('FAILOVER_CHECK_INTERVAL_MS'),
  SENTRY_DSN: z.string().optional(),
  SENTRY_ENVIRONMENT: z.string().min(1).default('production'),
  SENTRY_RELEASE: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
});

/** The monitor's configuration from the environment. */
export interface MonitorEnvConfig {
  redis: RedisConnectionOptions;
  monitor: Omit<MonitorOptions, 'redis' | 'alerter' | 'logger'>;
  sentry: { dsn: string | undefined; environment: string; release: string | undefined };
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** Where status rows and checkpoints live (STATUS_STORE, SUPABASE_*). */
  stores: StoreEnvConfig;
  /** `KAI_RETENTION_*` (the store parts apply to the monitor: `monitor.storeRetention` and the Supabase store set). */
  retention: RetentionEnvConfig;
}

/** Parses the monitor's environment; throws one ConfigError listing every problem. */
export function parseMonitorEnv(env: Record<string, string | undefined>): MonitorEnvConfig {
  const result = MonitorEnvSchema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(`invalid monitor environment:\n  - ${result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('\n  - ')}`);
  }
  const raw = result.data;
  const redis = parseRedisConnectionOptions({ url: raw.REDIS_URL, prefix: raw.KAI_PREFIX, clusterNodes: parseClusterNodes(raw.REDIS_CLUSTER_NODES) });
  // KAI_RETENTION_*: rows the monitor fails expire on the same schedule as the workers'.
  const { retention, problems } = parseRetentionEnv(env);
  if (problems.length > 0) throw new ConfigError(`invalid monitor environment:\n  - ${problems.join('\n  - ')}`);
  const restarts = raw.MONITOR_MAX_RESTARTS === undefined ? {} : { maxRestarts: raw.MONITOR_MAX_RESTARTS };
  return {
    redis,
    monitor: {
      ...(raw.MONITOR_ID ? { monitorId: raw.MONITOR_ID } : {}),
      ...(raw.MONITOR_CHECK_INTERVAL_MS ? { checkIntervalMs: raw.MONITOR_CHECK_INTERVAL_MS } : {}),
      autoRestart: raw.MONITOR_AUTO_RESTART === 'true',
      storeRetention: storeRetentionOptions(retention),
      ...(raw.MONITOR_ABORT_GRACE_MS !== undefined ? { abortGraceMs: raw.MONITOR_ABORT_GRACE_MS } : {}),
      failover: {
        enabled: raw.FAILOVER_ENABLED === 'true',
        ...(raw.FAILOVER_GRACE_MS !== undefined ? { graceMs: raw.FAILOVER_GRACE_MS } : {}),
        ...(raw.FAILOVER_CHECK_INTERVAL_MS !== undefined ? { checkIntervalMs: raw.FAILOVER_CHECK_INTERVAL_MS } : {}),
      },
      types: {
        pdf: {
          ...restarts,
          ...(raw.PDF_HEARTBEAT_TIMEOUT_MS ? { heartbeatTimeoutMs: raw.PDF_HEARTBEAT_TIMEOUT_MS } : {}),
          ...(raw.PDF_UPDATE_TIMEOUT_MS ? { updateTimeoutMs: raw.PDF_UPDATE_TIMEOUT_MS } : {}),
        },
        scrape: { ...restarts, ...(raw.SCRAPE_UPDATE_TIMEOUT_MS ? { updateTimeoutMs: raw.SCRAPE_UPDATE_TIMEOUT_MS } : {}) },
        'xml-import': { ...restarts, ...(raw.XML_IMPORT_UPDATE_TIMEOUT_MS ? { updateTimeoutMs: raw.XML_IMPORT_UPDATE_TIMEOUT_MS } : {}) },
      },
    },
    sentry: { dsn: raw.SENTRY_DSN === '' ? undefined : raw.SENTRY_DSN, environment: raw.SENTRY_ENVIRONMENT, release: raw.SENTRY_RELEASE },
    logLevel: raw.LOG_LEVEL,
    stores: parseStoreConfigFromEnv(env),
    retention,
  };
}
