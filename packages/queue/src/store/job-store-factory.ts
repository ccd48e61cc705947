import { z } from 'zod';
import { DEFAULT_KEY_PREFIX, KeyPrefixSchema } from '../config.js';
import type { RedisClient } from '../connection.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';
import { RedisJobStore } from './redis-job-store.js';
import { StoreRetentionSchema } from './retention.js';
import { SupabaseJobStore } from './supabase-job-store.js';
import type { JobStore } from './types.js';

/** Where job rows, their history and checkpoints live. */
export const StoreKind = {
  /** Redis (the default): one Redis is all a developer needs. */
  Redis: 'redis',
  /** The platform's Supabase tables, through the kai-jobs SQL functions. */
  Supabase: 'supabase',
} as const;
/** One of {@link StoreKind}. */
export type StoreKind = (typeof StoreKind)[keyof typeof StoreKind];

const custom = <T>(what: string) =>
  z.custom<T>((value) => typeof value === 'object' && value !== null, { message: `expected ${what}` });

const SchemaNameSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'expected a schema name (letters, digits, "_")' });

/** The Redis store: the entry point's ioredis connection and key prefix. */
const RedisStoreConfigSchema = z
  .object({
    kind: z.literal(StoreKind.Redis),
    /** The connection the store uses; `close()` leaves it open (it belongs to the caller). Required. */
    connection: custom<RedisClient>('an ioredis connection'),
    /** Key prefix, the same as the queues'. Default `kai`. */
    prefix: KeyPrefixSchema.default(DEFAULT_KEY_PREFIX),
    /** Retention and the checkpoint size limit (see `StoreRetentionSchema`). Defaults: 7 days, 200 history entries, 256 KiB. */
    retention: StoreRetentionSchema.optional(),
    /** Structured logger. Default: silent. */
    logger: custom<Logger>('a Logger').optional(),
  })
  .strict();

/** The Supabase store. `connection` and `prefix` are accepted (and ignored) so one object can be spread for either kind. */
const SupabaseStoreConfigSchema = z
  .object({
    kind: z.literal(StoreKind.Supabase),
    /** The project URL (`SUPABASE_URL`). Required. */
    url: z.url({ protocol: /^https?$/, error: 'expected the http(s) URL of the Supabase project' }),
    /** The service role key (`SUPABASE_SERVICE_ROLE_KEY`). Required. */
    serviceRoleKey: z.string().min(1, 'the service role key is required'),
    /** The schema holding the kai-jobs tables and functions (`SUPABASE_SCHEMA`). Default `public`. */
    schema: SchemaNameSchema.default('public'),
    /** How long one RPC may take before it fails with a retryable error (ms). Default 10000. */
    requestTimeoutMs: z.number().int().positive().default(10_000),
    /** Ignored for Supabase (the Redis connection still carries the queues and the write-lag registry). */
    connection: custom<RedisClient>('an ioredis connection').optional(),
    /** Ignored for Supabase. */
    prefix: KeyPrefixSchema.optional(),
    /** Retention and the checkpoint size limit (see `StoreRetentionSchema`). */
    retention: StoreRetentionSchema.optional(),
    /** Structured logger. Default: silent. */
    logger: custom<Logger>('a Logger').optional(),
  })
  .strict();

/** What {@link createJobStore} takes: `kind` picks the backend. */
export const JobStoreConfigSchema = z.discriminatedUnion('kind', [RedisStoreConfigSchema, SupabaseStoreConfigSchema]);
/** What callers pass to {@link createJobStore}. */
export type JobStoreConfig = z.input<typeof JobStoreConfigSchema>;

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length === 0 ? '(root)' : issue.path.join('.')}: ${issue.message}`).join('; ');
}

/**
 * The one factory of job stores: every entry point (worker, monitor, board, CLI, client) builds
 * its store here from one config. `kind` picks Redis (given the entry point's connection and
 * prefix) or Supabase (url, service role key, schema); the result owns rows, checkpoints and
 * history on that one backend, so rows on one backend and checkpoints on another cannot be
 * built. `close()` of the result releases what it opened (never the caller's Redis
 * connection). Throws a `ConfigError` naming every bad field.
 *
 * ```ts
 * const store = createJobStore({ ...parseStoreConfigFromEnv(process.env), connection, prefix });
 * ```
 */
export function createJobStore(config: JobStoreConfig): JobStore {
  const parsed = JobStoreConfigSchema.safeParse(config);
  if (!parsed.success) throw new ConfigError(`invalid store configuration: ${describeIssues(parsed.error)}`);
  const options = parsed.data;
  const retention = options.retention === undefined ? {} : { retention: options.retention };
  if (options.kind === StoreKind.Redis) {
    return new RedisJobStore({ connection: options.connection, prefix: options.prefix, ...retention });
  }
  return new SupabaseJobStore({
    url: options.url,
    serviceRoleKey: options.serviceRoleKey,
    schema: options.schema,
    requestTimeoutMs: options.requestTimeoutMs,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...retention,
  });
}

/** The store choice read from the environment by {@link parseStoreConfigFromEnv}. */
export type StoreEnvConfig =
  | { kind: typeof StoreKind.Redis }
  | { kind: typeof StoreKind.Supabase; url: string; serviceRoleKey: string; schema: string };

/** The environment variables {@link parseStoreConfigFromEnv} reads. */
export const STORE_ENV_VARIABLES = ['STATUS_STORE', 'SUPABASE_URL', 'SUPABASE_SERVICE_ROLE_KEY', 'SUPABASE_SCHEMA'] as const;

/**
 * Reads the store choice from an environment object (entry points pass `process.env`; packages
 * never read it themselves): `STATUS_STORE` (`redis` or `supabase`, default `redis`),
 * `SUPABASE_URL`, `SUPABASE_SERVICE_ROLE_KEY`, `SUPABASE_SCHEMA` (default `public`). With
 * `STATUS_STORE=supabase`, a missing or malformed variable is a `ConfigError` naming it —
 * every problem at once. The result, spread with the Redis connection and prefix, is what
 * {@link createJobStore} takes:
 *
 * ```ts
 * const store = createJobStore({ ...parseStoreConfigFromEnv(process.env), connection, prefix });
 * ```
 */
export function parseStoreConfigFromEnv(env: Readonly<Record<string, string | undefined>>): StoreEnvConfig {
  const value = (name: string): string | undefined => {
    const raw = env[name]?.trim();
    return raw === undefined || raw === '' ? undefined : raw;
  };
  const kind = (value('STATUS_STORE') ?? StoreKind.Redis).toLowerCase();
  if (kind === StoreKind.Redis) return { kind: StoreKind.Redis };
  if (kind !== StoreKind.Supabase) {
    throw new ConfigError(`STATUS_STORE must be "redis" or "supabase", got "${env['STATUS_STORE'] ?? ''}"`);
  }
  const problems: string[] = [];
  const url = value('SUPABASE_URL');
  if (url === undefined) {
    problems.push('SUPABASE_URL is not set (the project URL, https://<project-ref>.supabase.co)');
  } else if (!/^https?:\/\//i.test(url) || !URL.canParse(url)) {
    problems.push(`SUPABASE_URL must be the http(s) URL of the project, got "${url}"`);
  }
  const serviceRoleKey = value('SUPABASE_SERVICE_ROLE_KEY');
  if (serviceRoleKey === undefined) {
    problems.push('SUPABASE_SERVICE_ROLE_KEY is not set (Project Settings → API → service_role key)');
  }
  const schema = value('SUPABASE_SCHEMA') ?? 'public';
  if (!SchemaNameSchema.safeParse(schema).success) {
    problems.push(`SUPABASE_SCHEMA must be a schema name (letters, digits, "_"), got "${schema}"`);
  }
  if (problems.length > 0 || url === undefined || serviceRoleKey === undefined) {
    throw new ConfigError(`STATUS_STORE=supabase: ${problems.join('; ')}`);
  }
  return { kind: StoreKind.Supabase, url, serviceRoleKey, schema };
}
