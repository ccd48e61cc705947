// The checkpoint keys are the job store's (`@kai-jobs/queue`): re-exported for compatibility.
export { checkpointKeys } from '@kai-jobs/queue';
export type { CheckpointKeys } from '@kai-jobs/queue';
