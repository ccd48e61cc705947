import type { JobType, StaleReason } from '@kai-jobs/queue';

/** What the monitor saw of a candidate in BullMQ. */
export const BullClassification = {
  /** Active with a live lock but no progress: the process lives, the job is hung. */
  Hung: 'hung',
  /** Active but the lock expired: BullMQ's stall check will move it; leave it. */
  LockExpired: 'lock_expired',
  /** Waiting, delayed or prioritised: it is already on its way back. */
  Recovering: 'recovering',
  /** BullMQ failed it (e.g. "stalled more than allowable limit") while the row says running. */
  FailedByBullmq: 'failed_by_bullmq',
  /** BullMQ completed it while the row is unfinished: the row was never told. */
  CompletedInBullmq: 'completed_in_bullmq',
  /** BullMQ has no such job (lost Redis data, a crash between writes). */
  Lost: 'lost',
} as const;
/** One of {@link BullClassification}. */
export type BullClassification = (typeof BullClassification)[keyof typeof BullClassification];

/** What the monitor does with a candidate. */
export const MonitorAction = {
  /** Restart from the checkpoint after a backoff delay (compare-and-set on the row). */
  Restart: 'restart',
  /** Mark failed for good and alert (compare-and-set on the row). */
  Fail: 'fail',
  /** Re-add the missing BullMQ job of a pending row (no restart counted). */
  Readd: 'readd',
  /** Nothing to do now; check again one threshold later. */
  Leave: 'leave',
} as const;
/** One of {@link MonitorAction}. */
export type MonitorAction = (typeof MonitorAction)[keyof typeof MonitorAction];

/** A decision about one candidate, as recorded in the job's history and the monitor's log. */
export interface MonitorDecision {
  jobId: string;
  type: JobType;
  action: MonitorAction;
  /** Why it was a candidate. */
  reason: StaleReason | 'pending_without_job';
  classification: BullClassification | 'pending';
  /** Why this action (human text). */
  why: string;
  /** Restart only: the delay before the restarted attempt may run (ms). */
  delayMs?: number;
  /** The restart number this decision makes (restart) or the restarts done (fail). */
  restartNumber?: number;
  /** Stage of the last valid checkpoint the restart resumes after, if any. */
  checkpointStage?: string | null;
  lastHeartbeat: number | null;
  lastUpdate: number;
  stage: string | null;
  workerId: string | null;
  /** How long it had been stuck (ms, by the store's clock). */
  stuckForMs: number;
  /** Leave only: ask the attempt still holding the job to stop again (its abort request was missed). */
  resendAbort?: boolean;
  /** The fence of the attempt an abort request is meant for (a resent abort). */
  abortFence?: string;
  /** False when another monitor (or the worker) changed the row first: nothing was done. */
  applied?: boolean;
  /** True for a recovery drill's canary: shown labelled, kept out of production figures. */
  drill?: boolean;
}
