import { KaiJobsError } from '@kai-jobs/queue';

/** Stable codes of the errors the job processors' shared helpers throw. */
export const JobHelperErrorCode = {
  ProviderRequestFailed: 'PROVIDER_REQUEST_FAILED',
  ProviderResponseInvalid: 'PROVIDER_RESPONSE_INVALID',
  ArtifactIntegrity: 'ARTIFACT_INTEGRITY',
} as const;
/** One of {@link JobHelperErrorCode}. */
export type JobHelperErrorCode = (typeof JobHelperErrorCode)[keyof typeof JobHelperErrorCode];

/**
 * An HTTP call to an external provider (embeddings, LLM) failed after its retries. Retryable
 * when the last failure was (429, 5xx, timeout, network): the job's next attempt may succeed;
 * not retryable for 4xx answers such as a wrong key or model.
 */
export class ProviderRequestError extends KaiJobsError {
  override name = 'ProviderRequestError' as const;
  constructor(
    /** What was called, e.g. `openai embeddings`. */
    readonly provider: string,
    /** The last HTTP status, or null for a timeout or a network error. */
    readonly status: number | null,
    message: string,
    options: { retryable: boolean; cause?: unknown },
  ) {
    super(JobHelperErrorCode.ProviderRequestFailed, `${provider}: ${message}`, options);
  }
}

/** A provider answered 2xx with something that is not what its API promises. */
export class ProviderResponseError extends KaiJobsError {
  override name = 'ProviderResponseError' as const;
  constructor(
    readonly provider: string,
    message: string,
    options: { retryable?: boolean; cause?: unknown } = {},
  ) {
    super(JobHelperErrorCode.ProviderResponseInvalid, `${provider}: ${message}`, { retryable: false, ...options });
  }
}

/**
 * An artifact's bytes do not match the sha256 its checkpoint recorded: it was overwritten or
 * damaged since. Retryable: the runtime re-runs the job and the stage that wrote it.
 */
export class ArtifactIntegrityError extends KaiJobsError {
  override name = 'ArtifactIntegrityError' as const;
  constructor(
    readonly key: string,
    expected: string,
    actual: string,
  ) {
    super(JobHelperErrorCode.ArtifactIntegrity, `artifact ${key} has sha256 ${actual}, but its checkpoint recorded ${expected}`, {
      retryable: true,
    });
  }
}

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
  /** The reason in words, without the URL, when known. */
  readonly detail: string | undefined = undefined;
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
  constructor(
    url: string,
    /** Why, without the URL (callers that hide a URL's query string build their own message). */
    override readonly detail: string,
  ) {
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

/** Why a payload-named file was not read. */
export const FileSourceFailureReason = {
  /** No FILE_ROOT on this worker: file sources are off. */
  Disabled: 'disabled',
  /** FILE_ROOT itself does not exist or cannot be resolved. */
  RootUnusable: 'root_unusable',
  /** The path, or the real path of what it opens (through a symlink), is outside FILE_ROOT. */
  OutsideRoot: 'outside_root',
  NotFound: 'not_found',
  /** A directory, FIFO, device or socket. */
  NotRegular: 'not_regular',
  Unreadable: 'unreadable',
} as const;
/** One of {@link FileSourceFailureReason}. */
export type FileSourceFailureReason = (typeof FileSourceFailureReason)[keyof typeof FileSourceFailureReason];

/**
 * A `file` source was refused or could not be opened. Not retryable: the same payload on the
 * same worker fails the same way. `reason` says why; the message never includes the file's bytes.
 */
export class FileSourceError extends KaiJobsError {
  override name = 'FileSourceError' as const;
  constructor(
    readonly reason: FileSourceFailureReason,
    /** The path as the payload gave it. */
    readonly path: string,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(`FILE_SOURCE_${reason.toUpperCase()}`, message, { ...options, retryable: false });
  }
}

/** True when `error` is a {@link FileSourceError} (from any installed copy: checked by name). */
export function isFileSourceError(error: unknown): error is FileSourceError {
  return error instanceof Error && error.name === 'FileSourceError' && typeof (error as FileSourceError).reason === 'string';
}
