/**
 * PostgREST's side of the wire for the test endpoint: its error body, its SQLSTATE → HTTP status
 * table, and the key checks of Supabase's gateway (`apikey`) and of PostgREST (`Authorization`).
 */
import type { IncomingMessage } from 'node:http';
import { verifyTestJwt } from './jwt.js';

/** A PostgREST-style error body. */
export interface ErrorBody {
  code: string;
  message: string;
  details: string | null;
  hint: string | null;
}

/** An error answered as-is, before or instead of a database call. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(body.message);
  }
}

/** PostgREST's SQLSTATE → HTTP status table (42501 is 401 for the anonymous role, 403 otherwise). */
export function httpStatusOfSqlState(code: string, anonymous: boolean): number {
  const exact: Record<string, number> = { '23503': 409, '23505': 409, '25006': 405, P0001: 400, '42883': 404, '42P01': 404 };
  if (exact[code] !== undefined) return exact[code];
  if (code === '42501') return anonymous ? 401 : 403;
  const byClass: Record<string, number> = {
    '08': 503, '09': 500, '0L': 403, '0P': 403, '25': 500, '28': 403, '2D': 500, '38': 500, '39': 500,
    '3B': 500, '40': 500, '53': 503, '54': 413, '55': 500, '57': 500, '58': 500, F0: 500, HV: 500, P0: 500, XX: 500,
  };
  return byClass[code.slice(0, 2)] ?? 400;
}

/** Builds an {@link ErrorBody}. */
export function errorBody(code: string, message: string, details: string | null = null, hint: string | null = null): ErrorBody {
  return { code, message, details, hint };
}

/** One request header's value (the first, if repeated). */
export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The role and claims of a request: the `apikey` must verify (Supabase's gateway answers 401
 * "Invalid API key" otherwise); `Authorization: Bearer <jwt>` must verify and names the role;
 * without it the request is anonymous. Throws {@link HttpError} 401 `PGRST301`.
 */
export function authenticate(req: IncomingMessage, secret: string, anonRole: string): { role: string; claims: Record<string, unknown> } {
  const now = Math.floor(Date.now() / 1000);
  const apikey = header(req, 'apikey');
  const keyCheck = apikey === undefined ? null : verifyTestJwt(apikey, secret, now);
  if (keyCheck === null || !keyCheck.ok) {
    // Supabase's API gateway refuses a request whose apikey is not one of the project's keys.
    throw new HttpError(
      401,
      errorBody('PGRST301', 'Invalid API key', keyCheck?.ok === false ? keyCheck.reason : 'no apikey header', 'Double check your Supabase `anon` or `service_role` API key.'),
    );
  }
  const authorization = header(req, 'authorization');
  if (authorization === undefined) return { role: anonRole, claims: { role: anonRole } };
  const bearer = /^Bearer\s+(\S+)$/i.exec(authorization);
  const check = bearer === null ? ({ ok: false, reason: 'No suitable key or wrong key type' } as const) : verifyTestJwt(bearer[1] as string, secret, now);
  if (!check.ok) {
    throw new HttpError(401, errorBody('PGRST301', check.reason), {
      'WWW-Authenticate': `Bearer error="invalid_token", error_description="${check.reason}"`,
    });
  }
  const role = typeof check.claims['role'] === 'string' ? check.claims['role'] : anonRole;
  return { role, claims: check.claims };
}
