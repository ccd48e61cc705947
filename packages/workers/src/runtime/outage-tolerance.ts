import { z } from 'zod';
import {
  OutageTolerantJobStore,
  RedisJobStore,
  toError,
  WriteLagRegistry,
  type Clock,
  type Logger,
  type RedisClient,
  type StaleFenceEvent,
  type JobStore,
} from '@kai-jobs/queue';
import { AbortCause, AttemptAbortedError } from '../errors.js';

/**
 * How the worker runtime rides out an outage of its job store (a Supabase outage): the store is
 * wrapped in the `OutageTolerantJobStore` (status writes buffered, checkpoint operations
 * retried), and the write lag is published for the monitor.
 */
export const OutageToleranceOptionsSchema = z
  .object({
    /** Attempts with pending status writes kept at most (see `OutageTolerantJobStore`). Default 10000. */
    maxPendingJobs: z.number().int().min(1).default(10_000),
    /** How long a status write may wait before it is buffered and the stage goes on (ms). Default 5000. */
    writeTimeoutMs: z.number().int().positive().default(5000),
    /** First delay before replaying buffered status writes (ms); doubles each time. Default 500. */
    retryBaseMs: z.number().int().positive().default(500),
    /** Longest delay between replays (ms). Default 30000. */
    retryCapMs: z.number().int().positive().default(30_000),
    /** How long claiming a job (`markProcessing`, `create`) retries before the attempt fails (ms). Default 60000. */
    claimTimeoutMs: z.number().int().positive().default(60_000),
    /** How often the lag is logged and published while behind (ms). Default 10000. */
    lagReportIntervalMs: z.number().int().positive().default(10_000),
    /** On shutdown, how long buffered status writes get to land (ms). Default 10000. */
    closeTimeoutMs: z.number().int().min(0).default(10_000),
    /** How long a checkpoint operation retries before the attempt fails (ms). Default 120000. */
    checkpointTimeoutMs: z.number().int().positive().default(120_000),
    /** First delay between checkpoint retries (ms). Default 250. */
    checkpointRetryBaseMs: z.number().int().min(0).default(250),
    /** Longest delay between checkpoint retries (ms). Default 10000. */
    checkpointRetryCapMs: z.number().int().min(0).default(10_000),
  })
  .strict();
/** Resolved {@link OutageToleranceOptionsSchema}. */
export type OutageToleranceOptions = z.output<typeof OutageToleranceOptionsSchema>;

/**
 * The runtime option: `true` or an object turns outage tolerance on, `false` off; left out,
 * it is on when the runtime was given a job store that is not the Redis one (Redis is the
 * queue itself: when it is down, nothing runs anyway).
 */
export const OutageToleranceSettingSchema = z.union([z.boolean(), OutageToleranceOptionsSchema]).optional();

/** Resolves the runtime option to options, or null when off. */
export function resolveOutageTolerance(
  setting: z.input<typeof OutageToleranceSettingSchema>,
  store: JobStore | undefined,
): OutageToleranceOptions | null {
  if (setting === false) return null;
  if (setting === undefined && (store === undefined || store instanceof RedisJobStore)) return null;
  return OutageToleranceOptionsSchema.parse(typeof setting === 'object' ? setting : {});
}

/** What {@link guardStore} needs from the runtime. */
export interface GuardStoreInput {
  /** The runtime's `outageTolerance` option. */
  setting: z.input<typeof OutageToleranceSettingSchema>;
  /** The job store the runtime was given (undefined: it made a Redis one). */
  givenStore: JobStore | undefined;
  /** The store to wrap. */
  store: JobStore;
  /** Where the lag is published (the runtime's own connection) and under which prefix. */
  redis: RedisClient;
  prefix: string;
  workerId: string;
  logger: Logger;
  clock: Clock;
  /** The attempt running `jobId` in this process, if any (to abort it when it lost the job). */
  attemptOf(jobId: string): { token: string; controller: AbortController } | undefined;
}

/** The store the runtime uses, wrapped, and how to stop the wrapping. */
export interface GuardedStore {
  store: JobStore;
  /** Lets buffered writes land (bounded), then stops publishing the lag. */
  close(): Promise<void>;
}

/**
 * Wraps the store when outage tolerance is on (see {@link resolveOutageTolerance}): buffered
 * status writes, retried checkpoints, the lag published to Redis. Off, returns it as it is.
 */
export function guardStore(input: GuardStoreInput): GuardedStore {
  const options = resolveOutageTolerance(input.setting, input.givenStore);
  if (options === null) return { store: input.store, close: async () => undefined };
  const { logger, workerId } = input;
  const registry = new WriteLagRegistry({ connection: input.redis, prefix: input.prefix });
  let publishing: Promise<void> = Promise.resolve();
  const store = new OutageTolerantJobStore({
    store: input.store,
    maxPendingJobs: options.maxPendingJobs,
    writeTimeoutMs: options.writeTimeoutMs,
    retryBaseMs: options.retryBaseMs,
    retryCapMs: Math.max(options.retryCapMs, options.retryBaseMs),
    claimTimeoutMs: options.claimTimeoutMs,
    lagReportIntervalMs: options.lagReportIntervalMs,
    closeTimeoutMs: options.closeTimeoutMs,
    // A replayed write was fenced off: that attempt lost the job; stop it if it still runs here.
    onStaleFence: ({ jobId, fence }: StaleFenceEvent) => {
      const attempt = input.attemptOf(jobId);
      if (attempt?.token === fence) attempt.controller.abort(new AttemptAbortedError(AbortCause.LostJob, 'a buffered status write was fenced off'));
    },
    // The monitor reads it to tell an outage from stuck work; in order, one at a time.
    onLag: (lag) => {
      publishing = publishing
        .then(() => registry.publish(workerId, lag))
        .catch((error: unknown) => logger.warn('could not publish the status write lag', { error: toError(error).message }));
    },
    checkpointTimeoutMs: options.checkpointTimeoutMs,
    checkpointRetryBaseMs: options.checkpointRetryBaseMs,
    checkpointRetryCapMs: Math.max(options.checkpointRetryCapMs, options.checkpointRetryBaseMs),
    // Waiting between checkpoint retries stops when the attempt writing them is aborted.
    signalOf: (jobId) => input.attemptOf(jobId)?.controller.signal,
    logger,
    clock: input.clock,
  });
  return {
    store,
    async close() {
      await store.close();
      await publishing;
      await registry.remove(workerId).catch((error: unknown) => logger.warn('could not clear the write lag', { error: toError(error).message }));
    },
  };
}
