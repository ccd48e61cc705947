import {
  DEFAULT_KEY_PREFIX,
  KeyPrefixSchema,
  parseOrThrow,
  systemClock,
  type Clock,
  type RedisClient,
} from '@kai-jobs/queue';
import { z } from 'zod';
import { alertDedupeKey } from '../keys.js';

/** What makes two alerts the same one. */
export interface AlertDedupeRef {
  /** The alert kind (its fingerprint's first element). */
  kind: string;
  jobId: string;
  attempt: number;
  reason: string;
}

/**
 * Remembers which alerts were sent, so each job, attempt and reason alerts once — across
 * retries of a tick and across monitor replicas. `claim` must be atomic: of two
 * concurrent claims of one ref, exactly one gets `true`.
 */
export interface AlertDedupeStore {
  /** Claims `ref` for `ttlMs`: true for the first claim, false while an earlier claim holds. */
  claim(ref: AlertDedupeRef, ttlMs: number): Promise<boolean>;
}

/** Options of {@link RedisAlertDedupeStore}. */
export const RedisAlertDedupeStoreOptionsSchema = z
  .object({
    /** The connection to use; the store does not close it. */
    connection: z.custom<RedisClient>((value) => typeof value === 'object' && value !== null, {
      message: 'expected an ioredis connection',
    }),
    /** Key prefix. Default `kai`. */
    prefix: KeyPrefixSchema.default(DEFAULT_KEY_PREFIX),
  })
  .strict();
/** What callers pass to construct a {@link RedisAlertDedupeStore}. */
export type RedisAlertDedupeStoreOptions = z.input<typeof RedisAlertDedupeStoreOptionsSchema>;

/**
 * The Redis {@link AlertDedupeStore}: `SET <prefix>:alerts:dedupe:<kind>:<jobId>:<attempt>:<reason> NX PX ttl`,
 * one atomic command, shared by every monitor replica.
 */
export class RedisAlertDedupeStore implements AlertDedupeStore {
  private readonly redis: RedisClient;
  private readonly prefix: string;

  constructor(options: RedisAlertDedupeStoreOptions) {
    const parsed = parseOrThrow(RedisAlertDedupeStoreOptionsSchema, options, 'RedisAlertDedupeStore options');
    this.redis = parsed.connection;
    this.prefix = parsed.prefix;
  }

  /** The key of `ref` (for tests and tools). */
  key(ref: AlertDedupeRef): string {
    return alertDedupeKey(this.prefix, ref.kind, ref.jobId, ref.attempt, ref.reason);
  }

  async claim(ref: AlertDedupeRef, ttlMs: number): Promise<boolean> {
    const answer = await this.redis.set(this.key(ref), '1', 'PX', Math.max(1, Math.round(ttlMs)), 'NX');
    return answer === 'OK';
  }
}

/**
 * An in-process {@link AlertDedupeStore}: dedupes retries within one process only. The
 * default when no store is given (a single process, or no Redis at hand).
 */
export class MemoryAlertDedupeStore implements AlertDedupeStore {
  private readonly held = new Map<string, number>();

  constructor(private readonly clock: Clock = systemClock) {}

  claim(ref: AlertDedupeRef, ttlMs: number): Promise<boolean> {
    const now = this.clock.now();
    for (const [key, expiresAt] of this.held) if (expiresAt <= now) this.held.delete(key);
    const key = alertDedupeKey('memory', ref.kind, ref.jobId, ref.attempt, ref.reason);
    if (this.held.has(key)) return Promise.resolve(false);
    this.held.set(key, now + ttlMs);
    return Promise.resolve(true);
  }
}
