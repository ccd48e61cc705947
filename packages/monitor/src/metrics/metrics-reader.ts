import {
  DEFAULT_KEY_PREFIX,
  decodeGapSample,
  jobCatalog,
  JobType,
  KeyPrefixSchema,
  METRICS_BUCKET_MS,
  metricsKeys,
  minuteOf,
  parseOrThrow,
  StoreError,
  systemClock,
  toError,
  type Clock,
  type MetricsKeys,
  type RecordedHandBack,
  type RedisClient,
  type UpdateGapSample,
  ValidationError,
} from '@kai-jobs/queue';
import { z } from 'zod';
import { addCounts, addHash, emptyCounts, summarizeCounts, type MetricCounts, type MetricsPoint } from './metric-counts.js';
import { adviseThresholds, type ThresholdAdvice } from './threshold-advice.js';

const HOUR_MS = 60 * 60 * 1000;
/** Longest range one read may cover, in minute buckets (14 days). */
export const MAX_READ_MINUTES = 14 * 24 * 60;
/** Redis commands per pipeline when reading many buckets. */
const PIPELINE_CHUNK = 1000;

/** Options of {@link MetricsReader}. */
export const MetricsReaderOptionsSchema = z
  .object({
    /** The connection to read with; the reader does not close it. */
    connection: z.custom<RedisClient>((value) => typeof value === 'object' && value !== null, {
      message: 'expected an ioredis connection',
    }),
    /** Key prefix. Default `kai`. */
    prefix: KeyPrefixSchema.default(DEFAULT_KEY_PREFIX),
    /** The recorder's `gapSampleLimit` (samples kept per type), to tell when the window was cut. Default 10 000. */
    gapSampleLimit: z.number().int().min(10).max(1_000_000).default(10_000),
    /** Clock for "now" when a query gives no end. Default the system clock. */
    clock: z.custom<Clock>((value) => typeof value === 'object' && value !== null).default(systemClock),
  })
  .strict();
/** What callers pass to construct a {@link MetricsReader}. */
export type MetricsReaderOptions = z.input<typeof MetricsReaderOptionsSchema>;

const JobTypeSchema = z.enum(Object.values(JobType) as [JobType, ...JobType[]]);

/** A query of {@link MetricsReader.readMetrics}. */
export const MetricsQuerySchema = z
  .object({
    type: JobTypeSchema,
    /** Start of the range (ms since the epoch); aligned down to a multiple of `bucketMs`. */
    sinceMs: z.number().int().nonnegative(),
    /** End of the range (ms since the epoch, exclusive). Default now. */
    untilMs: z.number().int().nonnegative().optional(),
    /** Length of one point of the series (ms, a multiple of 60 000). Default 60 000. */
    bucketMs: z
      .number()
      .int()
      .min(METRICS_BUCKET_MS)
      .refine((value) => value % METRICS_BUCKET_MS === 0, { message: 'expected a multiple of 60000 ms' })
      .default(METRICS_BUCKET_MS),
  })
  .strict();
/** What callers pass to {@link MetricsReader.readMetrics}. */
export type MetricsQuery = z.input<typeof MetricsQuerySchema>;

/** The series {@link MetricsReader.readMetrics} returns: one point per `bucketMs`, oldest first. */
export interface MetricsSeries {
  type: JobType;
  fromMs: number;
  toMs: number;
  bucketMs: number;
  points: MetricsPoint[];
  /** The whole range as one point. */
  summary: MetricsPoint;
}

/** A query of {@link MetricsReader.thresholdAdvice}. */
export const ThresholdAdviceQuerySchema = z
  .object({
    type: JobTypeSchema,
    /** How far back to look (ms). Default 24 h. */
    windowMs: z.number().int().positive().default(24 * HOUR_MS),
    /** The thresholds to judge (ms). Default the catalog's defaults of `type`. */
    configured: z
      .object({
        /** Null: the type has no heartbeat check. */
        heartbeatTimeoutMs: z.number().int().positive().nullable(),
        updateTimeoutMs: z.number().int().positive(),
      })
      .strict()
      .optional(),
    /** End of the window (ms since the epoch). Default now. */
    untilMs: z.number().int().nonnegative().optional(),
  })
  .strict();
/** What callers pass to {@link MetricsReader.thresholdAdvice}. */
export type ThresholdAdviceQuery = z.input<typeof ThresholdAdviceQuerySchema>;

/** {@link ThresholdAdvice} of one job type. */
export interface TypeThresholdAdvice extends ThresholdAdvice {
  type: JobType;
  windowMs: number;
}

/** Parses one entry of the hand-backs list; null for anything malformed. */
export function parseHandBack(line: string): RecordedHandBack | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (value === null || typeof value !== 'object') return null;
  const entry = value as Record<string, unknown>;
  if (typeof entry['at'] !== 'number' || typeof entry['jobId'] !== 'string' || typeof entry['workerId'] !== 'string') return null;
  if (entry['kind'] !== 'failover' && entry['kind'] !== 'shutdown') return null;
  if (typeof entry['type'] !== 'string' || !(Object.values(JobType) as string[]).includes(entry['type'])) return null;
  return {
    at: entry['at'],
    kind: entry['kind'],
    type: entry['type'] as JobType,
    jobId: entry['jobId'],
    stage: typeof entry['stage'] === 'string' ? entry['stage'] : null,
    workerId: entry['workerId'],
    ...(typeof entry['goneForMs'] === 'number' ? { goneForMs: entry['goneForMs'] } : {}),
    drill: entry['drill'] === true,
  };
}

/**
 * Reads the metrics the recorder (`RedisMetricsRecorder` of `@kai-jobs/queue`) writes:
 * series for the board's charts, running totals for Prometheus, and the threshold advice.
 */
export class MetricsReader {
  private readonly redis: RedisClient;
  private readonly keys: MetricsKeys;
  private readonly gapSampleLimit: number;
  private readonly clock: Clock;

  constructor(options: MetricsReaderOptions) {
    const parsed = parseOrThrow(MetricsReaderOptionsSchema, options, 'MetricsReader options');
    this.redis = parsed.connection;
    this.keys = metricsKeys(parsed.prefix);
    this.gapSampleLimit = parsed.gapSampleLimit;
    this.clock = parsed.clock;
  }

  /**
   * The key metrics of `type` from `sinceMs` to `untilMs` in points of `bucketMs`: error
   * rate, stuck-job frequency, recovery success rate, processing time (avg, p50, p95),
   * failures by stage, failovers per worker. Minutes past the retention read as zero.
   */
  async readMetrics(query: MetricsQuery): Promise<MetricsSeries> {
    const parsed = parseOrThrow(MetricsQuerySchema, query, 'metrics query');
    const untilMs = parsed.untilMs ?? this.clock.now();
    const fromMs = Math.floor(parsed.sinceMs / parsed.bucketMs) * parsed.bucketMs;
    const firstMinute = minuteOf(fromMs);
    const lastMinute = minuteOf(Math.max(fromMs, untilMs - 1));
    const minutes = lastMinute - firstMinute + 1;
    if (untilMs <= parsed.sinceMs) {
      throw new ValidationError('metrics query', [
        { path: 'untilMs', message: 'expected a time after sinceMs', received: `${untilMs} (sinceMs ${parsed.sinceMs})` },
      ]);
    }
    if (minutes > MAX_READ_MINUTES) {
      throw new ValidationError('metrics query', [
        { path: 'sinceMs', message: `expected a range of at most ${MAX_READ_MINUTES} minutes`, received: `${minutes} minutes` },
      ]);
    }
    const hashes = await this.readBuckets(parsed.type, firstMinute, lastMinute);
    const perPoint = parsed.bucketMs / METRICS_BUCKET_MS;
    const points: MetricsPoint[] = [];
    const total = emptyCounts();
    for (let start = 0; start < hashes.length; start += perPoint) {
      const counts = emptyCounts();
      for (const hash of hashes.slice(start, start + perPoint)) addHash(counts, hash);
      addCounts(total, counts);
      const startMs = fromMs + start * METRICS_BUCKET_MS;
      points.push(summarizeCounts(counts, startMs, Math.min(untilMs, startMs + parsed.bucketMs)));
    }
    return {
      type: parsed.type,
      fromMs,
      toMs: untilMs,
      bucketMs: parsed.bucketMs,
      points,
      summary: summarizeCounts(total, fromMs, untilMs),
    };
  }

  /** The running totals of `type` since metrics began (no per-worker failovers). */
  async readTotals(type: JobType): Promise<MetricCounts> {
    const hash = await this.wrap(() => this.redis.hgetall(this.keys.totals(type)), `reading the metrics totals of ${type}`);
    return addHash(emptyCounts(), hash);
  }

  /**
   * The latest hand-backs (failovers, shutdown hand-backs), newest first, at most `limit`;
   * entries that do not parse are skipped. Drill hand-backs are included, flagged `drill`.
   */
  async latestHandBacks(limit = 50): Promise<RecordedHandBack[]> {
    const lines = await this.wrap(
      () => this.redis.lrange(this.keys.handBacks(), 0, Math.max(0, limit - 1)),
      'reading the latest hand-backs',
    );
    return lines.map(parseHandBack).filter((entry): entry is RecordedHandBack => entry !== null);
  }

  /**
   * Threshold advice for `type`: the configured heartbeat and update timeouts beside the
   * observed p50/p95/p99/max of the per-job largest gaps over the window, and how many
   * of those jobs each threshold would have flagged.
   */
  async thresholdAdvice(query: ThresholdAdviceQuery): Promise<TypeThresholdAdvice> {
    const parsed = parseOrThrow(ThresholdAdviceQuerySchema, query, 'threshold advice query');
    const defaults = jobCatalog[parsed.type].defaults;
    const configured = parsed.configured ?? {
      heartbeatTimeoutMs: defaults.heartbeatTimeoutMs,
      updateTimeoutMs: defaults.updateTimeoutMs,
    };
    const toMs = parsed.untilMs ?? this.clock.now();
    const entries = await this.wrap(
      () => this.redis.lrange(this.keys.gapSamples(parsed.type), 0, -1),
      `reading the gap samples of ${parsed.type}`,
    );
    const samples = entries.map(decodeGapSample).filter((sample): sample is UpdateGapSample => sample !== null);
    const advice = adviseThresholds(samples, configured, {
      fromMs: toMs - parsed.windowMs,
      toMs,
      listFull: entries.length >= this.gapSampleLimit,
    });
    return { type: parsed.type, windowMs: parsed.windowMs, ...advice };
  }

  private async readBuckets(type: JobType, firstMinute: number, lastMinute: number): Promise<Record<string, string>[]> {
    const hashes: Record<string, string>[] = [];
    for (let chunkStart = firstMinute; chunkStart <= lastMinute; chunkStart += PIPELINE_CHUNK) {
      const chunkEnd = Math.min(lastMinute, chunkStart + PIPELINE_CHUNK - 1);
      const pipeline = this.redis.pipeline();
      for (let minute = chunkStart; minute <= chunkEnd; minute += 1) pipeline.hgetall(this.keys.bucket(type, minute));
      const results = await this.wrap(() => pipeline.exec(), `reading the metrics of ${type}`);
      for (const [error, hash] of results ?? []) {
        if (error) throw new StoreError(`reading the metrics of ${type} failed: ${error.message}`, { cause: error });
        hashes.push((hash ?? {}) as Record<string, string>);
      }
    }
    return hashes;
  }

  private async wrap<T>(read: () => Promise<T>, what: string): Promise<T> {
    try {
      return await read();
    } catch (error) {
      if (error instanceof StoreError) throw error;
      throw new StoreError(`${what} failed: ${toError(error).message}`, { cause: error });
    }
  }
}
