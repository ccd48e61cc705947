#!/usr/bin/env -S node --import tsx
/**
 * The worker process: runs the staged jobs of WORKER_TYPES until SIGTERM/SIGINT (graceful:
 * running stages reach their checkpoint, unfinished jobs go back to the queue). Reads the
 * environment (see the README); logs JSON lines on stdout.
 */
import { closeRedis, ConnectionRole, createJobStore, createLogger, createRedisConnection, isKaiJobsError, waitForRedis } from '@kai-jobs/queue';
import { artifactSweepOf, createArtifactStoreFromConfig, createBlobStoreFromConfig, createJobsFromConfig, parseWorkerEnv, storeRetentionOf, tracerFromConfig } from '../entry/worker-env.js';
import { createFatalReporter } from '../entry/fatal-reporter.js';
import { createWorkerRuntime } from '../runtime/worker-runtime.js';
import { installShutdownSignals } from '../runtime/shutdown-signals.js';

let config;
try {
  config = parseWorkerEnv(process.env);
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(2);
}
const logger = createLogger({ level: config.logLevel, base: { service: 'kai-worker' } });
// SENTRY_DSN: what ends this process (a failed start, an uncaught error) arrives in Sentry as a
// `fatal` event tagged service=kai-worker, as the other entry points report theirs.
const fatalReporter = createFatalReporter({
  dsn: config.tracing?.dsn,
  environment: config.tracing?.environment ?? 'production',
  release: config.tracing?.release,
  logger,
});
const fatal = (error: unknown): void => {
  logger.error('uncaught error: the worker stops', { error: (error as Error)?.stack ?? String(error) });
  void fatalReporter
    .reportFatal(error, { uncaught: 'true' })
    .then(() => logger.flush())
    .finally(() => process.exit(1));
};
process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);
const stores = createRedisConnection(config.redis, { role: ConnectionRole.Worker, connectionName: 'kai-worker-stores' });
stores.on('error', () => undefined);
try {
  await waitForRedis(stores, config.redis.url, config.redis.connectTimeoutMs);
  // STATUS_STORE=supabase: rows and checkpoints in Supabase (with outage tolerance); else Redis.
  // KAI_RETENTION_*: what the store keeps of finished jobs.
  const store = createJobStore({ ...config.stores, connection: stores, prefix: config.redis.prefix, logger, retention: storeRetentionOf(config) });
  // STORAGE_S3_*: `storage` sources (and, with ARTIFACT_STORE=s3, artifacts) in an S3-compatible bucket.
  const blobStore = createBlobStoreFromConfig(config);
  const artifactStore = createArtifactStoreFromConfig(config);
  // SENTRY_DSN: one transaction per attempt, a span per stage (SENTRY_TRACES_SAMPLE_RATE of them).
  const tracer = await tracerFromConfig(config, logger);
  const runtime = createWorkerRuntime({
    store,
    redis: config.redis,
    jobs: createJobsFromConfig(config, stores, blobStore),
    concurrency: config.concurrency,
    logger,
    ...(config.workerId ? { workerId: config.workerId } : {}),
    ...(config.heartbeatIntervalMs ? { heartbeatIntervalMs: config.heartbeatIntervalMs } : {}),
    ...(config.lockDurationMs ? { lockDurationMs: config.lockDurationMs } : {}),
    ...(config.stalledIntervalMs ? { stalledIntervalMs: config.stalledIntervalMs } : {}),
    ...(config.shutdownGraceMs !== undefined ? { shutdownGraceMs: config.shutdownGraceMs } : {}),
    ...(config.artifactsDir ? { artifactsDir: config.artifactsDir } : {}),
    ...(artifactStore ? { artifactStore } : {}),
    // KAI_RETENTION_*: what the Redis stores keep, and the artifact sweep.
    storeRetention: storeRetentionOf(config),
    artifactSweep: artifactSweepOf(config),
    ...(config.cpuThreadHeapMb === undefined ? {} : { cpuThreadHeapMb: config.cpuThreadHeapMb }),
    ...(tracer === undefined ? {} : { tracer }),
  });
  installShutdownSignals(
    {
      async shutdown() {
        await runtime.shutdown();
        await store.close();
        blobStore?.close();
        artifactStore?.close();
        await closeRedis(stores);
      },
    },
    logger,
  );
  await runtime.start();
  logger.info('worker ready', { workerId: runtime.workerId, types: config.types });
} catch (error) {
  logger.error('worker failed to start', { error: (error as Error).message, code: isKaiJobsError(error) ? error.code : undefined });
  await fatalReporter.reportFatal(error);
  await logger.flush();
  await closeRedis(stores);
  process.exit(1);
}
