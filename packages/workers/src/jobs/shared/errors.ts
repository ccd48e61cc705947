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
