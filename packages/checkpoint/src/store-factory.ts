import { z } from 'zod';
import {
  ConfigError,
  DEFAULT_KEY_PREFIX,
  KeyPrefixSchema,
  RedisStatusStore,
  SupabaseStatusStore,
  toError,
  type Logger,
  type RedisClient,
  type StatusStore,
} from '@kai-jobs/queue';
import { RedisCheckpointStore } from './redis-checkpoint-store.js';
import { SupabaseCheckpointStore } from './supabase-checkpoint-store.js';
import type { CheckpointStore } from './types.js';

/** Where job-status rows and checkpoints live. */
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

/**
 * Retention of both stores of a set, by the stores' own option names: `finishedRetentionMs`
 * (rows, history, idempotency keys of finished jobs), `checkpointRetentionMs` (the checkpoint
 * store's `retentionMs`), `maxHistoryEntries` (Redis only). Absent: each store's default.
 */
const StoreRetentionSchema = z
  .object({
    finishedRetentionMs: z.number().int().positive().optional(),
    checkpointRetentionMs: z.number().int().positive().optional(),
    maxHistoryEntries: z.number().int().min(10).max(10_000).optional(),
  })
  .strict();

const SchemaNameSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'expected a schema name (letters, digits, "_")' });

/** Redis stores: the entry point's ioredis connection and key prefix. */
const RedisStoreSetSchema = z
  .object({
    kind: z.literal(StoreKind.Redis),
    /** The connection both stores use; `close()` leaves it open (it belongs to the caller). Required. */
    connection: custom<RedisClient>('an ioredis connection'),
    /** Key prefix, the same as the queues'. Default `kai`. */
    prefix: KeyPrefixSchema.default(DEFAULT_KEY_PREFIX),
    /** Structured logger. Default: silent. */
    logger: custom<Logger>('a Logger').optional(),
    /** Retention (see `StoreRetentionSchema`). Default: the stores' defaults. */
    retention: StoreRetentionSchema.optional(),
  })
  .strict();

/** Supabase stores. `connection` and `prefix` are accepted (and ignored) so one object can be spread for either kind. */
const SupabaseStoreSetSchema = z
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
    /** Structured logger. Default: silent. */
    logger: custom<Logger>('a Logger').optional(),
    /** Retention (`maxHistoryEntries` does not apply: the SQL functions keep history by age). Default: the stores' defaults. */
    retention: StoreRetentionSchema.optional(),
  })
  .strict();

/** What {@link createStoreSet} takes: `kind` picks the variant. */
export const StoreSetConfigSchema = z.discriminatedUnion('kind', [RedisStoreSetSchema, SupabaseStoreSetSchema]);
/** What callers pass to {@link createStoreSet}. */
export type StoreSetConfig = z.input<typeof StoreSetConfigSchema>;

/** The status and checkpoint stores of one process, over the same backend. */
export interface StoreSet {
  readonly kind: StoreKind;
  readonly statusStore: StatusStore;
  readonly checkpointStore: CheckpointStore;
  /** Closes what the set opened (never the caller's Redis connection). */
  close(): Promise<void>;
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length === 0 ? '(root)' : issue.path.join('.')}: ${issue.message}`).join('; ');
}

/**
 * Builds the status store and the checkpoint store for `config.kind`: Redis (given the entry
 * point's connection and prefix) or Supabase (url, service role key, schema). Both stores of a
 * set share one backend, as the checkpoint stores require (a save checks the status row's
 * fence in the same script or transaction). Throws a `ConfigError` naming every bad field.
 */
export function createStoreSet(config: StoreSetConfig): StoreSet {
  const parsed = StoreSetConfigSchema.safeParse(config);
  if (!parsed.success) throw new ConfigError(`invalid store configuration: ${describeIssues(parsed.error)}`);
  const options = parsed.data;
  if (options.kind === StoreKind.Redis) {
    const { connection, prefix } = options;
    const { finishedRetentionMs, checkpointRetentionMs, maxHistoryEntries } = options.retention ?? {};
    const shared = { ...(finishedRetentionMs === undefined ? {} : { finishedRetentionMs }), ...(maxHistoryEntries === undefined ? {} : { maxHistoryEntries }) };
    return {
      kind: StoreKind.Redis,
      statusStore: new RedisStatusStore({ connection, prefix, ...shared }),
      checkpointStore: new RedisCheckpointStore({ connection, prefix, ...shared, ...(checkpointRetentionMs === undefined ? {} : { retentionMs: checkpointRetentionMs }) }),
      async close() {
        // Both stores use the caller's connection: nothing of their own to close.
      },
    };
  }
  const connection = {
    url: options.url,
    serviceRoleKey: options.serviceRoleKey,
    schema: options.schema,
    requestTimeoutMs: options.requestTimeoutMs,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  };
  const { finishedRetentionMs, checkpointRetentionMs } = options.retention ?? {};
  const statusStore = new SupabaseStatusStore({ ...connection, ...(finishedRetentionMs === undefined ? {} : { finishedRetentionMs }) });
  const checkpointStore = new SupabaseCheckpointStore({ ...connection, ...(checkpointRetentionMs === undefined ? {} : { retentionMs: checkpointRetentionMs }) });
  return {
    kind: StoreKind.Supabase,
    statusStore,
    checkpointStore,
    async close() {
      const results = await Promise.allSettled([statusStore.close(), checkpointStore.close()]);
      const failed = results.find((result) => result.status === 'rejected');
      if (failed !== undefined) throw toError(failed.reason);
    },
  };
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
 * {@link createStoreSet} takes:
 *
 * ```ts
 * const stores = createStoreSet({ ...parseStoreConfigFromEnv(process.env), connection, prefix });
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
