import { createStoreSet, StoreKind, type StoreSet } from '@kai-jobs/checkpoint';
import { storeRetentionOptions, type Logger } from '@kai-jobs/queue';
import { parseCliEnv, type Environment } from './cli-env.js';

/**
 * The Supabase store set long-running services share when `STATUS_STORE=supabase` (rows and
 * checkpoints in the platform's tables); null for Redis, where each service uses the Redis
 * stores on its own connection (their default).
 */
export function sharedStoreSet(env: Environment, logger: Logger): StoreSet | null {
  const { stores, retention } = parseCliEnv(env);
  return stores.kind === StoreKind.Supabase ? createStoreSet({ ...stores, logger, retention: storeRetentionOptions(retention) }) : null;
}
