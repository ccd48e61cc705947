import type { StatusRow } from '@kai-jobs/queue';

/**
 * The six alert kinds, their tags, context and fingerprint — exactly what the platform's
 * existing Sentry alert rules match on. Each value is also the first element of the
 * kind's fingerprint. Building an alert is a pure function; sending it is the
 * {@link Alerter}'s job.
 */
export const AlertKind = {
  /** A PDF job failed for good. */
  PdfProcessingFailed: 'pdf-processing-failed',
  /** The monitor found a PDF job stuck (and failed it). */
  StuckPdfJob: 'stuck-job',
  /** The monitor found a scraping session stuck (and failed it). */
  StuckScrapingSession: 'stuck-scraping-session',
  /** A scraping session failed for good. */
  ScrapingSessionFailed: 'scraping-session-failed',
  /** The monitor found an XML import job stuck (and failed it). */
  StuckImportJob: 'stuck-import-job',
  /** An XML import job failed for good. */
  XmlImportFailed: 'xml-import-job-failed',
} as const;
/** One of {@link AlertKind}. */
export type AlertKind = (typeof AlertKind)[keyof typeof AlertKind];
/** Every alert kind. */
export const ALERT_KINDS: readonly AlertKind[] = Object.values(AlertKind);

/** The value of a tag, a context field, or a fingerprint part when the row does not know it. */
export const UNKNOWN = 'unknown';
/** Sentry drops tag values longer than this, so longer ones are cut (the context keeps the full value). */
export const MAX_TAG_VALUE_LENGTH = 200;

/** What every alert input carries. */
export interface AlertInputBase {
  /** The job's status row as the caller saw it. */
  row: StatusRow;
  /** The attempt the alert is about (one alert per job, attempt and reason). Default `row.attempt`. */
  attempt?: number;
}

/** A job that failed for good: the error and the stage it failed in. */
export interface FailureInput extends AlertInputBase {
  /** The error (an `Error` or its message). Default `row.error`. */
  error?: unknown;
  /** The stage it failed in. Default `row.errorStage`, then `row.currentStage`. */
  stage?: string | null;
}

/** Stuck work the monitor found: why, and for how long. */
export interface StuckInput extends AlertInputBase {
  /** Why it is stuck (e.g. `heartbeat_timeout`, `update_timeout`, `lost`, `max_restarts_exceeded`); the fingerprint of stuck PDF jobs. */
  reason: string;
  /** How long it had made no progress (ms), by the store's clock. */
  stuckForMs: number;
}

/** Alert 1: a PDF job failed for good. */
export interface PdfProcessingFailedInput extends FailureInput {
  kind: typeof AlertKind.PdfProcessingFailed;
  /** The `error_type` tag. Default the error's name in snake_case (`PermanentJobError` → `permanent_job_error`), or `pdf_processing_failed`. */
  errorType?: string;
  /** The `job_type` tag. Default `pdf_processing`. */
  jobTypeTag?: string;
}
/** Alert 2: a stuck PDF job. */
export interface StuckPdfJobInput extends StuckInput {
  kind: typeof AlertKind.StuckPdfJob;
}
/** Alert 3: a stuck scraping session. */
export interface StuckScrapingSessionInput extends StuckInput {
  kind: typeof AlertKind.StuckScrapingSession;
}
/** Alert 4: a scraping session failed for good. */
export interface ScrapingSessionFailedInput extends FailureInput {
  kind: typeof AlertKind.ScrapingSessionFailed;
}
/** Alert 5: a stuck XML import job. */
export interface StuckImportJobInput extends StuckInput {
  kind: typeof AlertKind.StuckImportJob;
}
/** Alert 6: an XML import job failed for good. */
export interface XmlImportFailedInput extends FailureInput {
  kind: typeof AlertKind.XmlImportFailed;
  /** Retries made before giving up. Default `attempt - 1` (every attempt after the first, monitor restarts included). */
  retryCount?: number;
}
/** What {@link Alerter.alert} takes: one of the six kinds. */
export type AlertInput =
  | PdfProcessingFailedInput
  | StuckPdfJobInput
  | StuckScrapingSessionInput
  | ScrapingSessionFailedInput
  | StuckImportJobInput
  | XmlImportFailedInput;

/** Sentry severity of an alert: failures are errors, stuck work is a warning (as the platform sends them). */
export type AlertLevel = 'error' | 'warning';

/** An alert ready to send: exactly what goes to Sentry (or to the log). */
export interface BuiltAlert {
  kind: AlertKind;
  level: AlertLevel;
  /** The exception of a failure alert; null for a stuck alert (sent as a message). */
  error: Error | null;
  /** The message of a stuck alert, or the error's message. */
  message: string;
  tags: Record<string, string>;
  /** One named context (`contexts.<name>` in the Sentry event). */
  contexts: Record<string, Record<string, unknown>>;
  fingerprint: [string, string];
  /** What makes two alerts the same one: the job, the attempt, the reason. */
  dedupe: { jobId: string; attempt: number; reason: string };
}
