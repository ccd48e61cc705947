import type { Breadcrumb, SeverityLevel } from '@sentry/node';
import type { AlertKind } from './alert-kinds.js';
import type { CronScheduleInput } from './alerter-options.js';

/**
 * What a capture carries besides the error or message: the same shape for the six alerts
 * and for any other code's `captureException` / `captureMessage`.
 */
export interface CaptureContext {
  /** Searchable tags; the event gets exactly these (nothing ambient is added). */
  tags?: Record<string, string | number | boolean>;
  /** Free-form data (Sentry's "Additional Data"). */
  extra?: Record<string, unknown>;
  /** Named structured contexts (Sentry's "Contexts"). */
  contexts?: Record<string, Record<string, unknown>>;
  /** Grouping fingerprint; Sentry's default grouping when absent. */
  fingerprint?: string[];
  /**
   * What led up to the event (Sentry's "Breadcrumbs"), oldest first: e.g. the job's story —
   * fetched, checkpointed, resumed. Scrubbed like the rest of the event (`data.url`, `message`).
   */
  breadcrumbs?: Breadcrumb[];
  /** Severity of a captured exception. Default `error`. */
  level?: SeverityLevel;
}

/** What became of one {@link Alerter.alert} call. */
export interface AlertOutcome {
  kind: AlertKind;
  /**
   * `sent`: handed to the Sentry SDK, which delivers it in the background; `logged`: no
   * DSN (or closed), written to the log only; `duplicate`: this job, attempt and reason
   * already alerted; `dropped`: the alert could not be built (logged).
   */
  status: 'sent' | 'logged' | 'duplicate' | 'dropped';
  /** The Sentry event id (or the id written to the log); null when duplicate or dropped. */
  eventId: string | null;
  /** The fingerprint sent (secrets scrubbed). */
  fingerprint: string[];
  /** The tags sent (secrets scrubbed). */
  tags: Record<string, string>;
}

/** One Sentry Crons check-in. */
export interface CheckInInput {
  /** The monitor's slug in Sentry (e.g. `kai-jobs-monitor`). */
  monitorSlug: string;
  /** `in_progress` at the start of a run, then `ok` or `error` with the id it returned. */
  status: 'in_progress' | 'ok' | 'error';
  /** The id returned by the `in_progress` check-in this one finishes. */
  checkInId?: string;
  /** How long the run took (ms). */
  durationMs?: number;
  /** Overrides of the alerter's `crons` settings for this monitor. */
  schedule?: CronScheduleInput;
}
