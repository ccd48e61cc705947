import { incidentEventId, isProcessingFailureAlert, JOB_TYPES, toError, type Logger, type OutboxAlert, type StatusStore } from '@kai-jobs/queue';
import { failureInput } from '../tick/failure-alerts.js';
import type { AlertInput } from './alert-kinds.js';
import type { Alerter } from './alerter.js';

/**
 * Points of a tick where a test's crash hook may stop the process (`kill -9` of itself), to
 * prove that no alert is lost or doubled wherever a monitor dies.
 */
export const CrashPoint = {
  /** The failing transition (and its outbox entry) committed; nothing sent yet. */
  AfterStateChange: 'after-state-change',
  /** The alert handed to the Sentry SDK, its answer not in yet. */
  WhileDelivering: 'while-delivering',
  /** Sentry took the alert; the outbox entry is not marked yet. */
  AfterSend: 'after-send',
} as const;
/** One of {@link CrashPoint}. */
export type CrashPoint = (typeof CrashPoint)[keyof typeof CrashPoint];

/** Called at each {@link CrashPoint}; a test's hook ends the process there. Never set in production. */
export type CrashHook = (point: CrashPoint) => void;

/** What delivering the outbox needs. */
export interface OutboxDeliveryDeps {
  statusStore: Pick<StatusStore, 'pendingAlerts' | 'markAlertSent' | 'get'>;
  alerter: Pick<Alerter, 'deliver'>;
  logger: Logger;
  /** At most this many alerts per type per pass. */
  limit: number;
  /** How long a pass waits for Sentry's answers (ms). */
  waitMs: number;
  crashHook?: CrashHook | undefined;
}

/** What one pass over the outbox did. */
export interface OutboxDeliveryResult {
  /** Alerts Sentry took (or the log, without a DSN) and that were marked sent. */
  delivered: number;
  /** Alerts left in the outbox for the next pass (Sentry unreachable or refusing). */
  left: number;
}

/**
 * The stored alert as the alerter's input. The outbox holds the input the executor built, with
 * the row as it was when the transition was decided — or, for a job that failed for good in a
 * worker, a processing-failure marker: its alert is the type's "processing failed" kind built
 * from the failed row, read now (a failed row never changes again, so every resend builds the
 * same event). Null when that row is gone (expired): there is nothing left to alert about.
 */
async function alertInputOf(entry: OutboxAlert, statusStore: Pick<StatusStore, 'get'>): Promise<AlertInput | null> {
  if (!isProcessingFailureAlert(entry.alert)) return entry.alert as unknown as AlertInput;
  const row = await statusStore.get(entry.jobId);
  if (row === null) return null;
  return failureInput(entry.type, row) as AlertInput;
}

/**
 * Delivers every alert the outbox holds — this monitor's and any a dead monitor left — under the
 * event id derived from its incident, and marks each one sent once Sentry answered. A monitor
 * dying between the send and the mark leaves the entry; the next pass sends it again with the
 * same event id, which Sentry keeps as one event. The alerts of a pass are sent together and
 * waited for at most `waitMs`, so an unreachable Sentry never holds a tick up: what it has not
 * taken by then stays in the outbox and is sent again by the next tick, until Sentry answers.
 */
export async function deliverOutbox(deps: OutboxDeliveryDeps): Promise<OutboxDeliveryResult> {
  let delivered = 0;
  let left = 0;
  const pending = (await Promise.all(JOB_TYPES.map((type) => deps.statusStore.pendingAlerts(type, deps.limit)))).flat();
  if (pending.length === 0) return { delivered, left };
  const deliveries: { entry: OutboxAlert; eventId: string; outcome: ReturnType<Alerter['deliver']> }[] = [];
  for (const entry of pending) {
    const eventId = incidentEventId(entry.jobId, entry.incident);
    const input = await alertInputOf(entry, deps.statusStore);
    if (input === null) {
      deps.logger.warn('outbox alert of a job whose row is gone (expired); dropped', { jobId: entry.jobId, incident: entry.incident });
      await deps.statusStore.markAlertSent(entry.type, entry.jobId, entry.incident);
      continue;
    }
    deliveries.push({ entry, eventId, outcome: deps.alerter.deliver(input, eventId, deps.waitMs) });
  }
  deps.crashHook?.(CrashPoint.WhileDelivering);
  for (const { entry, eventId, outcome } of deliveries) {
    if (!(await outcome).delivered) {
      left++;
      deps.logger.warn('Sentry has not taken an outbox alert; it stays in the outbox for the next tick', { jobId: entry.jobId, incident: entry.incident, eventId });
      continue;
    }
    deps.crashHook?.(CrashPoint.AfterSend);
    try {
      await deps.statusStore.markAlertSent(entry.type, entry.jobId, entry.incident);
      delivered++;
    } catch (error) {
      // Sent but not marked: the next pass sends it again under the same event id (one event in Sentry).
      left++;
      deps.logger.warn('could not mark an outbox alert sent', { jobId: entry.jobId, incident: entry.incident, error: toError(error).message });
    }
  }
  return { delivered, left };
}
