/**
 * `@kai-jobs/checkpoint` — what is about checkpoints themselves: validation (sha256, stage
 * schemas and versions, stage order), the backoff policy, and the contract suite of the job
 * store's checkpoint part (`@kai-jobs/checkpoint/testing`). The checkpoints are stored by the
 * job store of `@kai-jobs/queue` (`JobStore`, `createJobStore`), with the job's row.
 */
export { backoffDelayMs, BackoffPolicySchema, mayRestart } from './backoff.js';
export type { BackoffPolicy, BackoffPolicyInput } from './backoff.js';
export { CheckpointTooLargeError } from './errors.js';
export { checkpointKeys } from './keys.js';
export type { CheckpointKeys } from './keys.js';
export { InvalidCheckpointReason } from './types.js';
export type {
  Checkpoint,
  CheckpointValidation,
  FinalCheckpointInput,
  InvalidCheckpoint,
  JobRef,
  ResumeState,
  SaveCheckpointInput,
  SaveResumeStateInput,
  StageSpec,
} from './types.js';
export { checkpointSha256, latestValidCheckpoints, validateCheckpoints } from './validation.js';
