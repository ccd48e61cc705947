/**
 * `@kai-jobs/queue/testing` — helpers for tests of kai-jobs and of its users: a key
 * prefix and cleanup per test, tracked connections that fail the test when left open,
 * the status store's contract test suite, and a Supabase-like PostgreSQL with a
 * PostgREST-compatible endpoint for the Supabase adapters.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, expect, onTestFailed } from 'vitest';
import { Redis } from 'ioredis';
import { RedisConnectionOptionsSchema } from './config.js';
import { closeRedis, ConnectionRole, createRedisConnection, type RedisClient } from './connection.js';

export { runStatusStoreContract } from './testing/status-store-contract.js';
export type { StatusStoreContractHarness } from './testing/status-store-contract.js';
export { signTestJwt, verifyTestJwt } from './testing/jwt.js';
export type { JwtVerification, TestJwtClaims } from './testing/jwt.js';
export { PostgrestEndpointOptionsSchema, startPostgrestEndpoint } from './testing/postgrest-endpoint.js';
export { httpStatusOfSqlState } from './testing/postgrest-protocol.js';
export type { PostgrestEndpoint, PostgrestEndpointOptions, RpcCallRecord } from './testing/postgrest-endpoint.js';
export {
  createMigratedSchema,
  DEFAULT_MIGRATIONS_DIR,
  ensureRealtimePublication,
  ensureSupabaseRoles,
  readMigrations,
  startSupabaseTestStack,
  TEST_AUTHENTICATOR_PASSWORD,
  TEST_JWT_SECRET,
  testPostgresUrl,
} from './testing/supabase-test-db.js';
export type { SupabaseTestStack, SupabaseTestStackOptions } from './testing/supabase-test-db.js';
export { startRestartableEndpoint } from './testing/restartable-endpoint.js';
export type { RestartableEndpoint } from './testing/restartable-endpoint.js';

/** The Redis URL tests use: `REDIS_URL` or the local default. */
export function testRedisUrl(): string {
  return process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
}

/** A key prefix unique to one test: `kt:<file>:<test-hash>:<random>`. */
export function testPrefix(file: string, testName: string): string {
  const base = file.replace(/^.*\//, '').replace(/\.(int\.)?test\.ts$/, '').replace(/[^A-Za-z0-9_-]/g, '-');
  const hash = createHash('sha1').update(testName).digest('hex').slice(0, 8);
  return `kt:${base.slice(0, 40)}:${hash}:${randomBytes(3).toString('hex')}`;
}

/** Something a test opens. */
interface TrackedResource {
  /** Shown in the failure message when the test left it open. */
  readonly label: string;
  /** Strict resources must be closed by the test itself; managed ones are closed for it. */
  readonly strict: boolean;
  isOpen(): boolean;
  close(): Promise<void>;
}

/** Per-test Redis context: see {@link useRedisTestContext}. */
export interface RedisTestContext {
  /** This test's key prefix. */
  readonly prefix: string;
  readonly redisUrl: string;
  /** An admin connection for assertions; closed by the context. */
  readonly redis: Redis;
  /** Opens a connection that the context closes after the test. */
  connection(role?: ConnectionRole, connectionName?: string): RedisClient;
  /** Closes `resource` after the test (a client, a queue, a server the test does not care to close). */
  manage<T extends { close(): Promise<unknown> }>(label: string, resource: T): T;
  /** `resource` (a worker, a monitor) must be closed by the test itself: left open, the test fails. */
  track<T extends { close(): Promise<unknown> }>(label: string, resource: T): T;
}

/**
 * Registers `beforeEach`/`afterEach` hooks giving each test its own key prefix. After each
 * test every tracked resource still open is closed and the test fails naming it; the
 * prefix's keys are deleted, unless the test failed (kept for inspection).
 */
export function useRedisTestContext(file: string): RedisTestContext {
  let prefix = '';
  let admin: Redis | undefined;
  let resources: TrackedResource[] = [];
  let failed = false;
  const redisUrl = testRedisUrl();

  beforeEach((context) => {
    prefix = testPrefix(file, context.task.name);
    admin = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 3 });
    resources = [];
    failed = false;
    onTestFailed(() => {
      failed = true;
    });
  });

  afterEach(async () => {
    const stillOpen = resources.filter((resource) => resource.isOpen());
    for (const resource of [...stillOpen].reverse()) await resource.close();
    const leftOpen = stillOpen.filter((resource) => resource.strict);
    if (admin !== undefined) {
      if (!failed) await deleteKeys(admin, prefix);
      await admin.quit();
      admin = undefined;
    }
    if (leftOpen.length > 0) {
      throw new Error(`test left open: ${leftOpen.map((resource) => resource.label).join(', ')}`);
    }
  });

  const context: RedisTestContext = {
    get prefix() {
      return prefix;
    },
    redisUrl,
    get redis() {
      if (admin === undefined) throw new Error('the Redis test context is only usable inside a test');
      return admin;
    },
    connection(role = ConnectionRole.Worker, connectionName) {
      const options = RedisConnectionOptionsSchema.parse({ url: redisUrl, prefix });
      const redis = createRedisConnection(options, {
        role,
        ...(connectionName === undefined ? {} : { connectionName }),
      });
      resources.push({
        label: `Redis connection (${role})`,
        strict: false,
        isOpen: () => redis.status !== 'end',
        close: () => closeRedis(redis),
      });
      return redis;
    },
    manage(label, resource) {
      return register(label, resource, false);
    },
    track(label, resource) {
      return register(label, resource, true);
    },
  };

  function register<T extends { close(): Promise<unknown> }>(label: string, resource: T, strict: boolean): T {
    let open = true;
    const originalClose = resource.close.bind(resource);
    resource.close = async () => {
      const result = await originalClose();
      open = false;
      return result;
    };
    resources.push({ label, strict, isOpen: () => open, close: async () => void (await resource.close()) });
    return resource;
  }
  return context;
}

/** Deletes every key under `prefix` (SCAN + UNLINK; never KEYS). */
export async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

/**
 * Resolves once `predicate` returns true, polling every `intervalMs`; rejects after
 * `timeoutMs` with `message`. For waiting on a state, never for a timeout to pass.
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  options: { timeoutMs?: number; intervalMs?: number; message?: string } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(options.message ?? `condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 20));
  }
}

/** Asserts `promise` rejects with an error whose `name` is `name`; returns the error. */
export async function expectErrorNamed(promise: Promise<unknown>, name: string): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    expect((error as Error).name).toBe(name);
    return error as Error & Record<string, unknown>;
  }
  throw new Error(`expected a ${name}, but the promise resolved`);
}
