import { KaiJobsError } from '@kai-jobs/queue';

/** Why an outgoing HTTP request did not produce a usable response. */
export const FetchFailureReason = {
  /** The URL's scheme is not http(s), or it resolves to an address the SSRF guard refuses. */
  Refused: 'refused',
  /** No complete answer within the timeout. */
  Timeout: 'timeout',
  /** The body is larger than the configured limit; reading stopped there. */
  TooLarge: 'too_large',
  /** More redirects than allowed. */
  TooManyRedirects: 'too_many_redirects',
  /** A redirect led back to a URL already visited in the same chain. */
  RedirectLoop: 'redirect_loop',
  /** A redirect without a usable `Location`. */
  BadRedirect: 'bad_redirect',
  /** DNS failure, connection refused or reset. */
  Network: 'network',
} as const;
/** One of {@link FetchFailureReason}. */
export type FetchFailureReason = (typeof FetchFailureReason)[keyof typeof FetchFailureReason];

/** Reasons that a later attempt may not hit again. */
const RETRYABLE_REASONS: ReadonlySet<FetchFailureReason> = new Set([FetchFailureReason.Timeout, FetchFailureReason.Network]);

/** An outgoing request failed; `reason` says how, `url` is the URL that failed (maybe a redirect hop). */
export class HttpFetchError extends KaiJobsError {
  override name: 'HttpFetchError' | 'UrlRefusedError' = 'HttpFetchError';
  constructor(
    readonly reason: FetchFailureReason,
    readonly url: string,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(`FETCH_${reason.toUpperCase()}`, message, { ...options, retryable: RETRYABLE_REASONS.has(reason) });
  }
}

/** The SSRF guard refused a URL: a scheme other than http(s) or an address in a blocked range. */
export class UrlRefusedError extends HttpFetchError {
  override name = 'UrlRefusedError' as const;
  constructor(url: string, detail: string) {
    super(FetchFailureReason.Refused, url, `refused ${url}: ${detail}`);
  }
}

/** True when `error` is an {@link HttpFetchError} (from any installed copy: checked by name). */
export function isHttpFetchError(error: unknown): error is HttpFetchError {
  return (
    error instanceof Error &&
    (error.name === 'HttpFetchError' || error.name === 'UrlRefusedError') &&
    typeof (error as HttpFetchError).reason === 'string'
  );
}
