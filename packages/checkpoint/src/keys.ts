import { jobCatalog, queueKeyBase, type JobType } from '@kai-jobs/queue';

/**
 * The only place this package builds Redis keys. They share the queue's `{hash-tag}`
 * with the status rows, so a checkpoint save can check the row's fence in one script.
 */
export interface CheckpointKeys {
  /** Hash: `<stage>` → checkpoint metadata JSON, `<stage>#data` → the data JSON. */
  checkpoints(jobId: string): string;
  /** Hash: `<stage>` → intra-stage resume state JSON. */
  resumeStates(jobId: string): string;
}

/** Checkpoint keys of `type` under `prefix`. */
export function checkpointKeys(prefix: string, type: JobType): CheckpointKeys {
  const base = `${queueKeyBase(prefix, jobCatalog[type].queueName)}:`;
  return {
    checkpoints: (jobId) => `${base}checkpoints:${jobId}`,
    resumeStates: (jobId) => `${base}resume:${jobId}`,
  };
}
