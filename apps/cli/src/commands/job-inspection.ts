import { z } from 'zod';
import { validateCheckpoints, type Checkpoint } from '@kai-jobs/checkpoint';
import { JobNotFoundError, jobCatalog, type JobStore, type JobType, type StatusRow } from '@kai-jobs/queue';
import type { CliSystem } from '../config/system.js';

/** One checkpoint as the CLI shows it. */
export interface CheckpointSummary {
  stage: string;
  stageIndex: number;
  /** Usable for a resume: hashes to its sha256 and every earlier stage has a valid checkpoint. */
  valid: boolean;
  /** Why it is not usable (`sha256_mismatch`, `missing_earlier_stage`, …), null when valid. */
  invalidReason: string | null;
  invalidDetail: string | null;
  bytes: number;
  sha256: string;
  schemaVersion: number;
  attempt: number;
  /** Store time (ms). */
  createdAt: number;
  /** The saved output (only with `--data`). */
  data?: unknown;
}

/** A job's checkpoints and where a restart would resume. */
export interface CheckpointReport {
  checkpoints: CheckpointSummary[];
  /** The stage a restart runs first (after the last valid checkpoint); null when every stage is saved. */
  resumeFrom: string | null;
  /** The last valid checkpoint's stage, null when none is usable. */
  lastValidStage: string | null;
}

const AnyOutput = z.unknown();

/**
 * Lists a job's checkpoints and checks what the CLI can check without the stages' code —
 * each one's data against its sha256 and the stages contiguous from the first — the same
 * judgement the monitor makes before a restart.
 */
export async function inspectCheckpoints(store: Pick<JobStore, 'listCheckpoints'>, id: string, type: JobType, withData = false): Promise<CheckpointReport> {
  const checkpoints = await store.listCheckpoints({ id, type });
  const stages = jobCatalog[type].stages as readonly string[];
  const versions = new Map(checkpoints.map((checkpoint) => [checkpoint.stage, checkpoint.schemaVersion]));
  const specs = stages.map((name) => ({ name, schema: AnyOutput, schemaVersion: versions.get(name) ?? 1 }));
  const validation = validateCheckpoints(checkpoints, specs);
  const valid = new Set(validation.valid.map((checkpoint) => checkpoint.stage));
  const invalid = new Map(validation.invalid.map((entry) => [entry.stage, entry]));
  const summaries = checkpoints.map((checkpoint: Checkpoint): CheckpointSummary => ({
    stage: checkpoint.stage,
    stageIndex: checkpoint.stageIndex,
    valid: valid.has(checkpoint.stage),
    invalidReason: invalid.get(checkpoint.stage)?.reason ?? null,
    invalidDetail: invalid.get(checkpoint.stage)?.detail ?? null,
    bytes: checkpoint.bytes,
    sha256: checkpoint.sha256,
    schemaVersion: checkpoint.schemaVersion,
    attempt: checkpoint.attempt,
    createdAt: checkpoint.createdAt,
    ...(withData ? { data: checkpoint.data } : {}),
  }));
  const lastValid = validation.valid[validation.valid.length - 1];
  return {
    checkpoints: summaries,
    resumeFrom: stages[validation.resumeIndex] ?? null,
    lastValidStage: lastValid?.stage ?? null,
  };
}

/** The job's status row; throws `JobNotFoundError` (exit 1) when there is none. */
export async function requireRow(system: CliSystem, id: string): Promise<StatusRow> {
  const row = await system.store.get(id);
  if (row === null) throw new JobNotFoundError(id);
  return row;
}

/** A row without its payload (which can be large, e.g. an inline PDF), for listings. */
export function rowSummary(row: StatusRow): Record<string, unknown> {
  return {
    id: row.id,
    type: row.type,
    status: row.status,
    stage: row.currentStage,
    progress: row.progress,
    progressDetail: row.progressDetail,
    attempt: row.attempt,
    restartCount: row.restartCount,
    workerId: row.workerId,
    lastHeartbeat: row.lastHeartbeat,
    updatedAt: row.updatedAt,
    createdAt: row.createdAt,
    error: row.error,
    refs: row.refs,
  };
}
