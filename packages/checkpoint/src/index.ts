/**
 * `@kai-jobs/checkpoint` — the checkpoint store (interface, Redis and Supabase adapters), checkpoint
 * validation, fencing and the backoff policy.
 */
export { backoffDelayMs, BackoffPolicySchema, mayRestart } from './backoff.js';
export type { BackoffPolicy, BackoffPolicyInput } from './backoff.js';
export { CheckpointTooLargeError } from './errors.js';
export { checkpointKeys } from './keys.js';
export type { CheckpointKeys } from './keys.js';
export {
  DEFAULT_MAX_CHECKPOINT_BYTES,
  RedisCheckpointStore,
  RedisCheckpointStoreOptionsSchema,
} from './redis-checkpoint-store.js';
export type { RedisCheckpointStoreOptions } from './redis-checkpoint-store.js';
export { RetryingCheckpointStore, RetryingCheckpointStoreOptionsSchema } from './retrying-checkpoint-store.js';
export type { RetryingCheckpointStoreOptions } from './retrying-checkpoint-store.js';
export { SupabaseCheckpointStore, SupabaseCheckpointStoreOptionsSchema } from './supabase-checkpoint-store.js';
export type { SupabaseCheckpointStoreOptions } from './supabase-checkpoint-store.js';
export {
  createStoreSet,
  parseStoreConfigFromEnv,
  STORE_ENV_VARIABLES,
  StoreKind,
  StoreSetConfigSchema,
} from './store-factory.js';
export type { StoreEnvConfig, StoreSet, StoreSetConfig } from './store-factory.js';
export { InvalidCheckpointReason } from './types.js';
export type {
  Checkpoint,
  CheckpointStore,
  CheckpointValidation,
  InvalidCheckpoint,
  JobRef,
  ResumeState,
  SaveCheckpointInput,
  SaveResumeStateInput,
  StageSpec,
} from './types.js';
export { checkpointSha256, validateCheckpoints } from './validation.js';
