import { jobCatalog } from '../catalog/index.js';
import type { HistoryEntryInput, StatusRow, StatusStore } from '../status/types.js';
import type { RecoverWithAlertResult } from './outbox-types.js';
import { RecoveryAction } from './recovery-decision.js';
import type { RecoveryDecision, RecoverySnapshot } from './recovery-decision.js';

/**
 * The {@link RecoverySnapshot} of a status row as read: its status and restart count, with the
 * type's own restart limit and recovery policy (the catalog's unless the caller's settings say
 * otherwise). Every path builds its snapshot here, so none can use another type's limit.
 */
export function recoverySnapshotOf(
  row: Pick<StatusRow, 'type' | 'status' | 'restartCount'> | null,
  type: StatusRow['type'],
  extra: { maxRestarts?: number; hasValidCheckpoint?: boolean; autoRestart?: boolean } = {},
): RecoverySnapshot {
  const defaults = jobCatalog[type].defaults;
  return {
    type,
    status: row?.status ?? null,
    restartCount: row?.restartCount ?? 0,
    maxRestarts: extra.maxRestarts ?? defaults.maxRestarts,
    recovery: defaults.recovery,
    hasValidCheckpoint: extra.hasValidCheckpoint ?? false,
    ...(extra.autoRestart === undefined ? {} : { autoRestart: extra.autoRestart }),
  };
}

/** What {@link executeRecoveryDecision} writes beside the transition. */
export interface ExecuteRecoveryOptions {
  /** The row's error when the decision fails the job. */
  error?: string;
  /** The history entry recorded with the transition. */
  history: HistoryEntryInput;
  /** The alert the transition raises (written to the outbox in the same atomic step); absent: none. */
  alert?: Record<string, unknown>;
}

/** Outcome of {@link executeRecoveryDecision}: the store's compare-and-set result and the decision applied. */
export interface ExecutedRecovery extends RecoverWithAlertResult {
  decision: RecoveryDecision;
}

/**
 * The one executor of a row-moving {@link RecoveryDecision}: a restart or a fail goes through the
 * store's compare-and-set (`recoverWithAlert`: applied only if the row still has the fence and
 * restart count of the snapshot the decision was computed from, with the failure kind and the
 * alert in the same atomic step). Requeue, leave and refuse do not move the row (a requeue is
 * BullMQ's side, done by the caller): nothing is written and `applied` is false.
 * A caller whose compare-and-set was not applied reads the row again and decides again.
 */
export async function executeRecoveryDecision(
  store: Pick<StatusStore, 'recoverWithAlert'>,
  observed: StatusRow,
  decision: RecoveryDecision,
  options: ExecuteRecoveryOptions,
): Promise<ExecutedRecovery> {
  if (decision.action !== RecoveryAction.Restart && decision.action !== RecoveryAction.Fail) {
    return { decision, applied: false, row: observed, incident: null };
  }
  const outcome = await store.recoverWithAlert(observed.id, {
    expectedFence: observed.fence,
    expectedRestartCount: observed.restartCount,
    action: decision.action,
    ...(decision.action === RecoveryAction.Fail ? { failureKind: decision.failureKind, error: options.error ?? decision.why } : {}),
    history: { ...options.history, path: decision.path, why: options.history.why ?? decision.why },
    ...(options.alert === undefined ? {} : { alert: options.alert }),
  });
  return { ...outcome, decision };
}
