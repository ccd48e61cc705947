/**
 * Every error kai-jobs throws extends {@link KaiJobsError}. Errors cross process
 * boundaries as strings (BullMQ's `failedReason`) and several copies of a package
 * can be installed, so recognise them by `name`/`code` with {@link isKaiJobsError},
 * not by a bare `instanceof`.
 */

/** Brand set on every kai-jobs error; `Symbol.for` so two installed copies agree. */
const KAI_JOBS_ERROR_BRAND = Symbol.for('kai-jobs.error');

/** Stable machine-readable error codes of this package. */
export const QueueErrorCode = {
  Validation: 'VALIDATION',
  Config: 'CONFIG',
  RedisUnreachable: 'REDIS_UNREACHABLE',
  StaleFence: 'STALE_FENCE',
  NotFound: 'NOT_FOUND',
  InvalidTransition: 'INVALID_TRANSITION',
  Timeout: 'TIMEOUT',
  Cancelled: 'CANCELLED',
  Store: 'STORE',
} as const;
/** One of {@link QueueErrorCode}. */
export type QueueErrorCode = (typeof QueueErrorCode)[keyof typeof QueueErrorCode];

/** Options every kai-jobs error takes. */
export interface KaiJobsErrorOptions {
  /** Whether retrying the same operation may succeed. */
  retryable?: boolean;
  /** The underlying error (ES2022 `cause`). */
  cause?: unknown;
}

/**
 * The base class: a literal `name`, a stable `code`, a `retryable` flag and ES2022 `cause`.
 * Subclasses set `name` to a literal so it survives serialisation.
 */
export class KaiJobsError extends Error {
  override name: string = 'KaiJobsError';
  /** Stable machine-readable code; never reworded. */
  readonly code: string;
  /** Whether retrying the same operation may succeed. */
  readonly retryable: boolean;
  readonly [KAI_JOBS_ERROR_BRAND] = true;

  constructor(code: string, message: string, options: KaiJobsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** True for any kai-jobs error, from any installed copy of the package. */
export function isKaiJobsError(value: unknown): value is KaiJobsError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[KAI_JOBS_ERROR_BRAND] === true
  );
}

/** True when `value` is a kai-jobs error with the given code. */
export function hasErrorCode(value: unknown, code: string): boolean {
  return isKaiJobsError(value) && value.code === code;
}

/** One problem found in an input: where, what was expected, what was received. */
export interface FieldIssue {
  /** Dotted path of the field, e.g. `options.tileSizePx`; empty for the whole input. */
  path: string;
  /** What was wrong, in words (includes what was expected). */
  message: string;
  /** What was expected, when known (e.g. `string`, `one of pdf, scrape`). */
  expected?: string;
  /** A short description of what was received, when known. */
  received?: string;
}

/** Bad input: lists every bad field; nothing was written. Never retryable. */
export class ValidationError extends KaiJobsError {
  override name = 'ValidationError' as const;
  /** Every problem found, not only the first. */
  readonly issues: readonly FieldIssue[];

  constructor(subject: string, issues: readonly FieldIssue[], options: KaiJobsErrorOptions = {}) {
    super(QueueErrorCode.Validation, formatIssues(subject, issues), { ...options, retryable: false });
    this.issues = issues;
  }
}

function formatIssues(subject: string, issues: readonly FieldIssue[]): string {
  const lines = issues.map((issue) => {
    const where = issue.path === '' ? '(root)' : issue.path;
    const got = issue.received === undefined ? '' : ` (got ${issue.received})`;
    return `  - ${where}: ${issue.message}${got}`;
  });
  return `${subject}: ${issues.length} invalid field${issues.length === 1 ? '' : 's'}\n${lines.join('\n')}`;
}

/** A configuration value (environment variable or option) is unusable. */
export class ConfigError extends KaiJobsError {
  override name = 'ConfigError' as const;
  constructor(message: string, options: KaiJobsErrorOptions = {}) {
    super(QueueErrorCode.Config, message, { ...options, retryable: false });
  }
}

/** Redis did not answer in time; the message names the URL (without its password). */
export class RedisUnreachableError extends KaiJobsError {
  override name = 'RedisUnreachableError' as const;
  /** The URL that was tried, password masked. */
  readonly url: string;
  constructor(url: string, detail: string, options: KaiJobsErrorOptions = {}) {
    super(QueueErrorCode.RedisUnreachable, `Redis at ${url} is unreachable: ${detail}`, {
      retryable: true,
      ...options,
    });
    this.url = url;
  }
}

/**
 * A write carried a fence token that is no longer the job's current one: another
 * attempt has taken the job over. The writer must stop working on it.
 */
export class StaleFenceError extends KaiJobsError {
  override name = 'StaleFenceError' as const;
  readonly jobId: string;
  constructor(jobId: string, operation: string) {
    super(
      QueueErrorCode.StaleFence,
      `${operation} for job ${jobId} rejected: its fence token was superseded by a newer attempt`,
      { retryable: false },
    );
    this.jobId = jobId;
  }
}

/** The job (or status row) does not exist. */
export class JobNotFoundError extends KaiJobsError {
  override name = 'JobNotFoundError' as const;
  readonly jobId: string;
  constructor(jobId: string, options: KaiJobsErrorOptions = {}) {
    super(QueueErrorCode.NotFound, `job ${jobId} not found`, { ...options, retryable: false });
    this.jobId = jobId;
  }
}

/** A status transition that the row's current state does not allow (e.g. completing a failed job). */
export class InvalidTransitionError extends KaiJobsError {
  override name = 'InvalidTransitionError' as const;
  readonly jobId: string;
  constructor(jobId: string, detail: string) {
    super(QueueErrorCode.InvalidTransition, `job ${jobId}: ${detail}`, { retryable: false });
    this.jobId = jobId;
  }
}

/** Waiting for something took longer than allowed. */
export class TimeoutError extends KaiJobsError {
  override name = 'TimeoutError' as const;
  constructor(message: string, options: KaiJobsErrorOptions = {}) {
    super(QueueErrorCode.Timeout, message, { retryable: true, ...options });
  }
}

/** A store (Redis, Supabase) answered with an unexpected error. */
export class StoreError extends KaiJobsError {
  override name = 'StoreError' as const;
  constructor(message: string, options: KaiJobsErrorOptions = {}) {
    super(QueueErrorCode.Store, message, { retryable: true, ...options });
  }
}

/**
 * Normalises anything thrown into an `Error`. Every `catch (e: unknown)` boundary calls
 * this once, so the rest of the code only deals with `Error`.
 */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  if (typeof value === 'string') return new Error(value);
  try {
    return new Error(JSON.stringify(value));
  } catch {
    return new Error(String(value));
  }
}

/** A job the caller waited for ended `failed`. */
export class JobFailedError extends KaiJobsError {
  override name = 'JobFailedError' as const;
  readonly jobId: string;
  /** The stage it failed in, when known. */
  readonly stage: string | null;
  constructor(jobId: string, reason: string, stage: string | null) {
    super('JOB_FAILED', `job ${jobId} failed${stage === null ? '' : ` in stage ${stage}`}: ${reason}`, {
      retryable: false,
    });
    this.jobId = jobId;
    this.stage = stage;
  }
}

/** A checkpoint's data (or a resume state) is over the size limit: large outputs belong in the artifact store. */
export class CheckpointTooLargeError extends KaiJobsError {
  override name = 'CheckpointTooLargeError' as const;
  constructor(
    readonly jobId: string,
    readonly stage: string,
    readonly bytes: number,
    readonly limitBytes: number,
  ) {
    super(
      'CHECKPOINT_TOO_LARGE',
      `checkpoint of stage ${stage} (job ${jobId}) is ${bytes} bytes, over the ${limitBytes}-byte limit: ` +
        'store large outputs (text, tiles, vectors) with ctx.artifacts.put() and keep only their keys and hashes in the output',
      { retryable: false },
    );
  }
}
