import type { SeverityLevel } from '@sentry/node';
import type { Alerter } from './alerter.js';
import type { CaptureContext } from './alerter-types.js';

/**
 * The process-wide alerter behind the module-level {@link captureException} and
 * {@link captureMessage}, so any code of the system can report without threading an
 * alerter through every call. An entry point installs it once at start.
 */
let installed: Alerter | null = null;

/** Makes `alerter` the process-wide one (null uninstalls); returns the previous one. */
export function installAlerter(alerter: Alerter | null): Alerter | null {
  const previous = installed;
  installed = alerter;
  return previous;
}

/** The process-wide alerter, or null when none is installed. */
export function installedAlerter(): Alerter | null {
  return installed;
}

/**
 * Reports an exception through the installed alerter (see {@link Alerter.captureException}).
 * Returns the event id, or null when no alerter is installed. Never throws.
 */
export function captureException(error: unknown, context: CaptureContext = {}): string | null {
  return installed === null ? null : installed.captureException(error, context);
}

/**
 * Reports a message through the installed alerter (see {@link Alerter.captureMessage}).
 * Returns the event id, or null when no alerter is installed. Never throws.
 */
export function captureMessage(message: string, level: SeverityLevel = 'info', context: CaptureContext = {}): string | null {
  return installed === null ? null : installed.captureMessage(message, level, context);
}
