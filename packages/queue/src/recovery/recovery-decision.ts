import { RecoveryPolicy } from '../catalog/index.js';
import type { JobType } from '../catalog/index.js';
import type { JobStatus } from '../catalog/index.js';

/**
 * Why a job failed for good — a field of the row (`failure_kind`) and of its history entry,
 * so readers (the failure sweep, the board) never parse it back out of the error message.
 */
export const FailureKind = {
  /** The monitor failed stuck work (its stuck alert is the job's alert). */
  Stuck: 'stuck',
  /** An operator cancelled it (no alert). */
  Cancelled: 'cancelled',
  /** Its processing failed (a stage threw, attempts used up): the "processing failed" alert. */
  Processing: 'processing',
} as const;
/** One of {@link FailureKind}. */
export type FailureKind = (typeof FailureKind)[keyof typeof FailureKind];

/** True for a {@link FailureKind} value. */
export function isFailureKind(value: unknown): value is FailureKind {
  return typeof value === 'string' && (Object.values(FailureKind) as string[]).includes(value);
}

/** The path that asks for a decision: each one decides through this module, none has its own rule. */
export const RecoveryPath = {
  /** The monitor's tick judged the job stuck. */
  Tick: 'tick',
  /** The failover watcher saw the job's worker vanish. */
  Failover: 'failover',
  /** `kai-jobs restart`. */
  OperatorRestart: 'operator-restart',
  /** `kai-jobs cancel`. */
  OperatorCancel: 'operator-cancel',
  /** A `pending` row whose BullMQ job is missing (run by the monitor's tick). */
  PendingRepair: 'pending-repair',
  /** An attempt's stage threw. */
  AttemptFailure: 'attempt-failure',
  /** A worker shutting down hands its running jobs back. */
  ShutdownHandBack: 'shutdown-hand-back',
} as const;
/** One of {@link RecoveryPath}. */
export type RecoveryPath = (typeof RecoveryPath)[keyof typeof RecoveryPath];

/** What a decision does to the job. */
export const RecoveryAction = {
  /** Back to `pending` with a new fence and one more restart, resumed from the checkpoint after `delayMs`. */
  Restart: 'restart',
  /** Failed for good with a {@link FailureKind}; alerts unless cancelled. */
  Fail: 'fail',
  /** Back to the queue without counting a restart (shutdown hand-back, BullMQ retry, re-add of a pending row). */
  Requeue: 'requeue',
  /** Nothing now. */
  Leave: 'leave',
  /** Refused (e.g. an operator restart of a finished job): nothing is done, `why` says why. */
  Refuse: 'refuse',
} as const;
/** One of {@link RecoveryAction}. */
export type RecoveryAction = (typeof RecoveryAction)[keyof typeof RecoveryAction];

/** A pure decision about one job: what to do and why, computed from a {@link RecoverySnapshot}. */
export type RecoveryDecision =
  | { action: typeof RecoveryAction.Restart; path: RecoveryPath; restartNumber: number; why: string }
  | { action: typeof RecoveryAction.Fail; path: RecoveryPath; failureKind: FailureKind; why: string }
  | { action: typeof RecoveryAction.Requeue; path: RecoveryPath; why: string }
  | { action: typeof RecoveryAction.Leave; path: RecoveryPath; why: string }
  | { action: typeof RecoveryAction.Refuse; path: RecoveryPath; why: string };

/** Everything a decision depends on — plain data read by the caller just before deciding. */
export interface RecoverySnapshot {
  type: JobType;
  /** The row's status; null when the row is missing. */
  status: JobStatus | null;
  /** Restarts the row already had. */
  restartCount: number;
  /** The type's restart limit (monitor settings, else the catalog's default). */
  maxRestarts: number;
  /** The type's recovery policy. */
  recovery: RecoveryPolicy;
  /** True when the job has a valid checkpoint to resume after. */
  hasValidCheckpoint: boolean;
  /** The monitor's auto-restart switch (tick only). Default true. */
  autoRestart?: boolean;
}

const TERMINAL = new Set<string>(['completed', 'failed']);

function unfinished(snapshot: RecoverySnapshot): boolean {
  return snapshot.status !== null && !TERMINAL.has(snapshot.status);
}

/**
 * Stuck work found by the tick: restart from the checkpoint while the type restarts, auto-restart
 * is on, a valid checkpoint exists and the type's limit is not reached; else fail (`stuck`).
 */
export function decideStuck(snapshot: RecoverySnapshot): RecoveryDecision {
  const path = RecoveryPath.Tick;
  if (!unfinished(snapshot)) return { action: RecoveryAction.Leave, path, why: `row is ${snapshot.status ?? 'missing'}` };
  const restartable = snapshot.recovery === RecoveryPolicy.RestartFromCheckpoint;
  const autoRestart = snapshot.autoRestart !== false;
  const underLimit = snapshot.restartCount < snapshot.maxRestarts;
  if (restartable && autoRestart && snapshot.hasValidCheckpoint && underLimit) {
    const restartNumber = snapshot.restartCount + 1;
    return { action: RecoveryAction.Restart, path, restartNumber, why: `restart ${restartNumber} of ${snapshot.maxRestarts}` };
  }
  const because = !restartable
    ? `${snapshot.type} jobs are failed when stuck`
    : !autoRestart
      ? 'auto-restart is off'
      : !snapshot.hasValidCheckpoint
        ? 'no valid checkpoint to restart from'
        : `restart limit reached (${snapshot.restartCount} of ${snapshot.maxRestarts})`;
  return { action: RecoveryAction.Fail, path, failureKind: FailureKind.Stuck, why: because };
}

/**
 * A job of a vanished worker: handed back (a restart, counted against the type's own limit)
 * while under the limit; at the limit it is left to BullMQ's lock and the tick, which fails it.
 * A finished row is handed back without a restart (the next worker just completes the BullMQ job).
 */
export function decideFailover(snapshot: RecoverySnapshot): RecoveryDecision {
  const path = RecoveryPath.Failover;
  if (snapshot.status === null || !unfinished(snapshot)) {
    return { action: RecoveryAction.Requeue, path, why: `row is ${snapshot.status ?? 'missing'}: handed back without a restart` };
  }
  if (snapshot.restartCount >= snapshot.maxRestarts) {
    return { action: RecoveryAction.Leave, path, why: `restart limit of ${snapshot.type} reached (${snapshot.restartCount} of ${snapshot.maxRestarts})` };
  }
  const restartNumber = snapshot.restartCount + 1;
  return { action: RecoveryAction.Restart, path, restartNumber, why: `failover: restart ${restartNumber} of ${snapshot.maxRestarts}` };
}

/**
 * `kai-jobs restart`: an operator may restart an unfinished job past the automatic limit only
 * with `force` (the limit is what makes the monitor give up; an operator overriding it says so).
 */
export function decideOperatorRestart(snapshot: RecoverySnapshot, options: { force?: boolean } = {}): RecoveryDecision {
  const path = RecoveryPath.OperatorRestart;
  if (snapshot.status === null) return { action: RecoveryAction.Refuse, path, why: 'no such job' };
  if (!unfinished(snapshot)) {
    return { action: RecoveryAction.Refuse, path, why: `a ${snapshot.status} job is not restarted; enqueue it again (same payload, a new id)` };
  }
  if (snapshot.restartCount >= snapshot.maxRestarts && options.force !== true) {
    return {
      action: RecoveryAction.Refuse,
      path,
      why: `restart limit of ${snapshot.type} reached (${snapshot.restartCount} of ${snapshot.maxRestarts}); pass --force to restart it anyway`,
    };
  }
  const restartNumber = snapshot.restartCount + 1;
  return { action: RecoveryAction.Restart, path, restartNumber, why: `operator restart ${restartNumber}` };
}

/** `kai-jobs cancel`: fails an unfinished job (`cancelled`, no alert); a finished one is left as it is. */
export function decideCancel(snapshot: RecoverySnapshot): RecoveryDecision {
  const path = RecoveryPath.OperatorCancel;
  if (!unfinished(snapshot)) return { action: RecoveryAction.Leave, path, why: `job is ${snapshot.status ?? 'missing'}` };
  return { action: RecoveryAction.Fail, path, failureKind: FailureKind.Cancelled, why: 'cancelled by an operator' };
}

/** A `pending` row whose BullMQ job is missing, failed or completed: re-added (no restart counted). */
export function decidePendingRepair(snapshot: RecoverySnapshot, bullState: 'missing' | 'failed' | 'completed' | 'queued' | 'active'): RecoveryDecision {
  const path = RecoveryPath.PendingRepair;
  if (snapshot.status !== 'pending') return { action: RecoveryAction.Leave, path, why: `row is ${snapshot.status ?? 'missing'}` };
  if (bullState === 'queued' || bullState === 'active') return { action: RecoveryAction.Leave, path, why: `BullMQ job is ${bullState}` };
  return { action: RecoveryAction.Requeue, path, why: `pending row whose BullMQ job is ${bullState}: re-adding it` };
}

/** What an attempt's failure is, as the worker saw it. */
export interface AttemptFailure {
  /** The error is permanent (invalid payload, `UnrecoverableError`). */
  permanent: boolean;
  /** BullMQ attempts used, counting this one. */
  attemptsMade: number;
  /** BullMQ attempts allowed for the type. */
  attempts: number;
}

/**
 * A stage threw: BullMQ retries a transient error while attempts remain (no restart counted);
 * a permanent error or the last attempt fails the job (`processing`, which alerts).
 */
export function decideAttemptFailure(snapshot: RecoverySnapshot, failure: AttemptFailure): RecoveryDecision {
  const path = RecoveryPath.AttemptFailure;
  if (!unfinished(snapshot)) return { action: RecoveryAction.Leave, path, why: `row is ${snapshot.status ?? 'missing'}` };
  if (!failure.permanent && failure.attemptsMade < failure.attempts) {
    return { action: RecoveryAction.Requeue, path, why: `attempt ${failure.attemptsMade} of ${failure.attempts} failed: BullMQ retries it` };
  }
  return {
    action: RecoveryAction.Fail,
    path,
    failureKind: FailureKind.Processing,
    why: failure.permanent ? 'permanent error' : `attempts used up (${failure.attemptsMade} of ${failure.attempts})`,
  };
}

/**
 * A worker shutting down: its running job goes back to the queue at once, no restart counted —
 * unless the row finished meanwhile (cancelled, failed by the monitor) or another attempt
 * superseded this one (`superseded`: the row's fence is not the attempt's), when it is left to
 * whoever moved it.
 */
export function decideShutdownHandBack(snapshot: RecoverySnapshot, attempt: { superseded?: boolean } = {}): RecoveryDecision {
  const path = RecoveryPath.ShutdownHandBack;
  if (!unfinished(snapshot)) return { action: RecoveryAction.Leave, path, why: `row is ${snapshot.status ?? 'missing'}` };
  if (attempt.superseded === true) return { action: RecoveryAction.Leave, path, why: 'another attempt holds the job' };
  return { action: RecoveryAction.Requeue, path, why: 'worker shutting down: handed back to the queue' };
}
