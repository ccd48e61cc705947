/**
 * Scrubbing of secrets from alert payloads, applied to every event before it leaves the
 * process (Sentry's `beforeSend`) and to the log-only fallback. Payloads carry source
 * URLs and options that can hold credentials; an alert must never leak them.
 */

/** What replaces a scrubbed value. */
export const SCRUBBED = '[scrubbed]';

/**
 * Key names (compared lower-case, without `_`, `-` or spaces) whose values are always
 * scrubbed; a key that ends with one of them (`githubToken`, `client_secret`,
 * `x-api-key`, `set-cookie`) is scrubbed too.
 */
export const SECRET_KEY_SUFFIXES: readonly string[] = [
  'password',
  'passwd',
  'secret',
  'token',
  'apikey',
  'authorization',
  'auth',
  'cookie',
  'servicerolekey',
  'dsn',
  'privatekey',
  'credentials',
  'sessionkey',
];

/** Query parameters whose values are scrubbed inside URLs. */
const SECRET_QUERY_PARAMS = /([?&](?:[a-z0-9_-]*token|[a-z0-9_-]*secret|api[_-]?key|key|password|passwd|sig|signature|auth)=)[^&#\s"'()<>,;]*/gi;
/** `password=…`, `token: …` and the like in free text (error messages quoting a config). */
const SECRET_ASSIGNMENT = /\b((?:password|passwd|pwd|secret|token|access[_-]?token|refresh[_-]?token|api[_-]?key|service[_-]?role[_-]?key)\s*[=:]\s*)(?!\[scrubbed\])[^\s&,;"'()<>]+/gi;
/** `scheme://user[:password]@` — the user info of a URL. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"']+@/gi;
/** `Bearer <token>` / `Basic <credentials>` in free text (error messages quoting a header). */
const AUTH_SCHEME = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g;
const MAX_DEPTH = 12;

/** True when values under `key` must be scrubbed. */
export function isSecretKey(key: string): boolean {
  const normalized = key.toLowerCase().replace(/[\s_-]/g, '');
  return SECRET_KEY_SUFFIXES.some((suffix) => normalized.endsWith(suffix));
}

/** `text` with URL credentials, secret query parameters, `secret=value` pairs and auth headers replaced. */
export function scrubString(text: string): string {
  return text
    .replace(URL_USERINFO, `$1${SCRUBBED}@`)
    .replace(SECRET_QUERY_PARAMS, `$1${SCRUBBED}`)
    .replace(SECRET_ASSIGNMENT, `$1${SCRUBBED}`)
    .replace(AUTH_SCHEME, `$1 ${SCRUBBED}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * A copy of `value` with every value under a secret key replaced by {@link SCRUBBED}
 * and every string passed through {@link scrubString}. Plain objects and arrays are
 * copied (to {@link MAX_DEPTH} levels); other objects are returned as they are.
 */
export function scrubSecrets<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return scrubString(value) as T;
  if (depth >= MAX_DEPTH) return value;
  if (Array.isArray(value)) return value.map((item: unknown) => scrubSecrets(item, depth + 1)) as T;
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = isSecretKey(key) && item !== null && item !== undefined ? SCRUBBED : scrubSecrets(item, depth + 1);
  }
  return out as T;
}
