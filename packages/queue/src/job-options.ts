import type { JobsOptions } from 'bullmq';
import { jobCatalog, type JobType } from './catalog/index.js';

/** BullMQ backoff type that the kai-jobs worker runtime implements (exponential with jitter and cap). */
export const KAI_BACKOFF_TYPE = 'kai-exponential';

/** Finished BullMQ jobs are trimmed: the status row is the record that is kept. */
const KEEP_COMPLETED = { age: 24 * 60 * 60, count: 10_000 };
const KEEP_FAILED = { age: 7 * 24 * 60 * 60, count: 50_000 };

/**
 * How long BullMQ keeps its own copy of finished jobs (the status row is the record; see
 * `KAI_RETENTION_BULLMQ_*`). Absent: 1 day for completed, 7 days for failed jobs.
 */
export interface FinishedBullJobsRetention {
  /** Completed jobs are removed from BullMQ this long after they completed (ms). */
  completedMs?: number;
  /** Failed jobs are removed from BullMQ this long after they failed (ms). */
  failedMs?: number;
}

/** BullMQ keeps by age in whole seconds: at least one. */
function keepFor(ms: number, count: number): { age: number; count: number } {
  return { age: Math.max(1, Math.ceil(ms / 1000)), count };
}

/** Per-enqueue BullMQ settings. */
export interface BullJobSettings {
  /** BullMQ's retention of the finished job (`removeOnComplete` / `removeOnFail` ages). */
  keep?: FinishedBullJobsRetention;
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
    removeOnComplete: settings.keep?.completedMs === undefined ? KEEP_COMPLETED : keepFor(settings.keep.completedMs, KEEP_COMPLETED.count),
    removeOnFail: settings.keep?.failedMs === undefined ? KEEP_FAILED : keepFor(settings.keep.failedMs, KEEP_FAILED.count),
  };
  if (settings.priority !== undefined) options.priority = settings.priority;
  if (settings.delayMs !== undefined && settings.delayMs > 0) options.delay = settings.delayMs;
  if (settings.queueNowMs !== undefined) options.timestamp = settings.queueNowMs;
  return options;
}
