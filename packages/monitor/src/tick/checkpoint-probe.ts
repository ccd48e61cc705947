import { z } from 'zod';
import { validateCheckpoints } from '@kai-jobs/checkpoint';
import { jobCatalog, type JobRef, type JobStore } from '@kai-jobs/queue';

const AnyOutput = z.unknown();

/**
 * The stage of a job's last usable checkpoint, or null. The monitor knows a job only through
 * BullMQ, rows and checkpoints — not the stages' code — so it checks what it can: each
 * checkpoint's data hashes to its recorded sha256 and the stages are contiguous from the
 * first. The worker that resumes validates the schemas too, and re-runs from an earlier
 * stage if one fails.
 */
export async function lastValidCheckpointStage(store: Pick<JobStore, 'listCheckpoints'>, job: JobRef): Promise<string | null> {
  const checkpoints = await store.listCheckpoints(job);
  if (checkpoints.length === 0) return null;
  const versions = new Map(checkpoints.map((checkpoint) => [checkpoint.stage, checkpoint.schemaVersion]));
  const specs = (jobCatalog[job.type].stages as readonly string[]).map((name) => ({
    name,
    schema: AnyOutput,
    schemaVersion: versions.get(name) ?? 1,
  }));
  const { valid } = validateCheckpoints(checkpoints, specs);
  return valid.length === 0 ? null : (valid[valid.length - 1]?.stage ?? null);
}
