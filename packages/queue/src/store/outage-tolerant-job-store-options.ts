import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { WriteLag } from '../status/pending-writes.js';
import type { StaleFenceEvent } from '../status/write-replay.js';
import type { JobStore } from './types.js';

const fn = <T>(what: string) => z.custom<T>((value) => typeof value === 'function', { message: `expected ${what}` });

/** Options of `OutageTolerantJobStore`. */
export const OutageTolerantJobStoreOptionsSchema = z
  .object({
    /** The store to guard (e.g. a `SupabaseJobStore`); not closed by this one. Required. */
    store: z.custom<JobStore>((value) => typeof value === 'object' && value !== null, { message: 'expected a JobStore' }),
    /** Attempts (job + fence) with pending writes kept at most; beyond, the oldest progress-only ones are dropped. Default 10000. */
    maxPendingJobs: z.number().int().min(1).default(10_000),
    /** History entries kept per pending attempt; beyond, the oldest are dropped. Default 50. */
    maxHistoryPerJob: z.number().int().min(1).default(50),
    /** How long a write may wait for the store before it is buffered and the caller goes on (ms). Default 5000. */
    writeTimeoutMs: z.number().int().positive().default(5000),
    /** First delay before replaying after a failure (ms); doubles each time, with jitter. Default 500. */
    retryBaseMs: z.number().int().positive().default(500),
    /** Longest delay between replays (ms). Default 30000. */
    retryCapMs: z.number().int().positive().default(30_000),
    /** How long `markProcessing` and `create` keep retrying before they fail the attempt (ms). Default 60000. */
    claimTimeoutMs: z.number().int().positive().default(60_000),
    /** Jobs replayed at once. Default 8. */
    flushConcurrency: z.number().int().min(1).max(100).default(8),
    /** While behind: how often the lag is logged and reported through `onLag` (ms). Default 10000. */
    lagReportIntervalMs: z.number().int().positive().default(10_000),
    /** `close()` keeps replaying for at most this long before it drops what is left (ms). Default 10000. */
    closeTimeoutMs: z.number().int().min(0).default(10_000),
    /** How long one checkpoint operation keeps retrying before its last error is thrown (ms). Default 120000. */
    checkpointTimeoutMs: z.number().int().positive().default(120_000),
    /** First delay between checkpoint retries (ms); doubles each time, with jitter. Default 250. */
    checkpointRetryBaseMs: z.number().int().min(0).default(250),
    /** Longest delay between checkpoint retries (ms). Default 10000. */
    checkpointRetryCapMs: z.number().int().min(0).default(10_000),
    /** The signal of the attempt running `jobId`, if any: waiting between checkpoint retries stops when it aborts. */
    signalOf: fn<(jobId: string) => AbortSignal | undefined>('a function').optional(),
    /** Called when a replayed write is refused with `StaleFenceError`: that attempt lost the job and must stop. */
    onStaleFence: fn<(event: StaleFenceEvent) => void>('a function').optional(),
    /** Called with the write lag when writes start lagging, every `lagReportIntervalMs` while behind, and once caught up (a gauge). */
    onLag: fn<(lag: WriteLag) => void>('a function').optional(),
    /** Structured logger. Default: silent. */
    logger: z.custom<Logger>((value) => typeof value === 'object' && value !== null).optional(),
    /** Clock for lag and retry waits. Default the system clock. */
    clock: z.custom<Clock>((value) => typeof value === 'object' && value !== null).optional(),
    /** Random source of the retry jitter, [0, 1). Default `Math.random`. */
    random: fn<() => number>('a function').optional(),
  })
  .strict()
  .superRefine((options, ctx) => {
    if (options.retryCapMs < options.retryBaseMs) {
      ctx.addIssue({ code: 'custom', path: ['retryCapMs'], message: `must be at least retryBaseMs (${options.retryBaseMs})` });
    }
    if (options.checkpointRetryCapMs < options.checkpointRetryBaseMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['checkpointRetryCapMs'],
        message: `must be at least checkpointRetryBaseMs (${options.checkpointRetryBaseMs})`,
      });
    }
  });
/** What callers pass to construct an `OutageTolerantJobStore`. */
export type OutageTolerantJobStoreOptions = z.input<typeof OutageTolerantJobStoreOptionsSchema>;
/** Resolved options of an `OutageTolerantJobStore`. */
export type ResolvedOutageTolerantJobStoreOptions = z.output<typeof OutageTolerantJobStoreOptionsSchema>;

