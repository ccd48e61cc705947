import { z } from 'zod';
import { DEFAULT_KEY_PREFIX, KeyPrefixSchema } from '../config.js';
import type { RedisClient } from '../connection.js';
import { StoreError, toError } from '../errors.js';
import { workerRegistryKeys, type WorkerRegistryKeys } from '../keys.js';
import { loadLuaScripts, QUEUE_LUA_INCLUDES_URL, ScriptSet } from '../lua-scripts.js';
import { parseOrThrow } from '../validation.js';

/**
 * One worker process in the registry: what the failover watcher needs to see it vanish
 * (its named connection's client name) and to find its jobs (the BullMQ workers it runs
 * and the prefix of every lock token they hand out).
 */
export const WorkerRegistryEntrySchema = z
  .object({
    /** The process's worker id (`<host>-<pid>-<random>`; the BullMQ worker name). */
    workerId: z.string().min(1),
    /** The Redis client name of the process's own connection (`kai-worker:<workerId>`). */
    clientName: z.string().min(1),
    /** Host name of the process. */
    host: z.string(),
    /** Process id. */
    pid: z.number().int(),
    /** When the process registered (its own clock, ms since the epoch; for operators only). */
    startedAt: z.number(),
    /** BullMQ queue names the process takes jobs from. */
    queues: z.array(z.string().min(1)),
    /** `Worker.id` of each BullMQ worker of the process. */
    bullWorkerIds: z.array(z.string().min(1)),
    /** Every lock token a BullMQ worker of the process hands out starts with one of these (`<Worker.id>:`). */
    lockTokenPrefixes: z.array(z.string().min(1)),
  })
  .strict();
/** One worker process in the registry. */
export type WorkerRegistryEntry = z.infer<typeof WorkerRegistryEntrySchema>;

/** Options of {@link RedisWorkerRegistryStore}. */
export const RedisWorkerRegistryStoreOptionsSchema = z
  .object({
    /** The connection to use; the store does not close it. */
    connection: z.custom<RedisClient>((value) => typeof value === 'object' && value !== null, {
      message: 'expected an ioredis connection',
    }),
    /** Key prefix. Default `kai`. */
    prefix: KeyPrefixSchema.default(DEFAULT_KEY_PREFIX),
  })
  .strict();
/** What callers pass to construct a {@link RedisWorkerRegistryStore}. */
export type RedisWorkerRegistryStoreOptions = z.input<typeof RedisWorkerRegistryStoreOptionsSchema>;

/** The registry as read by the failover watcher. */
export interface WorkerRegistrySnapshot {
  /** Registered workers by id. */
  entries: Map<string, WorkerRegistryEntry>;
  /** Last registry heartbeat of each worker (store time, ms); absent when never written. */
  heartbeats: Map<string, number>;
  /** Ids whose entry could not be decoded (left alone; reported so an operator can look). */
  invalid: string[];
}

const scripts = new ScriptSet('kaiRegistry', loadLuaScripts(new URL('./lua/', import.meta.url), [QUEUE_LUA_INCLUDES_URL]));

/**
 * The worker registry in Redis, shared by the worker processes (which register, heartbeat
 * and unregister) and the monitor's failover watcher (which reads it and removes workers
 * it found dead). Two hashes: entries and heartbeats (see {@link workerRegistryKeys}).
 */
export class RedisWorkerRegistryStore {
  private readonly redis: RedisClient;
  /** The registry's keys. */
  readonly keys: WorkerRegistryKeys;

  constructor(options: RedisWorkerRegistryStoreOptions) {
    const parsed = parseOrThrow(RedisWorkerRegistryStoreOptionsSchema, options, 'RedisWorkerRegistryStore options');
    this.redis = parsed.connection;
    this.keys = workerRegistryKeys(parsed.prefix);
  }

  /** Writes (or rewrites) `entry` and its first heartbeat; resolves with the store time of the heartbeat. */
  async register(entry: WorkerRegistryEntry): Promise<number> {
    const valid = parseOrThrow(WorkerRegistryEntrySchema, entry, 'worker registry entry');
    // Separate commands, not one pipeline: on a cluster the two hashes live in different slots.
    const [, now] = await Promise.all([
      this.redis.hset(this.keys.registry, valid.workerId, JSON.stringify(valid)),
      this.beat(valid.workerId),
    ]);
    return now;
  }

  /**
   * Records a heartbeat of `entry.workerId` and puts its entry back if the watcher removed it
   * (a process that was cut off from Redis and came back is alive again). Resolves with the
   * store time of the heartbeat.
   */
  async heartbeat(entry: WorkerRegistryEntry): Promise<number> {
    const [, now] = await Promise.all([
      this.redis.hsetnx(this.keys.registry, entry.workerId, JSON.stringify(entry)),
      this.beat(entry.workerId),
    ]);
    return now;
  }

  private async beat(workerId: string): Promise<number> {
    try {
      return Number(await scripts.run(this.redis, 'heartbeat', [this.keys.heartbeats], [workerId]));
    } catch (error) {
      throw new StoreError(`registry heartbeat of ${workerId} failed: ${toError(error).message}`, { cause: error, retryable: true });
    }
  }

  /** Removes a worker's entry and heartbeat (graceful shutdown, or the watcher after a failover). */
  async remove(workerId: string): Promise<void> {
    await Promise.all([this.redis.hdel(this.keys.registry, workerId), this.redis.hdel(this.keys.heartbeats, workerId)]);
  }

  /** Reads every entry and heartbeat. */
  async read(): Promise<WorkerRegistrySnapshot> {
    const [rawEntries, rawHeartbeats] = await Promise.all([
      this.redis.hgetall(this.keys.registry),
      this.redis.hgetall(this.keys.heartbeats),
    ]);
    const entries = new Map<string, WorkerRegistryEntry>();
    const invalid: string[] = [];
    for (const [workerId, json] of Object.entries(rawEntries)) {
      const entry = decodeEntry(json);
      if (entry === null || entry.workerId !== workerId) invalid.push(workerId);
      else entries.set(workerId, entry);
    }
    const heartbeats = new Map<string, number>();
    for (const [workerId, value] of Object.entries(rawHeartbeats)) {
      const ms = Number(value);
      if (Number.isFinite(ms)) heartbeats.set(workerId, ms);
    }
    return { entries, heartbeats, invalid };
  }
}

function decodeEntry(json: string): WorkerRegistryEntry | null {
  try {
    const result = WorkerRegistryEntrySchema.safeParse(JSON.parse(json));
    return result.success ? result.data : null;
  } catch {
    return null;
  }
}
