/**
 * The soak's worker process: the worker bin (`packages/workers/src/bin/worker.ts`) — the same
 * `parseWorkerEnv`, `createJobsFromConfig` (the real PDF, scrape and XML-import processors) and
 * `createWorkerRuntime` — with one difference: its Redis stores get the retention of
 * `SOAK_RETENTION_MS` instead of the 7-day and 48-hour defaults (the bin's `KAI_RETENTION_*`
 * set the rows' and checkpoints' but not the metric buckets'). That is what lets finished
 * rows, checkpoints and metric buckets expire within a 30-minute soak; the artifact sweep takes
 * `KAI_RETENTION_ARTIFACTS_*` from the environment, as the bin does. Logs JSON lines on stdout like the bin; SIGTERM shuts down gracefully.
 */
import { closeRedis, ConnectionRole, createLogger, createJobStore, createRedisConnection, RedisMetricsRecorder, waitForRedis } from '@kai-jobs/queue';
import { artifactSweepOf, createJobsFromConfig, createWorkerRuntime, installShutdownSignals, parseWorkerEnv } from '@kai-jobs/workers';

const config = parseWorkerEnv(process.env);
const retentionMs = Number(process.env['SOAK_RETENTION_MS'] ?? 120_000);
const logger = createLogger({ level: config.logLevel, base: { service: 'kai-worker' } });
const stores = createRedisConnection(config.redis, { role: ConnectionRole.Worker, connectionName: 'kai-worker-stores' });
stores.on('error', () => undefined);
await waitForRedis(stores, config.redis.url, config.redis.connectTimeoutMs);
const prefix = config.redis.prefix;
const runtime = createWorkerRuntime({
  store: createJobStore({
    kind: 'redis',
    connection: stores,
    prefix,
    retention: { finishedRetentionMs: retentionMs, checkpointRetentionMs: retentionMs },
  }),
  metrics: new RedisMetricsRecorder({ connection: stores, prefix, retentionMs: Math.max(60_000, retentionMs), logger }),
  redis: config.redis,
  jobs: createJobsFromConfig(config, stores),
  concurrency: config.concurrency,
  logger,
  ...(config.workerId ? { workerId: config.workerId } : {}),
  ...(config.heartbeatIntervalMs ? { heartbeatIntervalMs: config.heartbeatIntervalMs } : {}),
  ...(config.lockDurationMs ? { lockDurationMs: config.lockDurationMs } : {}),
  ...(config.stalledIntervalMs ? { stalledIntervalMs: config.stalledIntervalMs } : {}),
  ...(config.artifactsDir ? { artifactsDir: config.artifactsDir } : {}),
  // KAI_RETENTION_ARTIFACTS_* and KAI_ARTIFACT_SWEEP_INTERVAL, as the bin reads them.
  artifactSweep: artifactSweepOf(config),
});
installShutdownSignals(
  {
    async shutdown() {
      await runtime.shutdown();
      await closeRedis(stores);
    },
  },
  logger,
);
await runtime.start();
logger.info('worker ready', { workerId: runtime.workerId, types: config.types, retentionMs });
