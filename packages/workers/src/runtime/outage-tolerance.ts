import { z } from 'zod';
import { RetryingCheckpointStore, type CheckpointStore, type JobRef } from '@kai-jobs/checkpoint';
import {
  BufferedStatusStore,
  RedisStatusStore,
  toError,
  WriteLagRegistry,
  type Clock,
  type Logger,
  type RedisClient,
  type StaleFenceEvent,
  type StatusStore,
} from '@kai-jobs/queue';
import { AbortCause, AttemptAbortedError } from '../errors.js';

/**
 * How the worker runtime rides out an outage of its status and checkpoint stores (a Supabase
 * outage): status writes are buffered (`BufferedStatusStore`), checkpoint operations retried
 * (`RetryingCheckpointStore`), and the write lag is published for the monitor.
 */
export const OutageToleranceOptionsSchema = z
  .object({
    /** Attempts with pending status writes kept at most (see `BufferedStatusStore`). Default 10000. */
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
 * it is on when the runtime was given a status store that is not the Redis one (Redis is the
 * queue itself: when it is down, nothing runs anyway).
 */
export const OutageToleranceSettingSchema = z.union([z.boolean(), OutageToleranceOptionsSchema]).optional();

/** Resolves the runtime option to options, or null when off. */
export function resolveOutageTolerance(
  setting: z.input<typeof OutageToleranceSettingSchema>,
  statusStore: StatusStore | undefined,
): OutageToleranceOptions | null {
  if (setting === false) return null;
  if (setting === undefined && (statusStore === undefined || statusStore instanceof RedisStatusStore)) return null;
  return OutageToleranceOptionsSchema.parse(typeof setting === 'object' ? setting : {});
}

/** What {@link guardStores} needs from the runtime. */
export interface GuardStoresInput {
  /** The runtime's `outageTolerance` option. */
  setting: z.input<typeof OutageToleranceSettingSchema>;
  /** The status store the runtime was given (undefined: it made a Redis one). */
  givenStatusStore: StatusStore | undefined;
  /** The stores to wrap. */
  statusStore: StatusStore;
  checkpointStore: CheckpointStore;
  /** Where the lag is published (the runtime's own connection) and under which prefix. */
  redis: RedisClient;
  prefix: string;
  workerId: string;
  logger: Logger;
  clock: Clock;
  /** The attempt running `jobId` in this process, if any (to abort it when it lost the job). */
  attemptOf(jobId: string): { token: string; controller: AbortController } | undefined;
}

/** The stores the runtime uses, wrapped, and how to stop the wrapping. */
export interface GuardedStores {
  statusStore: StatusStore;
  checkpointStore: CheckpointStore;
  /** Lets buffered writes land (bounded), then stops publishing the lag. */
  close(): Promise<void>;
}

/**
 * Wraps the stores when outage tolerance is on (see {@link resolveOutageTolerance}): buffered
 * status writes, retried checkpoints, the lag published to Redis. Off, returns them as they are.
 */
export function guardStores(input: GuardStoresInput): GuardedStores {
  const options = resolveOutageTolerance(input.setting, input.givenStatusStore);
  if (options === null) return { statusStore: input.statusStore, checkpointStore: input.checkpointStore, close: async () => undefined };
  const { logger, workerId } = input;
  const registry = new WriteLagRegistry({ connection: input.redis, prefix: input.prefix });
  let publishing: Promise<void> = Promise.resolve();
  const statusStore = new BufferedStatusStore({
    store: input.statusStore,
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
    logger,
    clock: input.clock,
  });
  const checkpointStore = new RetryingCheckpointStore({
    store: input.checkpointStore,
    timeoutMs: options.checkpointTimeoutMs,
    backoff: { baseMs: options.checkpointRetryBaseMs, capMs: Math.max(options.checkpointRetryCapMs, options.checkpointRetryBaseMs) },
    // A job's buffered status writes land before its checkpoint, in order.
    beforeWrite: (job) => statusStore.flushJob(job.id),
    // A stage waiting for its checkpoint is behind on its writes too (the monitor must not take it for stuck).
    onWait: (job) => statusStore.trackWait(job.id),
    signalOf: (job: JobRef) => input.attemptOf(job.id)?.controller.signal,
    logger,
    clock: input.clock,
  });
  return {
    statusStore,
    checkpointStore,
    async close() {
      await statusStore.close();
      await publishing;
      await registry.remove(workerId).catch((error: unknown) => logger.warn('could not clear the write lag', { error: toError(error).message }));
    },
  };
}
