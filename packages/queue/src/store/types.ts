import type { JobType } from '../catalog/index.js';
import type { StatusStore } from '../status/types.js';

/** Identifies a job to the store (the type selects the queue's key space / table). */
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

/** What {@link JobStore.saveCheckpoint} needs. */
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

/** The last stage's checkpoint, saved by {@link JobStore.completeWithCheckpoint} with the completion. */
export type FinalCheckpointInput = Omit<SaveCheckpointInput, 'progress'>;

/** Intra-stage state saved by a running stage (committed batches, a crawl frontier). */
export interface ResumeState {
  stage: string;
  state: unknown;
  attempt: number;
  fence: string;
  /** Store time (ms). */
  savedAt: number;
}

/** What {@link JobStore.saveResumeState} needs. */
export interface SaveResumeStateInput {
  stage: string;
  state: unknown;
  fence: string;
  attempt: number;
}

/**
 * The job store: one job's row, fence, state changes, checkpoints, resume state, history and
 * retention, behind one port with one adapter per backend (`RedisJobStore`, `SupabaseJobStore`,
 * built by `createJobStore`). A checkpoint write checks the row's fence in the same atomic
 * step (one Lua script, one SQL transaction), so the status part ({@link StatusStore}) and the
 * checkpoints can never live on different backends.
 *
 * The status half is {@link StatusStore} (what the monitor, the board and the CLI read and
 * change); the checkpoint half is below. Validation of checkpoints (sha256, schemas, stage
 * order) is `@kai-jobs/checkpoint`'s: the store keeps and returns them as saved.
 */
export interface JobStore extends StatusStore {
  /** Saves one stage's checkpoint atomically (and the optional status progress); clears the stage's resume state. */
  saveCheckpoint(job: JobRef, input: SaveCheckpointInput): Promise<Checkpoint>;
  /**
   * Saves the last stage's checkpoint and completes the job with `result` in one atomic
   * step (one round trip): a crash cannot fall between the two.
   */
  completeWithCheckpoint(job: JobRef, input: FinalCheckpointInput, result: unknown): Promise<void>;
  /** Saves a running stage's intra-stage state (fenced). */
  saveResumeState(job: JobRef, input: SaveResumeStateInput): Promise<void>;
  /** The stage's saved intra-stage state, or null. */
  loadResumeState(job: JobRef, stage: string): Promise<ResumeState | null>;
  /** Every checkpoint of the job, in stage order (unvalidated). */
  listCheckpoints(job: JobRef): Promise<Checkpoint[]>;
  /** Deletes the job's checkpoints and resume states now. */
  clearCheckpoints(job: JobRef): Promise<void>;
  /** Keeps the job's checkpoints for the retention window, then removes them (called when the job finishes). */
  expireCheckpoints(job: JobRef): Promise<void>;
}
