import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Credential checks in constant time. Both sides are hashed with SHA-256 first, so the
 * comparison always runs over 32 bytes with `timingSafeEqual`: neither the content nor
 * the length of the secret leaks through response times.
 */

/** SHA-256 of `value` (UTF-8). */
export function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Compares `provided` with the secret whose SHA-256 is `expectedDigest`, in constant time. */
export function matchesDigest(provided: string, expectedDigest: Buffer): boolean {
  return timingSafeEqual(sha256(provided), expectedDigest);
}

/** How a request authenticated, or why it did not. */
export const AuthOutcome = {
  /** Valid credentials. */
  Ok: 'ok',
  /** No `Authorization` header: the client was not trying (a browser before its prompt). */
  Missing: 'missing',
  /** Wrong or malformed credentials: counts as a failed attempt. */
  Invalid: 'invalid',
} as const;
/** One of {@link AuthOutcome}. */
export type AuthOutcome = (typeof AuthOutcome)[keyof typeof AuthOutcome];

/** The result of {@link CredentialChecker.check}. */
export interface AuthCheck {
  outcome: AuthOutcome;
  /** The scheme the client used (`basic`, `bearer`, or what it sent), when it sent one. */
  scheme: string | null;
}

/** The configured secrets. */
export interface Credentials {
  username?: string | undefined;
  password?: string | undefined;
  token?: string | undefined;
}

/** Checks `Authorization` headers against the configured basic-auth pair and bearer token. */
export class CredentialChecker {
  private readonly basic: { user: Buffer; password: Buffer } | null;
  private readonly token: Buffer | null;

  constructor(credentials: Credentials) {
    this.basic =
      credentials.username !== undefined && credentials.password !== undefined
        ? { user: sha256(credentials.username), password: sha256(credentials.password) }
        : null;
    this.token = credentials.token === undefined ? null : sha256(credentials.token);
  }

  /** The schemes a client may use, for the `WWW-Authenticate` challenge. */
  schemes(): ('Basic' | 'Bearer')[] {
    const schemes: ('Basic' | 'Bearer')[] = [];
    if (this.basic !== null) schemes.push('Basic');
    if (this.token !== null) schemes.push('Bearer');
    return schemes;
  }

  /** Judges one `Authorization` header value. */
  check(header: string | undefined): AuthCheck {
    if (header === undefined || header.trim() === '') return { outcome: AuthOutcome.Missing, scheme: null };
    const match = /^\s*([A-Za-z]+)\s+(\S+)\s*$/.exec(header);
    if (match === null) return { outcome: AuthOutcome.Invalid, scheme: null };
    const scheme = (match[1] as string).toLowerCase();
    const value = match[2] as string;
    if (scheme === 'basic') return { outcome: this.checkBasic(value), scheme };
    if (scheme === 'bearer') {
      const ok = this.token !== null && matchesDigest(value, this.token);
      return { outcome: ok ? AuthOutcome.Ok : AuthOutcome.Invalid, scheme };
    }
    return { outcome: AuthOutcome.Invalid, scheme };
  }

  private checkBasic(encoded: string): AuthOutcome {
    if (this.basic === null || !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return AuthOutcome.Invalid;
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return AuthOutcome.Invalid;
    // Both comparisons always run: a wrong user name must cost as much as a wrong password.
    const userOk = matchesDigest(decoded.slice(0, colon), this.basic.user);
    const passwordOk = matchesDigest(decoded.slice(colon + 1), this.basic.password);
    return userOk && passwordOk ? AuthOutcome.Ok : AuthOutcome.Invalid;
  }
}
