import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { closeRedis, toError, type RedisClient } from '@kai-jobs/queue';

/** The client names Redis reports, read from every node that holds data. */
export interface ClientListSnapshot {
  /** Names of the connected clients (unnamed connections are left out). */
  names: Set<string>;
  /** Connections listed, named or not. */
  clients: number;
  /** Nodes asked (1, or every master of a cluster). */
  nodes: number;
  /** The store's clock (ms) right after the list was taken (the latest of the nodes' `TIME`). */
  storeNow: number;
}

/** Result of {@link checkClientListUsable}, for `kai-jobs doctor`. */
export interface ClientListCheck {
  /** True when the failover watcher can see worker connections come and go. */
  usable: boolean;
  /** What was found, in words. */
  detail: string;
}

/** The `name=` values of a `CLIENT LIST` reply (one client per line). */
export function parseClientNames(reply: string): { names: string[]; clients: number } {
  const names: string[] = [];
  let clients = 0;
  for (const line of reply.split('\n')) {
    if (line.trim() === '') continue;
    clients += 1;
    // Client names cannot contain spaces (CLIENT SETNAME refuses them), so a field ends at one.
    const match = /(?:^| )name=(\S*)/.exec(line);
    if (match !== null && match[1] !== undefined && match[1] !== '') names.push(match[1]);
  }
  return { names, clients };
}

function dataNodes(redis: RedisClient): Redis[] {
  return redis.isCluster ? (redis as Cluster).nodes('master') : [redis as Redis];
}

/**
 * Reads the client names connected to Redis — on a cluster, to every master, since a
 * process's named connection may sit on any of them — and the store's clock right after.
 * Rejects when a node refuses `CLIENT LIST` (an ACL, a proxy, a managed service).
 */
export async function readClientNames(redis: RedisClient): Promise<ClientListSnapshot> {
  // A cluster client knows its masters only once it has loaded the slots: wait for that.
  if (redis.isCluster && redis.status !== 'ready' && dataNodes(redis).length === 0) {
    await new Promise<void>((resolve, reject) => {
      const onReady = (): void => {
        redis.off('end', onEnd);
        resolve();
      };
      const onEnd = (): void => {
        redis.off('ready', onReady);
        reject(new Error('the cluster connection closed before it was ready'));
      };
      redis.once('ready', onReady);
      redis.once('end', onEnd);
    });
  }
  const nodes = dataNodes(redis);
  if (nodes.length === 0) throw new Error('no Redis node to ask (the cluster has no known master)');
  const replies = await Promise.all(
    nodes.map(async (node) => {
      const results = await node.pipeline().call('CLIENT', 'LIST', 'TYPE', 'normal').time().exec();
      const [listError, list] = results?.[0] ?? [new Error('no reply'), null];
      const [timeError, time] = results?.[1] ?? [new Error('no reply'), null];
      if (listError) throw listError;
      if (timeError) throw timeError;
      const [seconds, micros] = time as [string, string];
      return { list: String(list), now: Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) };
    }),
  );
  const names = new Set<string>();
  let clients = 0;
  let storeNow = 0;
  for (const reply of replies) {
    const parsed = parseClientNames(reply.list);
    for (const name of parsed.names) names.add(name);
    clients += parsed.clients;
    storeNow = Math.max(storeNow, reply.now);
  }
  return { names, clients, nodes: nodes.length, storeNow };
}

function duplicateNamed(redis: RedisClient, name: string): RedisClient {
  // Queue the first command until the probe is connected (the original may fail fast instead).
  if (redis.isCluster) {
    const cluster = redis as Cluster;
    return cluster.duplicate(undefined, {
      enableOfflineQueue: true,
      redisOptions: { ...cluster.options.redisOptions, connectionName: name },
    });
  }
  return (redis as Redis).duplicate({ connectionName: name, enableOfflineQueue: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Whether fast failover can work against this Redis: `CLIENT LIST` must be allowed and must
 * show the names other connections set. It opens a probe connection with a random name and
 * looks for it (on every master of a cluster). A proxy that hides `CLIENT LIST`, drops
 * `CLIENT SETNAME` or multiplexes clients onto its own connections makes it unusable: the
 * failover watcher then logs once and does nothing (BullMQ's lock still catches dead workers).
 */
export async function checkClientListUsable(redis: RedisClient, timeoutMs = 5000): Promise<ClientListCheck> {
  try {
    await withTimeout(readClientNames(redis), timeoutMs, 'CLIENT LIST');
  } catch (error) {
    return { usable: false, detail: `CLIENT LIST is not usable: ${toError(error).message}` };
  }
  const probeName = `kai-probe:${randomBytes(6).toString('hex')}`;
  let probe: RedisClient | undefined;
  try {
    probe = duplicateNamed(redis, probeName);
    probe.on('error', () => undefined);
    // ioredis sends CLIENT SETNAME before anything queued, so once PING answers the name is set.
    await withTimeout(probe.ping(), timeoutMs, 'a probe connection');
    const snapshot = await withTimeout(readClientNames(redis), timeoutMs, 'CLIENT LIST');
    if (snapshot.names.has(probeName)) {
      return {
        usable: true,
        detail: `CLIENT LIST shows client names (${snapshot.clients} connection(s), ${snapshot.names.size} named, on ${snapshot.nodes} node(s))`,
      };
    }
    return {
      usable: false,
      detail:
        `a connection named ${probeName} is not in CLIENT LIST (${snapshot.clients} connection(s), ${snapshot.names.size} named): ` +
        'a proxy hides client connections or their names, so vanished workers cannot be seen; turn fast failover off',
    };
  } catch (error) {
    return { usable: false, detail: `could not probe CLIENT LIST: ${toError(error).message}` };
  } finally {
    if (probe !== undefined) await closeRedis(probe).catch(() => undefined);
  }
}
