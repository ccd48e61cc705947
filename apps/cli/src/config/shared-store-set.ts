import { SupabaseStatusStore, type StatusStore } from '@kai-jobs/queue';
import { parseCliEnv, StatusStoreKind, type Environment } from './cli-env.js';

/**
 * The status store long-running services must share when `STATUS_STORE=supabase`; undefined
 * for Redis (each service then uses the Redis store on its own connection, its default).
 */
export function sharedStatusStore(env: Environment): StatusStore | undefined {
  const { statusStore } = parseCliEnv(env);
  return statusStore.kind === StatusStoreKind.Supabase ? new SupabaseStatusStore(statusStore.options) : undefined;
}
