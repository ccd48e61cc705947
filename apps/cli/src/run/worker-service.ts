import { closeRedis, ConnectionRole, createRedisConnection, waitForRedis, type JobStore, type Logger } from '@kai-jobs/queue';
import { artifactSweepOf, createArtifactStoreFromConfig, createBlobStoreFromConfig, createJobsFromConfig, createWorkerRuntime, storeRetentionOf, tracerFromConfig, parseWorkerEnv, type WorkerEnvConfig, type WorkerRuntime } from '@kai-jobs/workers';
import type { Environment } from '../config/cli-env.js';

/** A started worker runtime and what it opened. */
export interface WorkerService {
  readonly runtime: WorkerRuntime;
  readonly config: WorkerEnvConfig;
  /** Graceful: running stages reach their checkpoint within SHUTDOWN_GRACE_MS, the rest is handed back. */
  shutdown(): Promise<void>;
}

/**
 * Starts the workers the environment describes (`WORKER_TYPES`, `WORKER_CONCURRENCY`,
 * `LOCK_DURATION_MS`, … — the worker's own variables, parsed by `parseWorkerEnv`), exactly as
 * the `kai-jobs-worker` binary does; with a Supabase store set, status rows and checkpoints go
 * there (products and materials too, by `createJobsFromConfig`).
 */
export async function startWorkerService(env: Environment, logger: Logger, store: JobStore | null = null): Promise<WorkerService> {
  const config = parseWorkerEnv(env);
  const stores = createRedisConnection(config.redis, { role: ConnectionRole.Worker, connectionName: 'kai-worker-stores' });
  stores.on('error', () => undefined);
  let runtime: WorkerRuntime | undefined;
  // STORAGE_S3_*: `storage` sources (and, with ARTIFACT_STORE=s3, artifacts) in an S3-compatible bucket.
  const blobStore = createBlobStoreFromConfig(config);
  const artifactStore = createArtifactStoreFromConfig(config);
  const closeBlobStores = (): void => {
    blobStore?.close();
    artifactStore?.close();
  };
  try {
    await waitForRedis(stores, config.redis.url, config.redis.connectTimeoutMs);
    // SENTRY_DSN: one transaction per attempt, a span per stage (SENTRY_TRACES_SAMPLE_RATE of them).
    const tracer = await tracerFromConfig(config, logger);
    runtime = createWorkerRuntime({
      redis: config.redis,
      jobs: createJobsFromConfig(config, stores, blobStore),
      concurrency: config.concurrency,
      logger,
      ...(store === null ? {} : { store }),
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
    await runtime.start();
  } catch (error) {
    await runtime?.close();
    closeBlobStores();
    await closeRedis(stores);
    throw error;
  }
  const started = runtime;
  let stopping: Promise<void> | undefined;
  return {
    runtime: started,
    config,
    shutdown() {
      stopping ??= (async () => {
        await started.shutdown();
        closeBlobStores();
        await closeRedis(stores);
      })();
      return stopping;
    },
  };
}
