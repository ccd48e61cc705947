/**
 * HS256 JSON Web Tokens for tests: the keys a Supabase project hands out (`anon`,
 * `service_role`) and users' access tokens are HS256 JWTs signed with the project's JWT secret.
 * Only what the test endpoint and its tests need: sign, and verify signature and expiry.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Claims of a test token; `role` names the PostgreSQL role PostgREST switches to. */
export interface TestJwtClaims {
  role: string;
  /** Expiry, seconds since the epoch. */
  exp?: number;
  /** The user id, for `authenticated` tokens. */
  sub?: string;
  [claim: string]: unknown;
}

function base64url(input: Buffer | string): string {
  return Buffer.from(input).toString('base64url');
}

function signature(signingInput: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(signingInput).digest();
}

/** Signs `claims` as an HS256 JWT with `secret`. */
export function signTestJwt(claims: TestJwtClaims, secret: string): string {
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = base64url(JSON.stringify(claims));
  return `${header}.${payload}.${signature(`${header}.${payload}`, secret).toString('base64url')}`;
}

/** The outcome of {@link verifyTestJwt}: the claims, or why the token is refused (PostgREST's wording). */
export type JwtVerification = { ok: true; claims: Record<string, unknown> } | { ok: false; reason: string };

/** Verifies an HS256 JWT's signature with `secret` and its `exp` against `nowSeconds`. */
export function verifyTestJwt(token: string, secret: string, nowSeconds: number): JwtVerification {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'JWSError (CompactDecodeError Invalid number of parts)' };
  const [header, payload, sig] = parts as [string, string, string];
  let headerJson: unknown;
  let claims: unknown;
  try {
    headerJson = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'JWSError (CompactDecodeError Invalid JSON)' };
  }
  if (typeof headerJson !== 'object' || headerJson === null || (headerJson as { alg?: unknown }).alg !== 'HS256') {
    return { ok: false, reason: 'JWSError (JWSInvalidAlgorithm): only HS256 is accepted' };
  }
  const expected = signature(`${header}.${payload}`, secret);
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'JWSError JWSInvalidSignature' };
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    return { ok: false, reason: 'JWTClaimsSetDecodeError: the claims are not an object' };
  }
  const exp = (claims as { exp?: unknown }).exp;
  if (typeof exp === 'number' && exp <= nowSeconds) return { ok: false, reason: 'JWT expired' };
  return { ok: true, claims: claims as Record<string, unknown> };
}
