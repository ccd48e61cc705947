/**
 * `@kai-jobs/queue/testing` — helpers for tests of kai-jobs and of its users: a key
 * prefix and cleanup per test, tracked connections that fail the test when left open,
 * the status store's contract test suite, a Supabase-like PostgreSQL with a
 * PostgREST-compatible endpoint for the Supabase adapters, and signed URLs with the secrets
 * they carry, for tests that prove no secret leaves the process.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, expect, onTestFailed } from 'vitest';
import { Cluster, Redis } from 'ioredis';
import {
  parseClusterNodes,
  REDIS_CLUSTER_NODES_VARIABLE,
  RedisConnectionOptionsSchema,
  splitClusterNode,
  type RedisConnectionOptionsInput,
} from './config.js';
import { closeRedis, ConnectionRole, createRedisConnection, waitForRedis, type RedisClient } from './connection.js';

export { runStatusStoreContract } from './testing/status-store-contract.js';
export { runAlertOutboxContract } from './testing/alert-outbox-contract.js';
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
export { allSampleSecrets, leakedSampleSecrets, SIGNED_URL_SAMPLES } from './testing/signed-urls.js';
export { API_ROLES, connectPostgres, kaiFunctionsOf, openRoleSession, privilegesHeld } from './testing/api-role-privileges.js';
export type { ApiRole, ProbedFunction, Queryable, RoleSession } from './testing/api-role-privileges.js';
export type { SignedUrlSample } from './testing/signed-urls.js';
export type { RestartableEndpoint } from './testing/restartable-endpoint.js';

/** The Redis URL tests use: `REDIS_URL` or the local default (on a cluster: one of its nodes). */
export function testRedisUrl(): string {
  return process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
}

/**
 * The Redis Cluster seed nodes tests use: `REDIS_CLUSTER_NODES` (e.g. as printed by
 * `scripts/redis-cluster.sh start`), or `[]` when the tests run against a single Redis.
 */
export function testClusterNodes(): string[] {
  return parseClusterNodes(process.env[REDIS_CLUSTER_NODES_VARIABLE]);
}

/** Connection options naming the test Redis (or cluster) under `prefix`, for any kai-jobs `redis` option. */
export function testRedisOptions(prefix: string): RedisConnectionOptionsInput {
  return { url: testRedisUrl(), prefix, clusterNodes: testClusterNodes() };
}

/** The environment variables that point a child process (an entry point) at the test Redis. */
export function testRedisEnv(): Record<string, string> {
  const nodes = testClusterNodes();
  return { REDIS_URL: testRedisUrl(), ...(nodes.length > 0 ? { [REDIS_CLUSTER_NODES_VARIABLE]: nodes.join(',') } : {}) };
}

/**
 * A connection to the test Redis for a test's own reads and writes: an ioredis `Cluster`
 * when `REDIS_CLUSTER_NODES` is set, a plain `Redis` otherwise. Commands wait for the
 * connection (offline queue) and are retried 3 times; the caller closes it.
 */
export function testRedisConnection(): RedisClient {
  const nodes = testClusterNodes();
  if (nodes.length === 0) return new Redis(testRedisUrl(), { lazyConnect: false, maxRetriesPerRequest: 3 });
  return new Cluster([testRedisUrl(), ...nodes.map(splitClusterNode)], { redisOptions: { maxRetriesPerRequest: 3 } });
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
  /** `{ url, prefix, clusterNodes }` of this test: pass it as the `redis` option of kai-jobs parts. */
  readonly redisOptions: RedisConnectionOptionsInput;
  /** An admin connection for assertions (a `Cluster` on a cluster, see {@link testRedisConnection}); closed by the context. */
  readonly redis: RedisClient;
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
  let admin: RedisClient | undefined;
  let resources: TrackedResource[] = [];
  let failed = false;
  const redisUrl = testRedisUrl();

  beforeEach((context) => {
    prefix = testPrefix(file, context.task.name);
    admin = testRedisConnection();
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
      await closeRedis(admin);
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
    get redisOptions() {
      return testRedisOptions(prefix);
    },
    get redis() {
      if (admin === undefined) throw new Error('the Redis test context is only usable inside a test');
      return admin;
    },
    connection(role = ConnectionRole.Worker, connectionName) {
      const options = RedisConnectionOptionsSchema.parse(testRedisOptions(prefix));
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

/** The connections whose keyspaces together hold every key: each master of a cluster, or `redis` itself. */
async function keyspaces(redis: RedisClient): Promise<Redis[]> {
  if (!(redis instanceof Cluster)) return [redis];
  if (redis.status !== 'ready') await waitForRedis(redis, testRedisUrl(), 10_000);
  return redis.nodes('master');
}

/** Calls `onKeys` with each SCAN batch of keys matching `pattern`, on every keyspace of `redis`. */
async function scanEach(redis: RedisClient, pattern: string, onKeys: (node: Redis, keys: string[]) => Promise<void>): Promise<void> {
  for (const node of await keyspaces(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await onKeys(node, keys);
    } while (cursor !== '0');
  }
}

/** Every key matching `pattern` (SCAN, never KEYS; on a cluster, of every master). */
export async function scanKeys(redis: RedisClient, pattern: string): Promise<string[]> {
  const found: string[] = [];
  await scanEach(redis, pattern, async (_node, keys) => void found.push(...keys));
  return found;
}

/** Deletes every key under `prefix` (SCAN + UNLINK; never KEYS; on a cluster, on every master). */
export async function deleteKeys(redis: RedisClient, prefix: string): Promise<number> {
  let deleted = 0;
  await scanEach(redis, `${prefix}:*`, async (node, keys) => {
    if (!(redis instanceof Cluster)) {
      deleted += await redis.unlink(...keys);
      return;
    }
    // One master's keys span many slots, and a multi-key UNLINK must stay in one: one UNLINK
    // per key, pipelined on that master's own connection.
    const pipeline = node.pipeline();
    for (const key of keys) pipeline.unlink(key);
    for (const [error, count] of (await pipeline.exec()) ?? []) {
      if (error) throw error;
      deleted += Number(count);
    }
  });
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
