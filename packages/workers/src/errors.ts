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

/** Why a running attempt was stopped from outside. */
export const AbortCause = {
  /** An operator or producer cancelled the job: it fails for good. */
  Cancel: 'cancel',
  /** The monitor restarts the job from its checkpoint after a backoff delay. */
  Restart: 'restart',
  /** The worker is shutting down: the job goes back to the queue at once. */
  Shutdown: 'shutdown',
  /** The attempt lost the job (its fence was superseded): it must stop writing. */
  LostJob: 'lost_job',
} as const;
/** One of {@link AbortCause}. */
export type AbortCause = (typeof AbortCause)[keyof typeof AbortCause];

/** The reason an attempt's AbortSignal carries. */
export class AttemptAbortedError extends KaiJobsError {
  override name = 'AttemptAbortedError' as const;
  constructor(
    readonly abortCause: AbortCause,
    readonly reason: string,
    /** Restart only: delay before the restarted attempt may run (ms). */
    readonly delayMs = 0,
  ) {
    super(WorkerErrorCode.Aborted, `attempt aborted (${abortCause}): ${reason}`, {
      retryable: abortCause !== AbortCause.Cancel,
    });
  }
}

/** The attempt's fence was superseded: another attempt owns the job now. Nothing more is written. */
export class LostJobError extends KaiJobsError {
  override name = 'LostJobError' as const;
  constructor(
    readonly jobId: string,
    detail: string,
  ) {
    super(WorkerErrorCode.LostJob, `lost job ${jobId}: ${detail}`, { retryable: true });
  }
}

/** A stage returned an output that fails its own schema: a bug in the stage, not bad input. */
export class StageOutputInvalidError extends KaiJobsError {
  override name = 'StageOutputInvalidError' as const;
  constructor(
    readonly stage: string,
    detail: string,
  ) {
    super(WorkerErrorCode.StageOutputInvalid, `stage ${stage} returned an output that fails its schema: ${detail}`, {
      retryable: false,
    });
  }
}
