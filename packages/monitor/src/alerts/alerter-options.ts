import { ConfigError, parseOrThrow, silentLogger, systemClock, type Clock, type Logger } from '@kai-jobs/queue';
import { z } from 'zod';
import type { AlertDedupeStore } from './dedupe-store.js';

const MINUTE_MS = 60_000;

/** The Sentry Crons monitor settings sent with every check-in (Sentry creates or updates the monitor from them). */
export const CronScheduleSchema = z
  .object({
    /** The monitor ticks every this many minutes (Sentry's `interval` schedule). Default 1. */
    intervalMinutes: z.number().int().positive().default(1),
    /** Minutes after the expected check-in before Sentry calls it missed. Default 2. */
    checkinMarginMinutes: z.number().int().positive().default(2),
    /** Minutes a check-in may stay `in_progress` before Sentry calls it timed out. Default 5. */
    maxRuntimeMinutes: z.number().int().positive().default(5),
    /** Consecutive failed or missed check-ins before Sentry opens an issue. Default 1. */
    failureIssueThreshold: z.number().int().positive().default(1),
    /** Consecutive ok check-ins before Sentry resolves it. Default 1. */
    recoveryThreshold: z.number().int().positive().default(1),
    /** Time zone of the schedule. Default `UTC`. */
    timezone: z.string().min(1).default('UTC'),
  })
  .strict();
/**
 * The Sentry Crons `interval` (whole minutes: Sentry has no seconds) for a monitor that ticks
 * every `checkIntervalMs`: the interval itself when it is whole minutes, else the next whole
 * minute above it — never below (Sentry would expect check-ins faster than the ticks come and
 * report misses while every tick runs; `Math.round` did that for e.g. 89 s → 1 min) and never
 * more than a minute above. Sub-minute ticks check in every minute or more often: 1.
 */
export function cronIntervalMinutes(checkIntervalMs: number): number {
  if (!Number.isFinite(checkIntervalMs) || checkIntervalMs <= 0) throw new ConfigError(`check interval must be a positive number of ms, got ${checkIntervalMs}`);
  return Math.max(1, Math.ceil(checkIntervalMs / MINUTE_MS));
}

/** What callers pass for a cron schedule. */
export type CronScheduleInput = z.input<typeof CronScheduleSchema>;
/** A resolved cron schedule. */
export type CronSchedule = z.output<typeof CronScheduleSchema>;

/** Options of {@link Alerter}. */
export const AlerterOptionsSchema = z
  .object({
    /**
     * The Sentry DSN (`https://<public key>@<host>/<project id>`; a secret: read it from
     * `SENTRY_DSN`, never commit it). Absent or empty: alerts go to the structured log only.
     */
    dsn: z.string().optional(),
    /** Sentry environment. Default `production`. */
    environment: z.string().min(1).default('production'),
    /** Sentry release. Default none. */
    release: z.string().min(1).optional(),
    /** `server_name` of every event. Default the host name. */
    serverName: z.string().min(1).optional(),
    /** Where alerts go without a DSN, and what the alerter reports about itself. Default silent. */
    logger: z.custom<Logger>((value) => typeof value === 'object' && value !== null).default(silentLogger),
    /** Where sent alerts are remembered (share a Redis one across replicas). Default in-process memory. */
    dedupeStore: z.custom<AlertDedupeStore>((value) => typeof value === 'object' && value !== null).optional(),
    /** How long a sent alert's dedupe key is held (ms). Default 7 days. */
    dedupeTtlMs: z.number().int().positive().default(7 * 24 * 60 * MINUTE_MS),
    /** Longest wait for the dedupe store (ms); past it the alert is sent anyway (a duplicate beats a lost alert). Default 1000. */
    dedupeTimeoutMs: z.number().int().positive().default(1000),
    /** Longest wait for pending events on `flush()`/`close()` (ms). Default 2000. */
    flushTimeoutMs: z.number().int().positive().default(2000),
    /** Longest wait for Sentry to answer one envelope (ms); then it is dropped. Default 3000. */
    sendTimeoutMs: z.number().int().positive().default(3000),
    /** Envelopes queued for sending at most; more are dropped while Sentry is slow. Default 100. */
    maxQueuedEnvelopes: z.number().int().positive().default(100),
    /** The Sentry Crons monitor settings of {@link Alerter.checkIn}. */
    crons: CronScheduleSchema.prefault({}),
    /** Clock of the in-memory dedupe store. Default the system clock. */
    clock: z.custom<Clock>((value) => typeof value === 'object' && value !== null).default(systemClock),
  })
  .strict();
/** What callers pass to construct an {@link Alerter}. */
export type AlerterOptions = z.input<typeof AlerterOptionsSchema>;
/** Resolved {@link AlerterOptions}. */
export type ResolvedAlerterOptions = z.output<typeof AlerterOptionsSchema>;

/**
 * Checks a DSN without ever echoing it (it is a secret): `http(s)://<public key>@<host>/<project id>`.
 * Throws {@link ConfigError}.
 */
function checkDsn(dsn: string): void {
  const problem = (() => {
    let url: URL;
    try {
      url = new URL(dsn);
    } catch {
      return 'it is not a URL';
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return `its scheme is ${url.protocol} (expected http or https)`;
    if (url.username === '') return 'it has no public key before the @';
    if (!/\/\d+$/.test(url.pathname)) return 'its path does not end with a numeric project id';
    return null;
  })();
  if (problem !== null) {
    throw new ConfigError(
      `the Sentry DSN is not valid: ${problem}; expected https://<public key>@<host>/<project id> (the value is not shown: it is a secret)`,
    );
  }
}

/** Parses and checks {@link AlerterOptions}; an empty DSN counts as none. */
export function parseAlerterOptions(options: AlerterOptions): ResolvedAlerterOptions {
  const parsed = parseOrThrow(AlerterOptionsSchema, options, 'Alerter options');
  if (parsed.dsn !== undefined && parsed.dsn.trim() === '') delete parsed.dsn;
  if (parsed.dsn !== undefined) checkDsn(parsed.dsn);
  return parsed;
}
