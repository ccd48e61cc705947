import {
  ConfigError,
  DEFAULT_KEY_PREFIX,
  DEFAULT_REDIS_URL,
  parseRedisConnectionOptions,
  type RedisConnectionOptions,
  type SupabaseStatusStoreOptions,
} from '@kai-jobs/queue';

/** The environment as an entry point sees it. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** Where the job-status rows live (`STATUS_STORE`). */
export const StatusStoreKind = {
  Redis: 'redis',
  Supabase: 'supabase',
} as const;
/** One of {@link StatusStoreKind}. */
export type StatusStoreKind = (typeof StatusStoreKind)[keyof typeof StatusStoreKind];

/** The status store the environment asks for. */
export type StatusStoreChoice =
  | { kind: typeof StatusStoreKind.Redis }
  | { kind: typeof StatusStoreKind.Supabase; options: SupabaseStatusStoreOptions };

/** What every CLI command that talks to a deployment needs: Redis and the status store. */
export interface CliEnvConfig {
  redis: RedisConnectionOptions;
  statusStore: StatusStoreChoice;
}

/** A variable's value, or undefined when unset or blank. */
export function envValue(env: Environment, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

/**
 * Reads `REDIS_URL`, `KAI_PREFIX`, `STATUS_STORE`, `SUPABASE_URL`, `SUPABASE_SERVICE_ROLE_KEY`
 * and `SUPABASE_SCHEMA` (default `public`); throws a `ConfigError` naming the variable that is wrong.
 */
export function parseCliEnv(env: Environment): CliEnvConfig {
  const redis = parseRedisConnectionOptions({
    url: envValue(env, 'REDIS_URL') ?? DEFAULT_REDIS_URL,
    prefix: envValue(env, 'KAI_PREFIX') ?? DEFAULT_KEY_PREFIX,
  });
  const kind = envValue(env, 'STATUS_STORE')?.toLowerCase() ?? StatusStoreKind.Redis;
  if (kind === StatusStoreKind.Redis) return { redis, statusStore: { kind } };
  if (kind !== StatusStoreKind.Supabase) {
    throw new ConfigError(`STATUS_STORE="${env['STATUS_STORE']}" is not valid; expected redis or supabase`);
  }
  const url = envValue(env, 'SUPABASE_URL');
  const serviceRoleKey = env['SUPABASE_SERVICE_ROLE_KEY'];
  const missing = [url === undefined ? 'SUPABASE_URL' : null, serviceRoleKey ? null : 'SUPABASE_SERVICE_ROLE_KEY'].filter(Boolean);
  if (missing.length > 0) throw new ConfigError(`STATUS_STORE=supabase needs ${missing.join(' and ')}`);
  const schema = envValue(env, 'SUPABASE_SCHEMA');
  return {
    redis,
    statusStore: { kind, options: { url: url as string, serviceRoleKey: serviceRoleKey as string, ...(schema === undefined ? {} : { schema }) } },
  };
}
