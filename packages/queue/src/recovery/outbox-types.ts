import type { JobType } from '../catalog/index.js';
import type { RecoverInput, RecoverResult } from '../status/types.js';
import type { FailureKind } from './recovery-decision.js';

/** {@link RecoverInput} plus what the recovery executor writes in the same atomic step. */
export interface RecoverWithAlertInput extends RecoverInput {
  /** Fail only: why the job failed, kept on the row (`failure_kind`) and in the history entry. */
  failureKind?: FailureKind;
  /**
   * The alert this transition raises (a JSON object: the alert's input as the monitor built it),
   * written to the alert outbox with the transition, or absent when it raises none.
   */
  alert?: Record<string, unknown>;
}

/** Outcome of {@link StatusStore.recoverWithAlert}. */
export interface RecoverWithAlertResult extends RecoverResult {
  /** The incident number of the outbox entry written (1, 2, … per job); null when none was. */
  incident: number | null;
}

/** An alert written to the outbox and not yet marked delivered. */
export interface OutboxAlert {
  type: JobType;
  jobId: string;
  /** The incident number: with the job id, it names the alert and its Sentry event id. */
  incident: number;
  /** Store time the alert was written (ms). */
  at: number;
  /** The alert as written by {@link StatusStore.recoverWithAlert}. */
  alert: Record<string, unknown>;
}
