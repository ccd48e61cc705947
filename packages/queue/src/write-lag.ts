import { z } from 'zod';
import { DEFAULT_KEY_PREFIX, KeyPrefixSchema } from './config.js';
import type { RedisClient } from './connection.js';
import { ValidationError } from './errors.js';
import { writeLagKey } from './keys.js';
import type { WriteLag } from './status/pending-writes.js';
import { parseOrThrow } from './validation.js';

/** Options of {@link WriteLagRegistry}. */
export const WriteLagRegistryOptionsSchema = z
  .object({
    /** The connection to use; the registry does not close it. Required. */
    connection: z.custom<RedisClient>((value) => typeof value === 'object' && value !== null, {
      message: 'expected an ioredis connection',
    }),
    /** Key prefix. Default `kai`. */
    prefix: KeyPrefixSchema.default(DEFAULT_KEY_PREFIX),
  })
  .strict();
/** What callers pass to construct a {@link WriteLagRegistry}. */
export type WriteLagRegistryOptions = z.input<typeof WriteLagRegistryOptionsSchema>;

/** One worker's reported lag, as read back. */
export interface WorkerWriteLag extends WriteLag {
  workerId: string;
  /** When it was published, by Redis' clock (ms). */
  at: number;
  /** How old the report is, by Redis' clock (ms). */
  ageMs: number;
}

const StoredLagSchema = z.object({
  pendingJobs: z.number().int().min(0),
  oldestPendingMs: z.number().min(0),
  at: z.number(),
});

function checkLag(workerId: string, lag: WriteLag): void {
  const bad = (['pendingJobs', 'oldestPendingMs'] as const).filter((field) => !Number.isFinite(lag[field]) || lag[field] < 0);
  if (workerId === '' || bad.length > 0) {
    throw new ValidationError('write lag', [
      ...(workerId === '' ? [{ path: 'workerId', message: 'expected a worker id' }] : []),
      ...bad.map((field) => ({ path: field, message: 'expected a finite number ≥ 0', received: String(lag[field]) })),
    ]);
  }
}

/**
 * Where worker processes publish how far behind their status writes are (see
 * `OutageTolerantJobStore.writeLag`), so the monitor can tell an outage of the status store from
 * stuck work: a job whose worker reports a write backlog has a stale row because the writes
 * did not land yet, not because it stopped. One Redis hash, `<prefix>:workers:write-lag`
 * (field = worker id); reports carry Redis' `TIME`, so no worker clock is compared.
 */
export class WriteLagRegistry {
  private readonly redis: RedisClient;
  /** The hash this registry uses. */
  readonly key: string;

  constructor(options: WriteLagRegistryOptions) {
    const parsed = parseOrThrow(WriteLagRegistryOptionsSchema, options, 'WriteLagRegistry options');
    this.redis = parsed.connection;
    this.key = writeLagKey(parsed.prefix);
  }

  private async redisNowMs(): Promise<number> {
    const [seconds, micros] = await this.redis.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  /** Publishes `workerId`'s lag, stamped with Redis' clock. */
  async publish(workerId: string, lag: WriteLag): Promise<void> {
    checkLag(workerId, lag);
    const at = await this.redisNowMs();
    await this.redis.hset(this.key, workerId, JSON.stringify({ pendingJobs: lag.pendingJobs, oldestPendingMs: Math.round(lag.oldestPendingMs), at }));
  }

  /** Removes `workerId`'s report (a worker shutting down with nothing pending). */
  async remove(workerId: string): Promise<void> {
    await this.redis.hdel(this.key, workerId);
  }

  /** Every worker's latest report (malformed ones are skipped). */
  async read(): Promise<WorkerWriteLag[]> {
    const [entries, now] = await Promise.all([this.redis.hgetall(this.key), this.redisNowMs()]);
    const out: WorkerWriteLag[] = [];
    for (const [workerId, json] of Object.entries(entries)) {
      const parsed = parseStored(json);
      if (parsed !== null) out.push({ workerId, ...parsed, ageMs: Math.max(0, now - parsed.at) });
    }
    return out.sort((a, b) => a.workerId.localeCompare(b.workerId));
  }

  /**
   * True when `workerId` reported pending status writes within the last `maxAgeMs` (by Redis'
   * clock). A report older than that does not count: a dead worker's backlog must not defer
   * the monitor for ever.
   */
  async isBehind(workerId: string, maxAgeMs: number): Promise<boolean> {
    const [json, now] = await Promise.all([this.redis.hget(this.key, workerId), this.redisNowMs()]);
    if (json === null) return false;
    const parsed = parseStored(json);
    return parsed !== null && parsed.pendingJobs > 0 && now - parsed.at <= maxAgeMs;
  }
}

function parseStored(json: string): z.infer<typeof StoredLagSchema> | null {
  try {
    const parsed = StoredLagSchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
