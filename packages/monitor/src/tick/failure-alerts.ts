import { FailureKind, JOB_TYPES, toError, type JobType, type Logger, type RedisClient, type StatusStore } from '@kai-jobs/queue';
import type { Alerter } from '../alerts/alerter.js';
import { failureAlertKind } from './alert-kinds-by-type.js';

/** Rows the monitor itself failed carry this error prefix (for people reading the error; the failure kind is the field). */
export const STUCK_ERROR_PREFIX = 'stuck: ';

/**
 * Failure kinds the sweep leaves alone: every failure kai-jobs writes itself raises its alert
 * through the outbox in the same atomic step (`processing`: the worker's final failure; `stuck`:
 * the monitor's) or none (`cancelled`). What remains for the sweep is a failed row without a
 * kind — one a platform writer failed, or one failed before the outbox existed.
 */
const ALERTED_THROUGH_OUTBOX_OR_SILENT = new Set<string>([FailureKind.Stuck, FailureKind.Cancelled, FailureKind.Processing]);

/** What the failure sweep needs. */
export interface FailureSweepDeps {
  statusStore: StatusStore;
  alerter: Alerter;
  redis: RedisClient;
  /** Key of the hash holding each type's cursor (store time of the last failure alerted). */
  cursorKey: string;
  storeNow: number;
  /** On the first sweep, only failures this recent are alerted (no flood on a new deployment). */
  firstSweepWindowMs: number;
  limit: number;
  logger: Logger;
}

/**
 * Alerts on failed rows without a failure kind since the previous sweep — failures kai-jobs did
 * not write (a platform writer's, or from before the alert outbox): one "processing failed"
 * alert per job and attempt (the alerter's dedupe makes racing replicas send it once). Walks
 * forward through each type's failed rows from a cursor kept in Redis. Rows with a kind are
 * skipped: a worker's final failure (`processing`) and the monitor's (`stuck`) alert through the
 * outbox, written with the failure; a cancel (`cancelled`) raises none. No job alerts twice.
 */
export async function sweepFailures(deps: FailureSweepDeps): Promise<number> {
  let alerted = 0;
  // Three round trips whatever the number of types (cursors, lists, cursors): a tick with
  // nothing to alert is made of such reads, and each sequential one is a loopback round trip.
  const stored = await deps.redis.hmget(deps.cursorKey, ...JOB_TYPES);
  const cursors = JOB_TYPES.map((_, index) => {
    const value = stored[index];
    return value === null || value === undefined ? deps.storeNow - deps.firstSweepWindowMs : Number(value);
  });
  const rowsByType = await Promise.all(
    JOB_TYPES.map((type, index) => deps.statusStore.list({ type, status: 'failed', updatedAfter: cursors[index] as number, limit: deps.limit })),
  );
  for (const [index, type] of JOB_TYPES.entries()) {
    for (const row of rowsByType[index] ?? []) {
      cursors[index] = Math.max(cursors[index] as number, row.updatedAt);
      // The failure kind is a field of the row, never parsed from the message.
      if (row.failureKind != null && ALERTED_THROUGH_OUTBOX_OR_SILENT.has(row.failureKind)) continue;
      try {
        const outcome = await deps.alerter.alert(failureInput(type, row));
        if (outcome.status === 'sent' || outcome.status === 'logged') alerted++;
      } catch (caught) {
        deps.logger.error('failure alert failed', { jobId: row.id, error: toError(caught).message });
      }
    }
  }
  await deps.redis.hset(deps.cursorKey, Object.fromEntries(JOB_TYPES.map((type, index) => [type, String(cursors[index])])));
  return alerted;
}

/** The type's "processing failed" alert input for a failed row (the sweep's, and the outbox's for a worker's failure). */
export function failureInput(type: JobType, row: Parameters<Alerter['alert']>[0]['row']): Parameters<Alerter['alert']>[0] {
  const kind = failureAlertKind(type);
  const base = { row, attempt: row.attempt, error: row.error ?? 'unknown error', stage: row.errorStage };
  if (kind === 'xml-import-job-failed') return { ...base, kind, retryCount: Math.max(0, row.attempt - 1) };
  return { ...base, kind } as Parameters<Alerter['alert']>[0];
}
