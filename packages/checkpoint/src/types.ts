import type { z } from 'zod';
import type { JobType } from '@kai-jobs/queue';

/** Identifies a job to the checkpoint store (the type selects the queue's key space / table). */
export interface JobRef {
  id: string;
  type: JobType;
}

/** One stage's saved output: the resume point after that stage. */
export interface Checkpoint {
  jobId: string;
  stage: string;
  /** Position of the stage in the job's stage list (0-based). */
  stageIndex: number;
  /** The output, parsed from {@link dataJson}. */
  data: unknown;
  /** The exact stored JSON text; its sha256 is {@link sha256}. */
  dataJson: string;
  /** Hex sha256 of {@link dataJson}, computed when saved. */
  sha256: string;
  /** The stage's schema version when saved; a newer version makes the checkpoint invalid. */
  schemaVersion: number;
  /** The attempt that saved it. */
  attempt: number;
  /** The fence token of that attempt. */
  fence: string;
  /** Store time (ms). */
  createdAt: number;
  /** Bytes of {@link dataJson}. */
  bytes: number;
}

/** What {@link CheckpointStore.save} needs. */
export interface SaveCheckpointInput {
  stage: string;
  stageIndex: number;
  /** The stage's output (already validated against its schema by the caller). */
  data: unknown;
  /** The attempt's fence token; a superseded one is rejected with `StaleFenceError`. */
  fence: string;
  schemaVersion: number;
  attempt: number;
  /**
   * Status progress written in the same atomic step (saves a round trip per stage): the
   * stage that runs next and the job's overall percentage.
   */
  progress?: { nextStage: string | null; percent: number };
}

/** Intra-stage state saved by a running stage (committed batches, a crawl frontier). */
export interface ResumeState {
  stage: string;
  state: unknown;
  attempt: number;
  fence: string;
  /** Store time (ms). */
  savedAt: number;
}

/** What {@link CheckpointStore.saveResumeState} needs. */
export interface SaveResumeStateInput {
  stage: string;
  state: unknown;
  fence: string;
  attempt: number;
}

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

/**
 * The checkpoint store. Every write carries the attempt's fence token and is rejected when
 * the token was superseded. Adapters: Redis (`RedisCheckpointStore`), Supabase.
 */
export interface CheckpointStore {
  /** Saves one stage's checkpoint atomically (and the optional status progress); clears the stage's resume state. */
  save(job: JobRef, input: SaveCheckpointInput): Promise<Checkpoint>;
  /**
   * Saves the last stage's checkpoint and completes the job with `result` in one atomic
   * step (one round trip): a crash cannot fall between the two.
   */
  saveAndComplete(job: JobRef, input: Omit<SaveCheckpointInput, 'progress'>, result: unknown): Promise<void>;
  /** Saves a running stage's intra-stage state (fenced). */
  saveResumeState(job: JobRef, input: SaveResumeStateInput): Promise<void>;
  /** The stage's saved intra-stage state, or null. */
  loadResumeState(job: JobRef, stage: string): Promise<ResumeState | null>;
  /** Every checkpoint of the job, in stage order (unvalidated). */
  list(job: JobRef): Promise<Checkpoint[]>;
  /** Lists and validates: the resume point and every invalid checkpoint with its reason. */
  latestValid(job: JobRef, stages: readonly StageSpec[]): Promise<CheckpointValidation>;
  /** Deletes the job's checkpoints and resume states now. */
  clear(job: JobRef): Promise<void>;
  /** Keeps the job's checkpoints for the retention window, then removes them (called when the job finishes). */
  expire(job: JobRef): Promise<void>;
  /** Releases what the store opened itself. */
  close(): Promise<void>;
}
