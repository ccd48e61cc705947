import type { z } from 'zod';
import type { Checkpoint } from '@kai-jobs/queue';

// The checkpoint records themselves are the job store's (`@kai-jobs/queue`), which saves them
// with the row in one atomic step; re-exported here for callers that only deal in checkpoints.
export type {
  Checkpoint,
  FinalCheckpointInput,
  JobRef,
  ResumeState,
  SaveCheckpointInput,
  SaveResumeStateInput,
} from '@kai-jobs/queue';

/** How to validate one stage's checkpoint. */
export interface StageSpec {
  name: string;
  /** Schema of the stage's output. */
  schema: z.ZodType;
  /** Current schema version (default 1). */
  schemaVersion?: number;
}

/** Why a checkpoint cannot be used. */
export const InvalidCheckpointReason = {
  /** The stored data does not hash to the recorded sha256 (a flipped byte, a partial write). */
  Sha256Mismatch: 'sha256_mismatch',
  /** The stored data is not JSON. */
  Unreadable: 'unreadable',
  /** The data fails the stage's schema. */
  SchemaInvalid: 'schema_invalid',
  /** Saved under another schema version of the stage. */
  SchemaVersionMismatch: 'schema_version_mismatch',
  /** An earlier stage has no valid checkpoint, so this one cannot be used. */
  MissingEarlierStage: 'missing_earlier_stage',
  /** The stage name is not in the job's stage list. */
  UnknownStage: 'unknown_stage',
} as const;
/** One of {@link InvalidCheckpointReason}. */
export type InvalidCheckpointReason = (typeof InvalidCheckpointReason)[keyof typeof InvalidCheckpointReason];

/** A checkpoint that failed validation, with the reason. */
export interface InvalidCheckpoint {
  stage: string;
  reason: InvalidCheckpointReason;
  /** Human detail (the zod message, the expected and found hash prefix, …). */
  detail: string;
}

/** The outcome of validating a job's checkpoints. */
export interface CheckpointValidation {
  /** Valid checkpoints contiguous from the first stage, in stage order. */
  valid: Checkpoint[];
  /** Every unusable checkpoint, with its reason. */
  invalid: InvalidCheckpoint[];
  /** Index of the first stage to run (= valid.length). */
  resumeIndex: number;
}
