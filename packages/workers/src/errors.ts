import { KaiJobsError } from '@kai-jobs/queue';

/** Stable codes of the errors `@kai-jobs/workers` throws. */
export const WorkerErrorCode = {
  ArtifactNotFound: 'ARTIFACT_NOT_FOUND',
  InvalidArtifactKey: 'INVALID_ARTIFACT_KEY',
  StageOutputInvalid: 'STAGE_OUTPUT_INVALID',
  JobDefinitionInvalid: 'JOB_DEFINITION_INVALID',
  Aborted: 'ABORTED',
  LostJob: 'LOST_JOB',
  PermanentFailure: 'PERMANENT_FAILURE',
} as const;

/** No artifact under the key. */
export class ArtifactNotFoundError extends KaiJobsError {
  override name = 'ArtifactNotFoundError' as const;
  constructor(readonly key: string) {
    super(WorkerErrorCode.ArtifactNotFound, `artifact ${key} not found`, { retryable: false });
  }
}

/** An artifact key with characters outside `[A-Za-z0-9._-/]` or a `..` segment. */
export class InvalidArtifactKeyError extends KaiJobsError {
  override name = 'InvalidArtifactKeyError' as const;
  constructor(readonly key: string) {
    super(
      WorkerErrorCode.InvalidArtifactKey,
      `artifact key "${key}" is invalid: use /-separated segments of letters, digits, ".", "_", "-" (no "..")`,
      { retryable: false },
    );
  }
}

/**
 * A failure that retrying cannot fix (a PDF that is not a PDF, a feed with an entity bomb).
 * The runtime fails the job at once, with no retries, through BullMQ's UnrecoverableError.
 */
export class PermanentJobError extends KaiJobsError {
  override name = 'PermanentJobError' as const;
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(WorkerErrorCode.PermanentFailure, message, { ...options, retryable: false });
  }
}
