/** Re-exported from `@kai-jobs/queue`, where the job store that raises it lives. */
export { CheckpointTooLargeError } from '@kai-jobs/queue';
