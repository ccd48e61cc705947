import { FailureKind } from './recovery-decision.js';

/**
 * The outbox entry of a job that failed for good in a worker ("processing failed"). Workers do
 * not build Sentry alerts (the alert kinds, tags and fingerprints are the monitor's): they write
 * this marker with the failure, and the monitor's outbox delivery turns it into the type's
 * "processing failed" alert from the failed row, which never changes again — so every resend
 * builds the same event.
 */
export type ProcessingFailureAlert = {
  /** Tells this entry from an alert input the monitor wrote itself. */
  processingFailure: true;
  failureKind: typeof FailureKind.Processing;
  /** The error as written to the row (already scrubbed). */
  error: string;
  /** The stage that failed, if known. */
  stage: string | null;
  /** The attempt that failed. */
  attempt: number;
};

/** The outbox entry a worker's final failure writes (see {@link ProcessingFailureAlert}). */
export function processingFailureAlert(failure: { error: string; stage: string | null; attempt: number }): ProcessingFailureAlert {
  return { processingFailure: true, failureKind: FailureKind.Processing, error: failure.error, stage: failure.stage, attempt: failure.attempt };
}

/** True for an outbox alert written by {@link processingFailureAlert}. */
export function isProcessingFailureAlert(alert: Record<string, unknown>): alert is Record<string, unknown> & ProcessingFailureAlert {
  return alert.processingFailure === true;
}
