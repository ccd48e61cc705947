import type { StoreSet } from '@kai-jobs/checkpoint';
import { closeRedis, ConnectionRole, createRedisConnection, waitForRedis, type Logger } from '@kai-jobs/queue';
import { createJobsFromConfig, createWorkerRuntime, parseWorkerEnv, tracerFromConfig, type WorkerEnvConfig, type WorkerRuntime } from '@kai-jobs/workers';
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
export async function startWorkerService(env: Environment, logger: Logger, storeSet: StoreSet | null = null): Promise<WorkerService> {
  const config = parseWorkerEnv(env);
  const stores = createRedisConnection(config.redis, { role: ConnectionRole.Worker, connectionName: 'kai-worker-stores' });
  stores.on('error', () => undefined);
  let runtime: WorkerRuntime | undefined;
  try {
    await waitForRedis(stores, config.redis.url, config.redis.connectTimeoutMs);
    // SENTRY_DSN: one transaction per attempt, a span per stage (SENTRY_TRACES_SAMPLE_RATE of them).
    const tracer = await tracerFromConfig(config, logger);
    runtime = createWorkerRuntime({
      redis: config.redis,
      jobs: createJobsFromConfig(config, stores),
      concurrency: config.concurrency,
      logger,
      ...(storeSet === null ? {} : { statusStore: storeSet.statusStore, checkpointStore: storeSet.checkpointStore }),
      ...(config.workerId ? { workerId: config.workerId } : {}),
      ...(config.heartbeatIntervalMs ? { heartbeatIntervalMs: config.heartbeatIntervalMs } : {}),
      ...(config.lockDurationMs ? { lockDurationMs: config.lockDurationMs } : {}),
      ...(config.stalledIntervalMs ? { stalledIntervalMs: config.stalledIntervalMs } : {}),
      ...(config.shutdownGraceMs !== undefined ? { shutdownGraceMs: config.shutdownGraceMs } : {}),
      ...(config.artifactsDir ? { artifactsDir: config.artifactsDir } : {}),
      ...(config.cpuThreadHeapMb === undefined ? {} : { cpuThreadHeapMb: config.cpuThreadHeapMb }),
      ...(tracer === undefined ? {} : { tracer }),
    });
    await runtime.start();
  } catch (error) {
    await runtime?.close();
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
        await closeRedis(stores);
      })();
      return stopping;
    },
  };
}
