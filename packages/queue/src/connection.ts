import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { maskRedisUrl, parseRedisUrl, splitClusterNode, type RedisConnectionOptions } from './config.js';
import { RedisUnreachableError, toError } from './errors.js';

/** A Redis connection: a single node or a cluster. */
export type RedisClient = Redis | Cluster;

/**
 * What a connection is for. Workers need `maxRetriesPerRequest: null` (BullMQ's blocking
 * commands must wait out a reconnect); producers must fail fast instead of queueing
 * commands while Redis is away, so an API request gets an error, not a hang.
 */
export const ConnectionRole = {
  Worker: 'worker',
  Producer: 'producer',
} as const;
/** One of {@link ConnectionRole}. */
export type ConnectionRole = (typeof ConnectionRole)[keyof typeof ConnectionRole];

/** Options of {@link createRedisConnection}. */
export interface CreateRedisConnectionOptions {
  role: ConnectionRole;
  /** `CLIENT SETNAME` of the connection (visible in `CLIENT LIST`). */
  connectionName?: string;
}

/** Reconnect delay: grows 100 ms per attempt up to 2 s; never gives up. */
function reconnectDelayMs(attempt: number): number {
  return Math.min(attempt * 100, 2000);
}

function nodeOptions(options: RedisConnectionOptions, create: CreateRedisConnectionOptions): RedisOptions {
  const parsed = parseRedisUrl(options.url);
  const redisOptions: RedisOptions = {
    host: parsed.host,
    port: parsed.port,
    db: parsed.db,
    connectTimeout: options.connectTimeoutMs,
    retryStrategy: reconnectDelayMs,
    // Producers fail fast; workers wait for Redis to come back (BullMQ requires null here).
    maxRetriesPerRequest: create.role === ConnectionRole.Worker ? null : 1,
    enableOfflineQueue: create.role === ConnectionRole.Worker,
  };
  if (parsed.username !== undefined) redisOptions.username = parsed.username;
  if (parsed.password !== undefined) redisOptions.password = parsed.password;
  if (parsed.tls) redisOptions.tls = {};
  if (create.connectionName !== undefined) redisOptions.connectionName = create.connectionName;
  return redisOptions;
}

/**
 * Opens a Redis connection for `role`. With `clusterNodes` set it opens a Redis Cluster
 * client seeded with the URL's node and those nodes.
 */
export function createRedisConnection(
  options: RedisConnectionOptions,
  create: CreateRedisConnectionOptions,
): RedisClient {
  const redisOptions = nodeOptions(options, create);
  if (options.clusterNodes.length > 0) {
    const seeds = [
      { host: redisOptions.host ?? '127.0.0.1', port: redisOptions.port ?? 6379 },
      ...options.clusterNodes.map(splitClusterNode),
    ];
    const { host: _host, port: _port, db: _db, ...perNode } = redisOptions;
    return new Cluster(seeds, {
      redisOptions: perNode,
      clusterRetryStrategy: reconnectDelayMs,
      enableOfflineQueue: create.role === ConnectionRole.Worker,
      // Cluster clients need the ready check to know the slots before the first command.
      enableReadyCheck: true,
    });
  }
  return new Redis(redisOptions);
}

/**
 * Resolves once `redis` is ready; rejects with a {@link RedisUnreachableError} naming the
 * URL if it is not within `timeoutMs`. The connection keeps retrying in the background.
 */
export async function waitForRedis(redis: RedisClient, url: string, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  let lastError: Error | undefined;
  await new Promise<void>((resolve, reject) => {
    const onError = (error: unknown): void => {
      lastError = toError(error);
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onError);
      redis.off('end', onEnd);
    };
    const onReady = (): void => {
      cleanup();
      resolve();
    };
    const onEnd = (): void => {
      cleanup();
      reject(new RedisUnreachableError(maskRedisUrl(url), 'the connection was closed'));
    };
    const timer = setTimeout(() => {
      cleanup();
      const detail = lastError === undefined ? 'no answer' : lastError.message;
      reject(new RedisUnreachableError(maskRedisUrl(url), `${detail} (waited ${timeoutMs} ms)`, { cause: lastError }));
    }, timeoutMs);
    redis.on('ready', onReady);
    redis.on('error', onError);
    redis.on('end', onEnd);
  });
}

/**
 * Throws what a closed single Redis answers (`Connection is closed.`) when `redis` has ended
 * or is being closed.
 * Call it before a pipeline or MULTI: on a closed ioredis `Cluster` they wait for ever for a
 * `ready` event that never comes, instead of rejecting.
 */
export function assertOpen(redis: RedisClient): void {
  if (redis.status === 'end' || redis.status === 'disconnecting') throw new Error('Connection is closed.');
}

/** How long {@link closeRedis} lets a cluster client finish closing by itself (ms). */
const CLUSTER_CLOSE_GRACE_MS = 200;

/**
 * Closes a cluster client. ioredis 5 leaves a `Cluster` that is disconnected before its first
 * `ready` (or between reconnect attempts) in `disconnecting` for ever, without `end`; at
 * that point it has no node connection left, so finish the transition.
 */
async function closeCluster(cluster: Cluster): Promise<void> {
  try {
    if (cluster.status === 'ready') {
      await cluster.quit();
      return;
    }
  } catch {
    // fall through to a hard disconnect
  }
  if (cluster.status !== 'disconnecting') cluster.disconnect();
  if (cluster.status === 'end') return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, CLUSTER_CLOSE_GRACE_MS);
    function done(): void {
      clearTimeout(timer);
      cluster.off('end', done);
      resolve();
    }
    cluster.once('end', done);
  });
  if (cluster.status === 'disconnecting') {
    (cluster as unknown as { setStatus(status: string): void }).setStatus('end');
  }
}

/** Closes a connection politely (`QUIT`), falling back to a hard disconnect. */
export async function closeRedis(redis: RedisClient): Promise<void> {
  if (redis.status === 'end') return;
  if (redis instanceof Cluster) {
    await closeCluster(redis);
    return;
  }
  try {
    if (redis.status === 'ready') {
      await redis.quit();
      return;
    }
  } catch {
    // fall through to a hard disconnect
  }
  redis.disconnect();
  // ioredis 5 leaves a client that was between reconnect attempts in `reconnecting` for
  // ever after disconnect() (its timer is cleared, no socket is open) without emitting
  // `end`; finish the transition so listeners and leak checks see it closed.
  if (redis.status === 'reconnecting') {
    (redis as unknown as { setStatus(status: string): void }).setStatus('end');
  }
}
