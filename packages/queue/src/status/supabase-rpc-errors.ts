import {
  InvalidTransitionError,
  JobNotFoundError,
  type KaiJobsError,
  StaleFenceError,
  StoreError,
  ValidationError,
} from '../errors.js';

/** An error as supabase-js reports it (PostgREST's JSON error, or a network failure with status 0). */
export interface RpcFailure {
  message: string;
  code?: string | null;
  details?: string | null;
  hint?: string | null;
}

/** What was being done, for the error message. */
export interface RpcContext {
  /** The StatusStore operation, e.g. `progress`. */
  operation: string;
  /** The SQL function called. */
  fn: string;
  jobId?: string;
  /** The Supabase URL (no key). */
  url: string;
}

/** SQLSTATEs the kai-jobs SQL functions raise (see the migration's header). */
export const KaiSqlState = {
  NotFound: 'KJ404',
  StaleFence: 'KJ409',
  InvalidTransition: 'KJ412',
  InvalidInput: 'KJ422',
} as const;
/** One of {@link KaiSqlState}. */
export type KaiSqlState = (typeof KaiSqlState)[keyof typeof KaiSqlState];

/** PostgreSQL errors that mean "the values were wrong", not "the store failed". */
const INPUT_SQLSTATES = new Set([
  '23514', // check_violation
  '23502', // not_null_violation
  '22001', // string_data_right_truncation
  '22003', // numeric_value_out_of_range
  '22023', // invalid_parameter_value
  '22P02', // invalid_text_representation
]);

/** Errors worth retrying: the connection, conflicts between transactions, timeouts. */
function isTransient(code: string, status: number): boolean {
  return (
    status === 0 ||
    status >= 500 ||
    code.startsWith('08') || // connection exceptions
    code.startsWith('53') || // insufficient resources
    code === '40001' || // serialization_failure
    code === '40P01' || // deadlock_detected
    code === '55P03' || // lock_not_available
    code === '57014' || // query_canceled (statement timeout)
    code === 'PGRST000' ||
    code === 'PGRST001' ||
    code === 'PGRST002' ||
    code === 'PGRST003'
  );
}

function describe(error: RpcFailure, status: number): string {
  const parts = [error.message];
  if (error.details) parts.push(error.details);
  if (error.hint) parts.push(`hint: ${error.hint}`);
  return `${parts.join(' — ')} (HTTP ${status}${error.code ? `, ${error.code}` : ''})`;
}

/**
 * Turns a failed RPC into the kai-jobs error a caller of the StatusStore expects: the SQL
 * functions' KJ states become the same errors the Redis store throws; check violations become
 * a {@link ValidationError} naming the constraint; refused keys and missing functions are
 * permanent {@link StoreError}s; network failures and 5xx are retryable ones.
 */
export function rpcErrorToKaiError(error: RpcFailure, status: number, context: RpcContext): KaiJobsError {
  const code = error.code ?? '';
  const jobId = context.jobId ?? '?';
  switch (code) {
    case KaiSqlState.NotFound:
      return new JobNotFoundError(jobId);
    case KaiSqlState.StaleFence:
      return new StaleFenceError(jobId, context.operation);
    case KaiSqlState.InvalidTransition:
      return new InvalidTransitionError(jobId, error.details || error.message);
    case KaiSqlState.InvalidInput:
      return new ValidationError(`${context.operation} of job ${jobId}`, [
        { path: '', message: error.hint ? `${error.message} (${error.hint})` : error.message },
      ]);
    default:
      break;
  }
  if (INPUT_SQLSTATES.has(code)) {
    const constraint = /constraint "([^"]+)"/.exec(error.message)?.[1] ?? '';
    return new ValidationError(`${context.operation} of job ${jobId}: the database refused the row`, [
      { path: constraint, message: error.message },
    ]);
  }
  const where = `${context.operation} (${context.fn}) at ${context.url}`;
  if (status === 401 || code.startsWith('PGRST3')) {
    return new StoreError(`Supabase refused the key for ${where}: ${describe(error, status)}`, { retryable: false });
  }
  if (status === 403 || code === '42501') {
    return new StoreError(
      `Supabase denied ${where}: ${describe(error, status)}; kai-jobs needs the service role key`,
      { retryable: false },
    );
  }
  if (code === 'PGRST202' || code === '42883' || code === 'PGRST106') {
    return new StoreError(
      `Supabase has no ${context.fn} for ${where}: ${describe(error, status)}; are the kai-jobs migrations applied to this schema?`,
      { retryable: false },
    );
  }
  if (status === 0) {
    return new StoreError(`Supabase did not answer ${where}: ${describe(error, status)}`, { retryable: true });
  }
  return new StoreError(`Supabase failed ${where}: ${describe(error, status)}`, {
    retryable: isTransient(code, status),
  });
}
