import type { JobsOptions } from 'bullmq';
import { jobCatalog, type JobType } from './catalog/index.js';

/** BullMQ backoff type that the kai-jobs worker runtime implements (exponential with jitter and cap). */
export const KAI_BACKOFF_TYPE = 'kai-exponential';

/** Finished BullMQ jobs are trimmed: the status row is the record that is kept. */
const KEEP_COMPLETED = { age: 24 * 60 * 60, count: 10_000 };
const KEEP_FAILED = { age: 7 * 24 * 60 * 60, count: 50_000 };

/** Per-enqueue BullMQ settings. */
export interface BullJobSettings {
  priority?: number;
  delayMs?: number;
  /**
   * The queue's clock now (`queueClockMs`): the job is dated by it, so `delayMs` counts from
   * Redis's time rather than this process's (whose clock may be off). Default: BullMQ's `Date.now()`.
   */
  queueNowMs?: number;
}

/**
 * The BullMQ job options every kai-jobs job of `type` gets, so the client and the
 * monitor (re-adding a lost job) create identical jobs.
 */
export function bullJobOptions(type: JobType, jobId: string, settings: BullJobSettings = {}): JobsOptions {
  const options: JobsOptions = {
    jobId,
    attempts: jobCatalog[type].defaults.attempts,
    backoff: { type: KAI_BACKOFF_TYPE },
    removeOnComplete: KEEP_COMPLETED,
    removeOnFail: KEEP_FAILED,
  };
  if (settings.priority !== undefined) options.priority = settings.priority;
  if (settings.delayMs !== undefined && settings.delayMs > 0) options.delay = settings.delayMs;
  if (settings.queueNowMs !== undefined) options.timestamp = settings.queueNowMs;
  return options;
}
