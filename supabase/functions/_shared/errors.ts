/**
 * The errors the edge functions throw. Each carries the HTTP status the function answers
 * with and the `step` it failed in (a Sentry tag), so one `onError` turns any of them into a
 * clear JSON answer.
 */

/** Where a function failed: the value of the `step` tag. */
export type FailedStep = 'config' | 'validate' | 'create_row' | 'enqueue';

/** Base class: a literal `name`, a `code`, the HTTP status and whether a retry may succeed. */
export class EdgeFunctionError extends Error {
  override readonly name: string = 'EdgeFunctionError';
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly step: FailedStep,
    readonly retryable: boolean,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

/** A request body field is missing or wrong: 400, naming the field. Not retryable. */
export class InputError extends EdgeFunctionError {
  override readonly name = 'InputError';
  constructor(readonly field: string, problem: string) {
    super('INVALID_INPUT', `${field}: ${problem}`, 400, 'validate', false);
  }
}

/** An environment variable is missing or malformed: 500, naming the variable. */
export class FunctionConfigError extends EdgeFunctionError {
  override readonly name = 'FunctionConfigError';
  constructor(readonly variable: string, problem: string) {
    super('CONFIG', `${variable}: ${problem} (set it with "supabase secrets set ${variable}=…")`, 500, 'config', false);
  }
}

/** Supabase refused or could not be reached while writing the function's row: 502 or 503. */
export class DatabaseError extends EdgeFunctionError {
  override readonly name = 'DatabaseError';
  constructor(message: string, readonly unreachable: boolean, options: { cause?: unknown } = {}) {
    super(unreachable ? 'DATABASE_UNREACHABLE' : 'DATABASE', message, unreachable ? 503 : 502, 'create_row', unreachable, options);
  }
}

/** The board refused the job or could not be reached: 502 (refused) or 503 (unreachable, 5xx). */
export class EnqueueError extends EdgeFunctionError {
  override readonly name = 'EnqueueError';
  constructor(message: string, readonly boardStatus: number | null, options: { cause?: unknown } = {}) {
    const retryable = boardStatus === null || boardStatus >= 500 || boardStatus === 429;
    super('ENQUEUE', message, retryable ? 503 : 502, 'enqueue', retryable, options);
  }
}

/** Any thrown value as an Error. */
export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(typeof value === 'string' ? value : JSON.stringify(value));
}
