/**
 * The functions' environment, read through `Deno.env` only here. Supabase sets SUPABASE_URL
 * and SUPABASE_SERVICE_ROLE_KEY in every deployed function; KAI_JOBS_BOARD_URL and
 * KAI_JOBS_BOARD_TOKEN are set with `supabase secrets set`.
 */
import { FunctionConfigError } from './errors.ts';

/** What the functions need from the environment. */
export interface FunctionEnv {
  /** The project URL, `https://<project-ref>.supabase.co`. */
  supabaseUrl: string;
  /** The service role key (a secret). */
  serviceRoleKey: string;
  /** The schema of the platform's tables. Default `public` (SUPABASE_SCHEMA). */
  schema: string;
  /** The board's base URL, e.g. `https://jobs.example.com/` (its `/api/jobs/<type>` enqueues). */
  boardUrl: URL;
  /** The board's bearer token (BOARD_TOKEN on the board; a secret). */
  boardToken: string;
  /** Longest wait for the board's answer (ms). Default 10000 (KAI_JOBS_BOARD_TIMEOUT_MS). */
  boardTimeoutMs: number;
}

function required(name: string): string {
  const value = Deno.env.get(name)?.trim();
  if (value === undefined || value === '') throw new FunctionConfigError(name, 'is not set');
  return value;
}

function httpUrl(name: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new FunctionConfigError(name, 'is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new FunctionConfigError(name, `must be an http(s) URL, got ${url.protocol}`);
  return url;
}

/** Reads and checks the environment; throws {@link FunctionConfigError} naming the first bad variable. */
export function readFunctionEnv(): FunctionEnv {
  const supabaseUrl = httpUrl('SUPABASE_URL', required('SUPABASE_URL')).toString().replace(/\/$/, '');
  const serviceRoleKey = required('SUPABASE_SERVICE_ROLE_KEY');
  const schema = Deno.env.get('SUPABASE_SCHEMA')?.trim() || 'public';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(schema)) throw new FunctionConfigError('SUPABASE_SCHEMA', 'must be an SQL identifier');
  const boardUrl = httpUrl('KAI_JOBS_BOARD_URL', required('KAI_JOBS_BOARD_URL'));
  // A base URL without a trailing slash would drop its last path segment in `new URL(path, base)`.
  if (!boardUrl.pathname.endsWith('/')) boardUrl.pathname += '/';
  const boardToken = required('KAI_JOBS_BOARD_TOKEN');
  const timeout = Deno.env.get('KAI_JOBS_BOARD_TIMEOUT_MS')?.trim();
  const boardTimeoutMs = timeout === undefined || timeout === '' ? 10_000 : Number(timeout);
  if (!Number.isInteger(boardTimeoutMs) || boardTimeoutMs <= 0) throw new FunctionConfigError('KAI_JOBS_BOARD_TIMEOUT_MS', 'must be a positive whole number of milliseconds');
  return { supabaseUrl, serviceRoleKey, schema, boardUrl, boardToken, boardTimeoutMs };
}
