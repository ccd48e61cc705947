/**
 * The one scrubbing of secrets for everything that leaves a kai-jobs process: log lines, Sentry
 * events (message, exception, contexts, extra, tags, fingerprint, breadcrumbs, request), and the
 * error text a failed job leaves in its status row, its history and BullMQ's `failedReason`
 * (which Bull Board and the HTTP API show). Payloads carry source URLs that are often signed
 * (S3, GCS and Azure presigned links, tokens in query strings); an error quoting such a URL
 * must not hand its signature to whoever reads a log, an alert or the board.
 *
 * Scrubbing never throws and never changes its input: strings come back rewritten, plain data
 * is copied. It is deterministic, so a scrubbed URL used as a Sentry fingerprint still groups.
 */

/** What replaces a scrubbed value. */
export const SCRUBBED = '[scrubbed]';

/**
 * Field names (compared lower-case, without `_`, `-`, `.` or spaces) whose values are always
 * scrubbed; a name that ends with one of them (`githubToken`, `client_secret`, `x-api-key`,
 * `set-cookie`, `X-Amz-Signature`, `x-goog-credential`, `aws_secret_access_key`) is scrubbed too.
 */
export const SECRET_KEY_SUFFIXES: readonly string[] = [
  'password',
  'passwd',
  'secret',
  'token',
  'apikey',
  'authorization',
  // Not plain `auth`: log lines say `auth: on` (the board's mode); `basicAuth: 'u:p'` is a secret.
  'basicauth',
  'proxyauth',
  'cookie',
  'servicerolekey',
  'dsn',
  'privatekey',
  'credential',
  'credentials',
  'sessionkey',
  'signature',
  'accesskey',
  'accesskeyid',
  'accountkey',
];

/**
 * Field and query-parameter names scrubbed only when they match exactly: too short to be
 * suffixes. `sig` is an Azure SAS signature; `sv` is the SAS version — not a secret by itself,
 * but scrubbed with the rest because it marks the URL as a SAS and the issue asks for it.
 */
const SECRET_EXACT_KEYS: ReadonlySet<string> = new Set(['sig', 'sv', 'pwd']);

/**
 * Query parameters scrubbed on top of the field names: `key` (Google API keys) and `auth`
 * (Firebase-style tokens) — too common as field names (`idempotency key`, `auth: on`) to scrub
 * in structured data.
 */
const SECRET_EXACT_QUERY_PARAMETERS: ReadonlySet<string> = new Set(['key', 'auth']);

/** How deep {@link scrubSecrets} copies; deeper values are replaced, never passed through unscrubbed. */
const MAX_DEPTH = 12;
/** What replaces a value nested deeper than {@link MAX_DEPTH}. */
const TOO_DEEP = '[scrubbed: nested too deep]';

/** `scheme://user[:password]@` — the user info of a URL. */
const URL_USERINFO = /(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"']+@/gi;
/**
 * `name=value` after `?`, `&`, `;` (`&amp;` in HTML) or at the start of a bare query string
 * (`event.request.query_string`, a breadcrumb's `http.query`). The value runs to the next
 * separator; it may hold `/`, `+`, `=` and `%XX` (a credential scope, base64, URL-encoding).
 */
const QUERY_PARAMETER = /(^|[?&;])([A-Za-z0-9_.~-]+)=(?!\[scrubbed\])([^&#\s"'<>\\)\]}|`]+)/g;
/** The same inside a URL-encoded URL (`?next=https%3A%2F%2F…%3FX-Amz-Signature%3D…`). */
const ENCODED_QUERY_PARAMETER = /(%3F|%26)([A-Za-z0-9_.~-]+)(%3D)(?!\[scrubbed\])((?:(?!%26|%23)[^&#\s"'<>\\)\]}|`])+)/gi;
/** `password=…`, `X-Amz-Signature: …` and the like in free text (a config or header quoted in an error): the name and separator. */
const ASSIGNMENT_NAME = /(?<![A-Za-z0-9_.~-])([A-Za-z][A-Za-z0-9_.-]*)\s*[=:]\s*/g;
/** The value after a secret name: up to a separator, unless already scrubbed or an auth scheme (scrubbed by {@link AUTH_SCHEME}). */
const ASSIGNMENT_VALUE = /(?!\[scrubbed|(?:Bearer|Basic)\s)[^\s&,;"'()<>]+/y;
/** `Bearer <token>` / `Basic <credentials>` in free text (an error message quoting a header). */
const AUTH_SCHEME = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g;
/** A JWT (header and payload are base64url JSON, so both start with `eyJ`): Supabase keys, access tokens. */
const JWT = /(?<![A-Za-z0-9_-])eyJ(?=([A-Za-z0-9_-]+))\1\.eyJ(?=([A-Za-z0-9_-]+))\2\.[A-Za-z0-9_-]*/g;
/**
 * Cheap test for a string none of the patterns can match (no `=`, `:`, `@`, `%3D`, JWT or auth
 * scheme): most log messages and field values, which then skip the regular expressions.
 */
const MAY_HOLD_SECRET = /[=:@]|%3d|eyJ|Bearer|Basic/i;
/**
 * Longest string scrubbed whole; a longer one is cut to this many characters first (and says
 * so). Every pattern is linear, but a megabyte of crafted text would still hold the event loop
 * for tens of milliseconds per pattern — heartbeats and lock renewals must not wait on a log line.
 * Cutting never uncovers a secret: a value cut short is still scrubbed, a name cut short has no value.
 */
export const MAX_SCRUBBED_LENGTH = 32_768;

function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[\s_.-]/g, '');
}

/** True when values under the field `key` must be scrubbed (any case and separator style). */
export function isSecretKey(key: string): boolean {
  const normalized = normalizeName(key);
  if (SECRET_EXACT_KEYS.has(normalized)) return true;
  return SECRET_KEY_SUFFIXES.some((suffix) => normalized.endsWith(suffix));
}

/**
 * True when the value of the URL query parameter `name` must be scrubbed: every name of
 * {@link isSecretKey} (so `X-Amz-Signature`, `X-Amz-Credential`, `X-Amz-Security-Token`,
 * `X-Goog-Signature`, `X-Goog-Credential`, `access_key`, `access_token`, `token`, `sig`, `sv`,
 * `AWSAccessKeyId`, `Signature`) plus `key` and `auth`. Case-insensitive.
 */
export function isSecretQueryParameter(name: string): boolean {
  return isSecretKey(name) || SECRET_EXACT_QUERY_PARAMETERS.has(normalizeName(name));
}

/**
 * `text` with URL credentials, secret query parameters (plain and URL-encoded), `secret=value`
 * pairs, auth headers and JWTs replaced by {@link SCRUBBED}. Text longer than
 * {@link MAX_SCRUBBED_LENGTH} that may hold a secret is cut to that length first.
 */
export function scrubString(text: string): string {
  if (!MAY_HOLD_SECRET.test(text)) return text;
  const bounded =
    text.length > MAX_SCRUBBED_LENGTH
      ? `${text.slice(0, MAX_SCRUBBED_LENGTH)}… [truncated ${text.length - MAX_SCRUBBED_LENGTH} characters]`
      : text;
  const partly = bounded
    .replace(URL_USERINFO, `$1${SCRUBBED}@`)
    .replace(QUERY_PARAMETER, (match, lead: string, name: string) =>
      isSecretQueryParameter(name) ? `${lead}${name}=${SCRUBBED}` : match,
    )
    .replace(ENCODED_QUERY_PARAMETER, (match, lead: string, name: string, equals: string) =>
      isSecretQueryParameter(name) ? `${lead}${name}${equals}${SCRUBBED}` : match,
    )
    .replace(AUTH_SCHEME, `$1 ${SCRUBBED}`)
    .replace(JWT, SCRUBBED);
  return scrubAssignments(partly);
}

/**
 * Replaces the value after every secret `name=` / `name:` in `text`. A loop rather than one
 * regex: the value of a name that is not secret must not be consumed, or `failed: password=x`
 * would hide `password=` inside the value of `failed`.
 */
function scrubAssignments(text: string): string {
  let out = '';
  let copied = 0;
  ASSIGNMENT_NAME.lastIndex = 0;
  for (let match = ASSIGNMENT_NAME.exec(text); match !== null; match = ASSIGNMENT_NAME.exec(text)) {
    const valueStart = match.index + match[0].length;
    if (!isSecretKey(match[1] as string)) {
      // Resume right after the separator, so a name inside this value is still looked at.
      ASSIGNMENT_NAME.lastIndex = Math.max(valueStart, match.index + 1);
      continue;
    }
    ASSIGNMENT_VALUE.lastIndex = valueStart;
    const value = ASSIGNMENT_VALUE.exec(text);
    if (value === null) continue;
    out += text.slice(copied, valueStart) + SCRUBBED;
    copied = valueStart + value[0].length;
    ASSIGNMENT_NAME.lastIndex = copied;
  }
  return out + text.slice(copied);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A `[name, value]` pair, as Sentry's `request.query_string` may be given. */
function isSecretPair(value: unknown[]): boolean {
  return value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string' && isSecretQueryParameter(value[0]);
}

/** A copy of `error` (same prototype, so `name` and `instanceof` survive) with its text scrubbed. */
function scrubError(error: Error, depth: number): Error {
  const copy = Object.create(Object.getPrototypeOf(error) as object) as Error;
  for (const [key, item] of Object.entries(error)) {
    (copy as unknown as Record<string, unknown>)[key] = isSecretKey(key) && item != null ? SCRUBBED : scrubSecrets(item, depth + 1);
  }
  // Brands (`Symbol.for` markers that recognise an error across package copies) carry no text.
  for (const symbol of Object.getOwnPropertySymbols(error)) {
    (copy as unknown as Record<symbol, unknown>)[symbol] = (error as unknown as Record<symbol, unknown>)[symbol];
  }
  Object.defineProperty(copy, 'message', { value: scrubString(error.message), writable: true, configurable: true });
  if (error.stack !== undefined) Object.defineProperty(copy, 'stack', { value: scrubString(error.stack), writable: true, configurable: true });
  if (error.cause !== undefined) {
    Object.defineProperty(copy, 'cause', { value: scrubSecrets(error.cause, depth + 1), writable: true, configurable: true });
  }
  return copy;
}

/**
 * A copy of `value` with every value under a secret key ({@link isSecretKey}) replaced by
 * {@link SCRUBBED} and every string — keys included — passed through {@link scrubString}.
 * Plain objects and arrays are copied, `URL`s become scrubbed strings, `Error`s scrubbed
 * copies; other objects (dates, buffers, class instances) are returned as they are. Anything
 * nested deeper than 12 levels is replaced rather than passed through unscrubbed.
 */
export function scrubSecrets<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return scrubString(value) as T;
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_DEPTH) return TOO_DEEP as T;
  if (Array.isArray(value)) {
    if (isSecretPair(value)) return [value[0], SCRUBBED] as T;
    return value.map((item: unknown) => scrubSecrets(item, depth + 1)) as T;
  }
  if (value instanceof URL) return scrubString(value.href) as T;
  if (value instanceof Error) return scrubError(value, depth) as T;
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[scrubString(key)] = isSecretKey(key) && item !== null && item !== undefined ? SCRUBBED : scrubSecrets(item, depth + 1);
  }
  return out as T;
}

/**
 * Scrubs `error` in place — its `message`, `stack` and string fields — and returns it. For the
 * last hand-off of an error whose identity must survive (BullMQ records `message` as the job's
 * `failedReason` and `stack` in its stack trace; callers recognise it by `name`, `code` and
 * class), where {@link scrubSecrets}' copy would not do.
 */
export function scrubErrorInPlace<E extends Error>(error: E): E {
  try {
    error.message = scrubString(error.message);
    if (typeof error.stack === 'string') error.stack = scrubString(error.stack);
    for (const [key, item] of Object.entries(error)) {
      if (typeof item === 'string') (error as unknown as Record<string, unknown>)[key] = isSecretKey(key) ? SCRUBBED : scrubString(item);
    }
  } catch {
    // A frozen error or a read-only property: leave it; the callers scrub the text they write too.
  }
  return error;
}
