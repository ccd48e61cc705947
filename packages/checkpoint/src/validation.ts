import { checkpointSha256, type JobRef, type JobStore } from '@kai-jobs/queue';
import {
  InvalidCheckpointReason,
  type Checkpoint,
  type CheckpointValidation,
  type InvalidCheckpoint,
  type StageSpec,
} from './types.js';

// The hash is computed by the job store when it saves; validation re-hashes what it reads.
export { checkpointSha256 };

function checkOne(checkpoint: Checkpoint, spec: StageSpec): InvalidCheckpoint | { data: unknown } {
  const actual = checkpointSha256(checkpoint.dataJson);
  if (actual !== checkpoint.sha256) {
    return {
      stage: checkpoint.stage,
      reason: InvalidCheckpointReason.Sha256Mismatch,
      detail: `recorded sha256 ${checkpoint.sha256.slice(0, 12)}…, data hashes to ${actual.slice(0, 12)}…`,
    };
  }
  let data: unknown;
  try {
    data = JSON.parse(checkpoint.dataJson);
  } catch (error) {
    return { stage: checkpoint.stage, reason: InvalidCheckpointReason.Unreadable, detail: (error as Error).message };
  }
  const expectedVersion = spec.schemaVersion ?? 1;
  if (checkpoint.schemaVersion !== expectedVersion) {
    return {
      stage: checkpoint.stage,
      reason: InvalidCheckpointReason.SchemaVersionMismatch,
      detail: `saved with schema version ${checkpoint.schemaVersion}, the stage is now at version ${expectedVersion}`,
    };
  }
  const parsed = spec.schema.safeParse(data);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first === undefined || first.path.length === 0 ? '(root)' : first.path.join('.');
    return {
      stage: checkpoint.stage,
      reason: InvalidCheckpointReason.SchemaInvalid,
      detail: `${where}: ${first?.message ?? 'invalid'}${parsed.error.issues.length > 1 ? ` (+${parsed.error.issues.length - 1} more)` : ''}`,
    };
  }
  return { data: parsed.data };
}

/**
 * Decides which checkpoints a job can resume from — a pure function. A checkpoint is used
 * only if its data hashes to the recorded sha256, parses, has the stage's schema version,
 * passes the stage's schema, and every earlier stage has a valid checkpoint too (stages
 * contiguous from the first). Everything else comes back with its reason.
 */
export function validateCheckpoints(checkpoints: readonly Checkpoint[], stages: readonly StageSpec[]): CheckpointValidation {
  const byStage = new Map(checkpoints.map((checkpoint) => [checkpoint.stage, checkpoint]));
  const known = new Set(stages.map((stage) => stage.name));
  const valid: Checkpoint[] = [];
  const invalid: InvalidCheckpoint[] = [];
  let broken = false;
  for (const [index, spec] of stages.entries()) {
    const checkpoint = byStage.get(spec.name);
    if (checkpoint === undefined) {
      broken = true;
      continue;
    }
    if (broken) {
      invalid.push({
        stage: spec.name,
        reason: InvalidCheckpointReason.MissingEarlierStage,
        detail: `stage ${stages[valid.length]?.name ?? '?'} before it has no valid checkpoint`,
      });
      continue;
    }
    const outcome = checkOne(checkpoint, spec);
    if ('reason' in outcome) {
      invalid.push(outcome);
      broken = true;
      continue;
    }
    valid.push({ ...checkpoint, stageIndex: index, data: outcome.data });
  }
  for (const checkpoint of checkpoints) {
    if (!known.has(checkpoint.stage)) {
      invalid.push({
        stage: checkpoint.stage,
        reason: InvalidCheckpointReason.UnknownStage,
        detail: `not one of ${stages.map((stage) => stage.name).join(', ')}`,
      });
    }
  }
  return { valid, invalid, resumeIndex: valid.length };
}

/**
 * Lists the job's checkpoints from the store and validates them against the job's stages:
 * the resume point and every invalid checkpoint with its reason.
 */
export async function latestValidCheckpoints(
  store: Pick<JobStore, 'listCheckpoints'>,
  job: JobRef,
  stages: readonly StageSpec[],
): Promise<CheckpointValidation> {
  return validateCheckpoints(await store.listCheckpoints(job), stages);
}
