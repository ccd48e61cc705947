/**
 * The platform's Sentry helper for edge functions: `captureException(error, context)` and
 * `captureMessage(message, level, context)` with the tags, contexts and fingerprint the
 * platform's alert rules match on, then `flush()` before the function answers (an edge
 * function's isolate may be frozen as soon as the response is sent, taking unsent events
 * with it).
 *
 * SENTRY_DSN (a secret: set it with `supabase secrets set`, never commit it) turns sending on;
 * without it events are written to the function's log as one JSON line each, so nothing is
 * lost silently. SENTRY_ENVIRONMENT (default `production`) and SENTRY_RELEASE are optional.
 */
import * as Sentry from '@sentry/deno';

/** Sentry's severity levels. */
export type SeverityLevel = 'fatal' | 'error' | 'warning' | 'log' | 'info' | 'debug';

/** What an event carries besides the error or message. */
export interface CaptureContext {
  /** Searchable tags (`function`, `error_type`, ids, `source_url`/`source_name`). Values are cut to 200 characters. */
  tags?: Record<string, string>;
  /** Named context blocks shown on the event (`{ scraping_session_failed: {...} }`). */
  contexts?: Record<string, Record<string, unknown>>;
  /** Free-form extra data. */
  extra?: Record<string, unknown>;
  /** Groups events into one issue, e.g. `['scraping-session-failed', source_url]`. */
  fingerprint?: string[];
  /** Overrides the level (default `error` for exceptions). */
  level?: SeverityLevel;
}

/** Sentry's limit on a tag value. */
const MAX_TAG_VALUE_LENGTH = 200;

let initialised: boolean | null = null;

/** Starts the SDK once per isolate, from SENTRY_DSN; false when no DSN is set. */
function ensureSentry(): boolean {
  if (initialised !== null) return initialised;
  const dsn = Deno.env.get('SENTRY_DSN')?.trim();
  if (dsn === undefined || dsn === '') {
    initialised = false;
    return false;
  }
  const release = Deno.env.get('SENTRY_RELEASE');
  Sentry.init({
    dsn,
    environment: Deno.env.get('SENTRY_ENVIRONMENT') ?? 'production',
    ...(release ? { release } : {}),
    // The functions report their own failures, once each: no global handlers that would
    // report the re-thrown error a second time, no tracing.
    defaultIntegrations: false,
    sendDefaultPii: false,
    tracesSampleRate: 0,
  });
  initialised = true;
  return true;
}

function cutTags(tags: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(tags ?? {})) out[key] = value.length > MAX_TAG_VALUE_LENGTH ? value.slice(0, MAX_TAG_VALUE_LENGTH) : value;
  return out;
}

function applyContext(scope: Sentry.Scope, context: CaptureContext, defaultLevel: SeverityLevel): void {
  scope.setTags(cutTags(context.tags));
  for (const [name, block] of Object.entries(context.contexts ?? {})) scope.setContext(name, block);
  if (context.extra) scope.setExtras(context.extra);
  if (context.fingerprint) scope.setFingerprint(context.fingerprint);
  scope.setLevel(context.level ?? defaultLevel);
}

/** Writes the event to the function's log when no DSN is set. */
function logEvent(kind: 'exception' | 'message', text: string, level: SeverityLevel, context: CaptureContext): void {
  console.error(JSON.stringify({ sentry: 'not configured (SENTRY_DSN unset)', kind, level, message: text, tags: cutTags(context.tags), fingerprint: context.fingerprint ?? null, contexts: context.contexts ?? {} }));
}

/** Reports an exception; returns the event id, or null when SENTRY_DSN is unset (then it is logged). Never throws. */
export function captureException(error: unknown, context: CaptureContext = {}): string | null {
  try {
    if (!ensureSentry()) {
      logEvent('exception', error instanceof Error ? `${error.name}: ${error.message}` : String(error), context.level ?? 'error', context);
      return null;
    }
    return Sentry.withScope((scope) => {
      applyContext(scope, context, 'error');
      return Sentry.captureException(error);
    });
  } catch {
    return null;
  }
}

/** Reports a message; returns the event id, or null when SENTRY_DSN is unset (then it is logged). Never throws. */
export function captureMessage(message: string, level: SeverityLevel = 'info', context: CaptureContext = {}): string | null {
  try {
    if (!ensureSentry()) {
      logEvent('message', message, level, context);
      return null;
    }
    return Sentry.withScope((scope) => {
      applyContext(scope, context, level);
      return Sentry.captureMessage(message);
    });
  } catch {
    return null;
  }
}

/** Waits up to `timeoutMs` (default 2000) for queued events to be sent; true when all were. */
export async function flush(timeoutMs = 2000): Promise<boolean> {
  if (initialised !== true) return true;
  try {
    return await Sentry.flush(timeoutMs);
  } catch {
    return false;
  }
}
