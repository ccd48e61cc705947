import { parseStoreConfigFromEnv, type StoreEnvConfig } from '@kai-jobs/queue';
import { ConfigError, DEFAULT_KEY_PREFIX, DEFAULT_REDIS_URL, parseRedisConnectionOptions, parseRetentionEnv, type RedisConnectionOptions, type RetentionEnvConfig } from '@kai-jobs/queue';

/** The environment as an entry point sees it. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** What every CLI command that talks to a deployment needs: Redis and where rows and checkpoints live. */
export interface CliEnvConfig {
  redis: RedisConnectionOptions;
  /** `STATUS_STORE` and the `SUPABASE_*` variables, read as every entry point reads them. */
  stores: StoreEnvConfig;
  /** `KAI_RETENTION_*`: the stores this process opens expire finished jobs on this schedule. */
  retention: RetentionEnvConfig;
}

/** A variable's value, or undefined when unset or blank. */
export function envValue(env: Environment, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

/**
 * Reads `REDIS_URL`, `KAI_PREFIX` and the store choice (`STATUS_STORE`, `SUPABASE_URL`,
 * `SUPABASE_SERVICE_ROLE_KEY`, `SUPABASE_SCHEMA`, by `parseStoreConfigFromEnv`); throws a
 * `ConfigError` naming the variable that is wrong.
 */
export function parseCliEnv(env: Environment): CliEnvConfig {
  const redis = parseRedisConnectionOptions({
    url: envValue(env, 'REDIS_URL') ?? DEFAULT_REDIS_URL,
    prefix: envValue(env, 'KAI_PREFIX') ?? DEFAULT_KEY_PREFIX,
  });
  const { retention, problems } = parseRetentionEnv(env);
  if (problems.length > 0) throw new ConfigError(problems.join('; '));
  return { redis, stores: parseStoreConfigFromEnv(env), retention };
}
