import {
  closeRedis,
  ConnectionRole,
  createJobClient,
  createJobStore,
  createRedisConnection,
  finishedBullJobsOptions,
  storeRetentionOptions,
  waitForRedis,
  type JobClient,
  type RedisClient,
  type JobStore,
} from '@kai-jobs/queue';
import type { CliEnvConfig } from './cli-env.js';

/** The connections and stores a short CLI command works with; `close()` releases them all. */
export interface CliSystem {
  readonly config: CliEnvConfig;
  /** A producer connection (fails fast while Redis is away). */
  readonly redis: RedisClient;
  /** The job store `STATUS_STORE` picks (Redis or Supabase): rows, history and checkpoints. */
  readonly store: JobStore;
  /** The producer client on the same connection and status store. */
  readonly client: JobClient;
  close(): Promise<void>;
}

/**
 * Connects to the deployment the environment names and waits for Redis (up to its connect
 * timeout); an unreachable Redis rejects with `RedisUnreachableError` naming the URL. Status
 * rows and checkpoints come from the store set `STATUS_STORE` picks (Redis or Supabase).
 */
export async function openSystem(config: CliEnvConfig, connectionName = 'kai-cli'): Promise<CliSystem> {
  const redis = createRedisConnection(config.redis, { role: ConnectionRole.Producer, connectionName });
  redis.on('error', () => undefined);
  let store: JobStore;
  try {
    await waitForRedis(redis, config.redis.url, config.redis.connectTimeoutMs);
    store = createJobStore({ ...config.stores, connection: redis, prefix: config.redis.prefix, retention: storeRetentionOptions(config.retention) });
  } catch (error) {
    await closeRedis(redis);
    throw error;
  }
  // KAI_RETENTION_BULLMQ_*: how long BullMQ keeps the jobs this CLI enqueues once finished.
  const finishedJobs = finishedBullJobsOptions(config.retention);
  const client = createJobClient({
    connection: redis,
    redis: { url: config.redis.url, prefix: config.redis.prefix },
    statusStore: store,
    waitPollIntervalMs: 250,
    ...(finishedJobs === undefined ? {} : { finishedJobs }),
  });
  return {
    config,
    redis,
    store,
    client,
    async close() {
      await client.close();
      await store.close();
      await closeRedis(redis);
    },
  };
}

/** Runs `work` with an open system and always closes it. */
export async function withSystem<T>(config: CliEnvConfig, work: (system: CliSystem) => Promise<T>): Promise<T> {
  const system = await openSystem(config);
  try {
    return await work(system);
  } finally {
    await system.close();
  }
}
