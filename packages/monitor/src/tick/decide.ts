import { backoffDelayMs, type BackoffPolicy } from '@kai-jobs/checkpoint';
import { ACTIVE_STATUSES, decideStuck, JobStatus, RecoveryAction, type StaleCandidate } from '@kai-jobs/queue';
import type { TypeMonitorSettings } from '../config.js';
import { BullClassification, MonitorAction, type MonitorDecision } from './decision-types.js';

/** Everything the decision depends on — plain data. */
export interface DecisionInput {
  candidate: StaleCandidate;
  classification: BullClassification;
  settings: TypeMonitorSettings;
  autoRestart: boolean;
  backoff: BackoffPolicy;
  /** Stage of the job's last valid checkpoint, or null when it has none. */
  lastValidCheckpointStage: string | null;
  /** True when the job's worker reports buffered status writes (a store outage, not stuck work). */
  workerBehind: boolean;
  /** The token of the attempt holding the job's BullMQ lock (active jobs), when it was read. */
  lockToken?: string | null;
  /**
   * A pending row whose BullMQ job is active with a lock: the fence of the attempt the last
   * restart stopped (from the job's history), or null when none is known. Only that attempt is
   * asked to stop again; any other lock holder is a new attempt whose claim has not landed yet.
   */
  stoppedFence?: string | null;
  /**
   * True when the row, read again just before deciding, has moved since the candidate was found
   * (a heartbeat, progress or claim landed while the tick ran — e.g. a worker's writes buffered
   * through a store outage): it is judged again at the next check, not on the old snapshot.
   */
  changedSinceFound?: boolean;
  /** Injected randomness for the backoff jitter. */
  random?: () => number;
}

const QUEUED = new Set<BullClassification>([BullClassification.Recovering, BullClassification.Hung]);

/**
 * Decides what to do with one candidate — a pure function, so every rule is unit-tested:
 * - a foreign row (the platform's own, no kai-jobs bookkeeping) → fail and alert;
 * - a `pending` row whose BullMQ job is missing → re-add it; otherwise it is queued → leave;
 * - a running row whose job is waiting/delayed (recovering) or whose lock just expired
 *   (BullMQ's stall check moves it) → leave; a lock held by another attempt than the row's
 *   (a new attempt that has not claimed the row yet) → leave; a worker behind on its writes → leave;
 * - hung, failed by BullMQ, completed in BullMQ or lost → stuck: restart from the checkpoint
 *   (restart-from-checkpoint types, auto-restart on, a valid checkpoint, fewer restarts than
 *   the limit) after the backoff delay, else fail and alert.
 */
export function decide(input: DecisionInput): MonitorDecision {
  const { candidate, classification, settings } = input;
  const { row } = candidate;
  const base = {
    jobId: row.id,
    type: row.type,
    reason: candidate.reason,
    classification,
    lastHeartbeat: row.lastHeartbeat,
    lastUpdate: row.updatedAt,
    stage: row.currentStage,
    workerId: row.workerId,
    stuckForMs: candidate.ageMs,
  } as const;

  if (candidate.foreign === true) {
    // A platform row kai-jobs does not own (no payload, no fence): it cannot be run again, so a
    // stuck one is failed with the stuck alert, whatever BullMQ says (it has no job for it).
    return {
      ...base,
      action: MonitorAction.Fail,
      why: `${candidate.reason}: a row kept by the platform's other writers; kai-jobs cannot run it`,
      restartNumber: row.restartCount,
      checkpointStage: null,
    };
  }
  if (row.status === JobStatus.Pending) {
    if (classification === BullClassification.Lost) {
      return { ...base, reason: 'pending_without_job', classification: 'pending', action: MonitorAction.Readd, why: 'pending row without a BullMQ job: re-adding it from the row' };
    }
    if (classification === BullClassification.FailedByBullmq || classification === BullClassification.CompletedInBullmq) {
      // A restart whose re-add has not happened yet would be lost; the job is finished in BullMQ.
      return { ...base, reason: 'pending_without_job', classification: 'pending', action: MonitorAction.Readd, why: `pending row whose BullMQ job is ${classification}: re-adding it` };
    }
    if (classification === BullClassification.Hung) {
      // Either the attempt a restart stopped missed its abort, or a new attempt took the job and
      // has not claimed the row yet (the window is one store write, or an outage's length): only
      // the former is asked to stop again, by its fence, so the request cannot stop the latter.
      if (input.stoppedFence) {
        return {
          ...base,
          action: MonitorAction.Leave,
          resendAbort: true,
          abortFence: input.stoppedFence,
          why: 'restarted, but an attempt still holds the job: asking the stopped attempt to stop again',
        };
      }
      return { ...base, action: MonitorAction.Leave, why: 'pending and active in BullMQ: a new attempt is claiming it' };
    }
    return { ...base, action: MonitorAction.Leave, why: `pending and ${QUEUED.has(classification) ? 'queued in BullMQ' : classification}` };
  }
  if (!ACTIVE_STATUSES.includes(row.status)) {
    return { ...base, action: MonitorAction.Leave, why: `row is ${row.status}` };
  }
  if (classification === BullClassification.Recovering) {
    return { ...base, action: MonitorAction.Leave, why: 'already back in BullMQ (waiting or delayed)' };
  }
  if (classification === BullClassification.LockExpired) {
    return { ...base, action: MonitorAction.Leave, why: "lock expired: BullMQ's stall check will move it" };
  }
  if (classification === BullClassification.Hung && typeof input.lockToken === 'string' && input.lockToken !== row.fence) {
    // The row describes an earlier attempt; the one holding the lock took the job since and is
    // about to claim the row. Judging it by the earlier attempt's age would restart or fail it.
    return { ...base, action: MonitorAction.Leave, why: 'a new attempt holds the lock and has not claimed the row yet' };
  }
  if (input.changedSinceFound === true) {
    return { ...base, action: MonitorAction.Leave, why: 'its row moved while the tick ran (a heartbeat or progress landed): judged again at the next check' };
  }
  if (input.workerBehind) {
    return { ...base, action: MonitorAction.Leave, why: `worker ${row.workerId ?? '?'} reports buffered status writes (store outage), not stuck work` };
  }

  // The restart-or-fail rule itself is the one every path shares (@kai-jobs/queue's decideStuck).
  const shared = decideStuck({
    type: row.type,
    status: row.status,
    restartCount: row.restartCount,
    maxRestarts: settings.maxRestarts,
    recovery: settings.recovery,
    hasValidCheckpoint: input.lastValidCheckpointStage !== null,
    autoRestart: input.autoRestart,
  });
  if (shared.action === RecoveryAction.Restart) {
    return {
      ...base,
      action: MonitorAction.Restart,
      why: `${classification}: restart ${shared.restartNumber} of ${settings.maxRestarts} from checkpoint ${input.lastValidCheckpointStage}`,
      restartNumber: shared.restartNumber,
      checkpointStage: input.lastValidCheckpointStage,
      delayMs: backoffDelayMs({ ...input.backoff, maxRestarts: settings.maxRestarts }, shared.restartNumber, input.random),
    };
  }
  if (shared.action !== RecoveryAction.Fail) return { ...base, action: MonitorAction.Leave, why: shared.why };
  return {
    ...base,
    action: MonitorAction.Fail,
    why: `${classification}: ${shared.why}`,
    restartNumber: row.restartCount,
    checkpointStage: input.lastValidCheckpointStage,
  };
}
