import { createJobStore, storeRetentionOptions, StoreKind, type JobStore, type Logger } from '@kai-jobs/queue';
import { parseCliEnv, type Environment } from './cli-env.js';

/**
 * The Supabase job store long-running services share when `STATUS_STORE=supabase` (rows and
 * checkpoints in the platform's tables); null for Redis, where each service builds the Redis
 * job store on its own connection (their default).
 */
export function sharedJobStore(env: Environment, logger: Logger): JobStore | null {
  const { stores, retention } = parseCliEnv(env);
  return stores.kind === StoreKind.Supabase ? createJobStore({ ...stores, logger, retention: storeRetentionOptions(retention) }) : null;
}
