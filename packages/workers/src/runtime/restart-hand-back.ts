import type { Job } from 'bullmq';
import { decideShutdownHandBack, recoverySnapshotOf, type JobType, type RecoveryDecision, type StatusRow } from '@kai-jobs/queue';

/** Where a stopped attempt's job went: delayed until its backoff ends, or straight back to wait. */
export const RestartHandBack = {
  Delayed: 'delayed',
  Waiting: 'waiting',
} as const;
/** One of {@link RestartHandBack}. */
export type RestartHandBack = (typeof RestartHandBack)[keyof typeof RestartHandBack];

/** What {@link handBackForRestart} needs. */
export interface RestartHandBackDeps {
  /** The queue's clock (Redis `TIME`, ms): the backoff is counted on it. */
  queueNowMs(): Promise<number>;
  /**
   * The clock BullMQ dates delayed jobs with — this process's `Date.now()`, read inside
   * `Job.moveToDelayed`. Only compared with the due time, never used to judge liveness.
   */
  bullNowMs?: () => number;
}

/**
 * Hands back the job of an attempt the monitor stopped, to start again `delayMs` from now by
 * the queue's clock (Redis `TIME`). BullMQ scores its delayed set with the moving process's
 * `Date.now()` and each worker promotes delayed jobs by its own clock: moved with this
 * process's clock, a job from a worker whose clock runs 10 minutes ahead would be out of reach
 * of every other worker for 10 minutes, and one from a worker behind would skip its backoff.
 * Scored at the due time in Redis's clock, any worker whose clock is right brings it back on
 * time. `Job.moveToDelayed` cannot score a job earlier than this process's own clock, so when
 * that clock is already past the due time (it runs ahead by more than the delay) the job goes
 * straight back to wait instead.
 */
export async function handBackForRestart(job: Job, token: string, delayMs: number, deps: RestartHandBackDeps): Promise<RestartHandBack> {
  const dueAt = (await deps.queueNowMs()) + Math.max(0, delayMs);
  const bullNow = deps.bullNowMs ?? Date.now;
  if (dueAt > bullNow()) {
    await job.moveToDelayed(dueAt, token);
    return RestartHandBack.Delayed;
  }
  await job.moveToWait(token);
  return RestartHandBack.Waiting;
}

/**
 * The shutdown hand-back's decision ({@link decideShutdownHandBack} of `@kai-jobs/queue`) for an
 * attempt holding `token`, from its row as read just before. `undefined` — the row could not be
 * read (a store outage the worker rides out) — judges from the attempt's own view (`processing`,
 * its fence): a shutdown must still hand the job back rather than leave it to the lock timeout.
 */
export function shutdownHandBackDecision(type: JobType, row: StatusRow | null | undefined, token: string): RecoveryDecision {
  if (row === undefined) return decideShutdownHandBack(recoverySnapshotOf({ type, status: 'processing', restartCount: 0 }, type));
  // Superseded: another attempt runs it (its fence, an active status). A `pending` row under a
  // new fence was restarted by the monitor or an operator, who want exactly this hand-back.
  const superseded = row !== null && row.fence !== token && row.status !== 'pending';
  return decideShutdownHandBack(recoverySnapshotOf(row, type), { superseded });
}
