import { z } from 'zod';
import { DEFAULT_KEY_PREFIX, KeyPrefixSchema, StoreError, type RedisClient } from '@kai-jobs/queue';
import { monitorStateKeys, type MonitorStateKeys } from './keys.js';
import type { MonitorDecision } from './tick/decision-types.js';

/** A tick's summary, as the board and `doctor` read it. */
export interface TickSummary {
  /** Process clock when the tick started (ms). */
  startedAt: number;
  durationMs: number;
  /** The store's clock during the tick (ms). */
  storeNow: number;
  /** The check interval the monitor runs with (ms), to compute the next tick. */
  intervalMs: number;
  candidates: number;
  restarted: number;
  failed: number;
  readded: number;
  left: number;
  /** Failure alerts sent for jobs that failed since the previous tick. */
  failureAlerts: number;
  /** Error message if the tick failed. */
  error: string | null;
  /** Id of the monitor process that ran it. */
  monitorId: string;
}

/** Options of {@link MonitorStateStore}. */
export const MonitorStateStoreOptionsSchema = z
  .object({
    connection: z.custom<RedisClient>((v) => typeof v === 'object' && v !== null, { message: 'expected an ioredis connection' }),
    prefix: KeyPrefixSchema.default(DEFAULT_KEY_PREFIX),
    /** Decisions kept (newest first). Default 500. */
    maxDecisions: z.number().int().min(1).max(100_000).default(500),
  })
  .strict();
/** What callers pass to {@link MonitorStateStore}. */
export type MonitorStateStoreOptions = z.input<typeof MonitorStateStoreOptionsSchema>;

/**
 * The monitor's own state in Redis: the last tick's summary and the latest decisions
 * (with their reasons), read by the board's monitoring page, `kai-jobs doctor` and the drill.
 */
export class MonitorStateStore {
  private readonly redis: RedisClient;
  private readonly keys: MonitorStateKeys;
  private readonly maxDecisions: number;

  constructor(options: MonitorStateStoreOptions) {
    const parsed = MonitorStateStoreOptionsSchema.parse(options);
    this.redis = parsed.connection;
    this.keys = monitorStateKeys(parsed.prefix);
    this.maxDecisions = parsed.maxDecisions;
  }

  /** Records a finished tick and the decisions it applied (one round trip). */
  async recordTick(summary: TickSummary, decisions: readonly MonitorDecision[]): Promise<void> {
    const multi = this.redis.multi();
    multi.hset(this.keys.lastTick, { summary: JSON.stringify(summary) });
    const recorded = decisions.filter((decision) => decision.applied !== false && decision.action !== 'leave');
    if (recorded.length > 0) {
      multi.lpush(this.keys.decisions, ...recorded.map((decision) => JSON.stringify({ ...decision, at: summary.storeNow })));
      multi.ltrim(this.keys.decisions, 0, this.maxDecisions - 1);
    }
    await multi.exec();
  }

  /** The last tick's summary, or null if the monitor never ran. */
  async lastTick(): Promise<TickSummary | null> {
    const raw = await this.redis.hget(this.keys.lastTick, 'summary');
    if (raw === null) return null;
    try {
      return JSON.parse(raw) as TickSummary;
    } catch (error) {
      throw new StoreError('the monitor last-tick record is not valid JSON', { cause: error, retryable: false });
    }
  }

  /** The latest applied decisions, newest first (each with `at`, the store time of its tick). */
  async recentDecisions(limit = 50): Promise<(MonitorDecision & { at: number })[]> {
    const lines = await this.redis.lrange(this.keys.decisions, 0, Math.max(0, limit - 1));
    return lines.map((line) => JSON.parse(line) as MonitorDecision & { at: number });
  }

  /** Marks a BullMQ stalled event as seen; false when another replica already recorded it. */
  async firstToSeeStall(eventId: string): Promise<boolean> {
    return (await this.redis.set(this.keys.stallSeen(eventId), '1', 'PX', 24 * 60 * 60 * 1000, 'NX')) === 'OK';
  }
}
