/**
 * The platform's rows, written with supabase-js as the service role: a `pending` row is
 * created before the job is enqueued (kai-jobs adopts it as the job's status row: same id, no
 * payload yet), and marked `failed` when the enqueue is refused, so no row is left pending
 * with no job behind it.
 */
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import type { FunctionEnv } from './env.ts';
import { DatabaseError, toError } from './errors.ts';

/** The tables the functions create rows in. */
export type PlatformTable = 'scraping_sessions' | 'data_import_jobs';

/** A supabase-js client on any schema (the functions have no generated database types). */
// deno-lint-ignore no-explicit-any
export type PlatformClient = SupabaseClient<any, any, any, any, any>;

/** A supabase-js client for the service role: no session, no token refresh, no realtime. */
export function platformClient(env: Pick<FunctionEnv, 'supabaseUrl' | 'serviceRoleKey' | 'schema'>): PlatformClient {
  return createClient(env.supabaseUrl, env.serviceRoleKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    db: { schema: env.schema },
  });
}

/** PostgREST's gateway answered, but not with success: is it the database being away? */
function unreachable(status: number, code: string | undefined): boolean {
  return status === 0 || status === 502 || status === 503 || status === 504 || code === 'PGRST000' || code === 'PGRST001';
}

/** Inserts `{ id, status: 'pending', ...columns }` into `table`; throws {@link DatabaseError}. */
export async function createPendingRow(client: PlatformClient, table: PlatformTable, id: string, columns: Record<string, unknown> = {}): Promise<void> {
  let result;
  try {
    result = await client.from(table).insert({ id, status: 'pending', ...columns });
  } catch (error) {
    throw new DatabaseError(`creating the ${table} row failed: ${toError(error).message}`, true, { cause: error });
  }
  if (result.error) {
    const { message, code } = result.error;
    throw new DatabaseError(`creating the ${table} row failed: ${message}${code ? ` (${code})` : ''}`, unreachable(result.status, code), { cause: result.error });
  }
}

/**
 * Marks a row this function created `failed` with the error message. Best effort: the
 * failure is already being reported, and a second failure here (Supabase away) must not hide it.
 * Returns the problem, or null when the row was updated.
 */
export async function markRowFailed(client: PlatformClient, table: PlatformTable, id: string, errorMessage: string): Promise<string | null> {
  try {
    const result = await client
      .from(table)
      .update({ status: 'failed', error_message: errorMessage.slice(0, 2000), completed_at: new Date().toISOString() })
      .eq('id', id)
      .eq('status', 'pending');
    return result.error ? result.error.message : null;
  } catch (error) {
    return toError(error).message;
  }
}
