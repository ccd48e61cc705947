import type { ChainableCommander } from 'ioredis';
import { z } from 'zod';
import type { JobType } from '../catalog/index.js';
import { systemClock, type Clock } from '../clock.js';
import { DEFAULT_KEY_PREFIX, KeyPrefixSchema } from '../config.js';
import { assertOpen, type RedisClient } from '../connection.js';
import { toError, ValidationError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { assertJobType, parseOrThrow } from '../validation.js';
import {
  durationBucketIndex,
  encodeGapSample,
  metricLabel,
  MetricField,
  RECOVERY_OUTCOMES,
  type RecoveryOutcome,
} from './metric-fields.js';
import { metricsKeys, minuteOf, type MetricsKeys } from './metrics-keys.js';

const HOUR_MS = 60 * 60 * 1000;

/** A finished job's largest gaps, as passed to {@link MetricsRecorder.updateGaps}. */
export interface UpdateGaps {
  /** Longest time between two status updates (progress, stage change) of the job (ms). */
  maxUpdateGapMs: number;
  /** Longest time between two heartbeats of the job (ms); omit or null when it had fewer than two. */
  maxHeartbeatGapMs?: number | null;
}

/**
 * Who a count belongs to. A recovery drill's canary (`isDrillPayload`) counts under the
 * drill's own keys, so it never shows in the production figures; omit for production jobs.
 */
export interface MetricsContext {
  /** The job is a recovery drill's canary. Default false. */
  drill?: boolean;
}

/** How a job was handed back to its queue without waiting for its lock to expire. */
export const HandBackKind = {
  /** The failover watcher saw the job's worker vanish from Redis and handed the job back. */
  Failover: 'failover',
  /** The job's worker was shutting down and handed the job back itself. */
  Shutdown: 'shutdown',
} as const;
/** One of {@link HandBackKind}. */
export type HandBackKind = (typeof HandBackKind)[keyof typeof HandBackKind];

/** One hand-back, as {@link MetricsRecorder.handedBack} records it for the monitoring page. */
export interface HandBackEvent {
  kind: HandBackKind;
  type: JobType;
  jobId: string;
  /** The stage the job was in, if known. */
  stage: string | null;
  /** The worker that held the job (the vanished one, or the one shutting down). */
  workerId: string;
  /** Failover only: how long the worker had been gone (ms). */
  goneForMs?: number;
  /** The job is a recovery drill's canary. Default false. */
  drill?: boolean;
}

/** A {@link HandBackEvent} as read back: stamped with the recording process's clock. */
export interface RecordedHandBack extends HandBackEvent {
  /** When it was recorded (recording process's clock, ms since the epoch). */
  at: number;
  drill: boolean;
}

/**
 * Writes the job metrics. Worker processes record completions, durations, failures by
 * stage and per-job update gaps; the monitor records stuck work, recoveries, stalls and
 * failovers. Every call is one round trip; a Redis error is logged and swallowed, so a
 * metrics outage never fails a job or a monitor tick. An invalid argument (unknown job
 * type, negative duration) is a programming error and rejects with `ValidationError`.
 */
export interface MetricsRecorder {
  /** A job completed after `durationMs` of processing. */
  jobCompleted(type: JobType, durationMs: number, context?: MetricsContext): Promise<void>;
  /** A job failed for good in `stage` (null: before any stage, or unknown). */
  jobFailed(type: JobType, stage: string | null, context?: MetricsContext): Promise<void>;
  /** The monitor found a job stuck for `reason` (e.g. `heartbeat_timeout`, `update_timeout`, `lost`). */
  jobStuck(type: JobType, reason: string, context?: MetricsContext): Promise<void>;
  /** The monitor's recovery of stuck work ended with `outcome`; `recovered` is recorded when a restarted job completes. */
  recovery(type: JobType, outcome: RecoveryOutcome, context?: MetricsContext): Promise<void>;
  /** BullMQ reported a job of `type` stalled. */
  stalled(type: JobType, context?: MetricsContext): Promise<void>;
  /** The failover watcher handed a job of `type` held by `workerId` back to the queue. */
  failover(type: JobType, workerId: string, context?: MetricsContext): Promise<void>;
  /** A finished job's largest update and heartbeat gaps (feeds the threshold advice). */
  updateGaps(type: JobType, gaps: UpdateGaps, context?: MetricsContext): Promise<void>;
  /**
   * A job was handed back to its queue (failover, shutdown): appended to the capped list of
   * latest hand-backs the monitoring page shows beside the monitor's decisions.
   */
  handedBack(event: HandBackEvent): Promise<void>;
}

/** Options of {@link RedisMetricsRecorder}. */
export const RedisMetricsRecorderOptionsSchema = z
  .object({
    /** The connection to write with; the recorder does not close it. */
    connection: z.custom<RedisClient>((value) => typeof value === 'object' && value !== null, {
      message: 'expected an ioredis connection',
    }),
    /** Key prefix. Default `kai`. */
    prefix: KeyPrefixSchema.default(DEFAULT_KEY_PREFIX),
    /** How long a minute bucket is kept after its last write (ms). Default 48 h. */
    retentionMs: z.number().int().min(60_000).default(48 * HOUR_MS),
    /** Gap samples kept per job type (newest kept; also expire after `retentionMs`). Default 10 000. */
    gapSampleLimit: z.number().int().min(10).max(1_000_000).default(10_000),
    /** Hand-backs kept in the latest-hand-backs list (newest kept; also expire after `retentionMs`). Default 500. */
    handBackLimit: z.number().int().min(1).max(100_000).default(500),
    /** Clock that stamps buckets and samples. Default the system clock. */
    clock: z.custom<Clock>((value) => typeof value === 'object' && value !== null).default(systemClock),
    /** Where write failures are logged. Default silent. */
    logger: z.custom<Logger>((value) => typeof value === 'object' && value !== null).default(silentLogger),
    /**
     * `off` (the default): every call is its own MULTI. `tick`: the calls made in one turn of the
     * event loop are summed in memory and written together right after it (one MULTI for every
     * job that finished in that turn; as prompt as unbatched writes) — what a busy worker uses. A
     * number: one MULTI per window of that many ms (counts show up to that much later).
     * `flush()` writes what is pending.
     */
    batch: z.union([z.literal('off'), z.literal('tick'), z.number().int().positive().max(60_000)]).default('off'),
  })
  .strict();
/** What callers pass to construct a {@link RedisMetricsRecorder}. */
export type RedisMetricsRecorderOptions = z.input<typeof RedisMetricsRecorderOptionsSchema>;

function checkDuration(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ValidationError('metrics', [
      { path: name, message: 'expected a finite number of ms ≥ 0', received: String(value) },
    ]);
  }
}

/**
 * The Redis {@link MetricsRecorder}: per job type, one hash per minute
 * (`<prefix>:{metrics}:<type>:<minute>`, expiring `retentionMs` after its last write),
 * a totals hash that never expires (for Prometheus counters), and a capped list of gap
 * samples. Each call is one MULTI (one round trip) — or, with `batch`, the calls of one
 * event-loop turn (or window) share one MULTI. Buckets are stamped with the recording process's clock: a few seconds of drift between containers only moves a
 * count into the neighbouring minute.
 */
export class RedisMetricsRecorder implements MetricsRecorder {
  private readonly redis: RedisClient;
  private readonly keys: MetricsKeys;
  private readonly drillKeys: MetricsKeys;
  private readonly retentionMs: number;
  private readonly gapSampleLimit: number;
  private readonly handBackLimit: number;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly batch: 'off' | 'tick' | number;
  /** Batched counts: key → field → increment (written at the end of the window). */
  private readonly pendingCounts = new Map<string, Map<string, number>>();
  /** Batched keys that expire `retentionMs` after the write (the minute buckets). */
  private readonly pendingExpiry = new Set<string>();
  /** Batched gap samples: list key → entries, oldest first. */
  private readonly pendingSamples = new Map<string, string[]>();
  private batchTimer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private batchWrite: Promise<void> = Promise.resolve();

  constructor(options: RedisMetricsRecorderOptions) {
    const parsed = parseOrThrow(RedisMetricsRecorderOptionsSchema, options, 'RedisMetricsRecorder options');
    this.redis = parsed.connection;
    this.keys = metricsKeys(parsed.prefix);
    this.drillKeys = metricsKeys(parsed.prefix, { drill: true });
    this.retentionMs = parsed.retentionMs;
    this.gapSampleLimit = parsed.gapSampleLimit;
    this.handBackLimit = parsed.handBackLimit;
    this.clock = parsed.clock;
    this.logger = parsed.logger;
    this.batch = parsed.batch;
  }

  /** Writes what is batched now, in one MULTI (no-op without batching or when nothing is pending). */
  async flush(): Promise<void> {
    this.clearBatchTimer();
    const counts = [...this.pendingCounts];
    const expiring = [...this.pendingExpiry];
    const samples = [...this.pendingSamples];
    this.pendingCounts.clear();
    this.pendingExpiry.clear();
    this.pendingSamples.clear();
    if (counts.length === 0 && samples.length === 0) return this.batchWrite;
    const write = this.batchWrite.then(() =>
      this.exec('batch', null, (multi) => {
        for (const [key, fields] of counts) for (const [field, by] of fields) multi.hincrby(key, field, by);
        for (const key of expiring) multi.pexpire(key, this.retentionMs);
        for (const [key, entries] of samples) {
          multi.lpush(key, ...entries).ltrim(key, 0, this.gapSampleLimit - 1).pexpire(key, this.retentionMs);
        }
        return multi;
      }),
    );
    this.batchWrite = write;
    return write;
  }

  private clearBatchTimer(): void {
    if (this.batchTimer === undefined) return;
    if (this.batch === 'tick') clearImmediate(this.batchTimer as NodeJS.Immediate);
    else clearTimeout(this.batchTimer as NodeJS.Timeout);
    this.batchTimer = undefined;
  }

  private scheduleBatch(): void {
    if (this.batchTimer !== undefined) return;
    const write = (): void => {
      this.batchTimer = undefined;
      void this.flush();
    };
    this.batchTimer = this.batch === 'tick' ? setImmediate(write) : setTimeout(write, this.batch as number);
    this.batchTimer.unref();
  }

  private addCount(key: string, field: string, by: number): void {
    const fields = this.pendingCounts.get(key) ?? new Map<string, number>();
    fields.set(field, (fields.get(field) ?? 0) + by);
    this.pendingCounts.set(key, fields);
  }

  async jobCompleted(type: JobType, durationMs: number, context?: MetricsContext): Promise<void> {
    checkDuration('durationMs', durationMs);
    const ms = Math.round(durationMs);
    await this.count(type, 'jobCompleted', context, {
      [MetricField.Completed]: 1,
      [MetricField.DurationSumMs]: ms,
      [`${MetricField.DurationBucketPrefix}${durationBucketIndex(ms)}`]: 1,
    });
  }

  async jobFailed(type: JobType, stage: string | null, context?: MetricsContext): Promise<void> {
    await this.count(type, 'jobFailed', context, {
      [MetricField.Failed]: 1,
      [`${MetricField.FailedByStagePrefix}${metricLabel(stage)}`]: 1,
    });
  }

  async jobStuck(type: JobType, reason: string, context?: MetricsContext): Promise<void> {
    await this.count(type, 'jobStuck', context, {
      [MetricField.Stuck]: 1,
      [`${MetricField.StuckByReasonPrefix}${metricLabel(reason)}`]: 1,
    });
  }

  async recovery(type: JobType, outcome: RecoveryOutcome, context?: MetricsContext): Promise<void> {
    if (!RECOVERY_OUTCOMES.includes(outcome)) {
      throw new ValidationError('metrics', [
        { path: 'outcome', message: `expected one of ${RECOVERY_OUTCOMES.join(', ')}`, received: String(outcome) },
      ]);
    }
    await this.count(type, 'recovery', context, { [`${MetricField.RecoveryPrefix}${outcome}`]: 1 });
  }

  async stalled(type: JobType, context?: MetricsContext): Promise<void> {
    await this.count(type, 'stalled', context, { [MetricField.Stalled]: 1 });
  }

  async failover(type: JobType, workerId: string, context?: MetricsContext): Promise<void> {
    await this.count(
      type,
      'failover',
      context,
      { [MetricField.Failover]: 1 },
      { [`${MetricField.FailoverByWorkerPrefix}${metricLabel(workerId)}`]: 1 },
    );
  }

  async updateGaps(type: JobType, gaps: UpdateGaps, context?: MetricsContext): Promise<void> {
    assertJobType(type);
    checkDuration('maxUpdateGapMs', gaps.maxUpdateGapMs);
    const heartbeat = gaps.maxHeartbeatGapMs ?? null;
    if (heartbeat !== null) checkDuration('maxHeartbeatGapMs', heartbeat);
    const key = this.keysOf(context).gapSamples(type);
    const entry = encodeGapSample({
      atMs: this.clock.now(),
      maxUpdateGapMs: gaps.maxUpdateGapMs,
      maxHeartbeatGapMs: heartbeat,
    });
    if (this.batch !== 'off') {
      this.pendingSamples.set(key, [...(this.pendingSamples.get(key) ?? []), entry]);
      this.scheduleBatch();
      return;
    }
    await this.exec('updateGaps', type, (multi) =>
      multi.lpush(key, entry).ltrim(key, 0, this.gapSampleLimit - 1).pexpire(key, this.retentionMs),
    );
  }

  async handedBack(event: HandBackEvent): Promise<void> {
    assertJobType(event.type);
    if (!Object.values(HandBackKind).includes(event.kind)) {
      throw new ValidationError('metrics', [
        { path: 'kind', message: `expected one of ${Object.values(HandBackKind).join(', ')}`, received: String(event.kind) },
      ]);
    }
    const entry: RecordedHandBack = {
      at: this.clock.now(),
      kind: event.kind,
      type: event.type,
      jobId: event.jobId,
      stage: event.stage,
      workerId: event.workerId,
      ...(event.goneForMs === undefined ? {} : { goneForMs: event.goneForMs }),
      drill: event.drill === true,
    };
    // One list for production and drill alike: it is a log the page labels, not a figure.
    const key = this.keys.handBacks();
    await this.exec('handedBack', event.type, (multi) =>
      multi.lpush(key, JSON.stringify(entry)).ltrim(key, 0, this.handBackLimit - 1).pexpire(key, this.retentionMs),
    );
  }

  private keysOf(context: MetricsContext | undefined): MetricsKeys {
    return context?.drill === true ? this.drillKeys : this.keys;
  }

  /**
   * Adds `fields` to the current minute bucket and to the totals, and `bucketOnly` to the
   * bucket alone (labels of unbounded cardinality stay out of the never-expiring totals).
   * A drill's counts go to the drill's keys.
   */
  private async count(
    type: JobType,
    operation: string,
    context: MetricsContext | undefined,
    fields: Record<string, number>,
    bucketOnly: Record<string, number> = {},
  ): Promise<void> {
    assertJobType(type);
    const keys = this.keysOf(context);
    const bucket = keys.bucket(type, minuteOf(this.clock.now()));
    const totals = keys.totals(type);
    if (this.batch !== 'off') {
      for (const [field, by] of Object.entries(fields)) {
        this.addCount(bucket, field, by);
        this.addCount(totals, field, by);
      }
      for (const [field, by] of Object.entries(bucketOnly)) this.addCount(bucket, field, by);
      this.pendingExpiry.add(bucket);
      this.scheduleBatch();
      return;
    }
    await this.exec(operation, type, (multi) => {
      for (const [field, by] of Object.entries(fields)) {
        multi.hincrby(bucket, field, by);
        multi.hincrby(totals, field, by);
      }
      for (const [field, by] of Object.entries(bucketOnly)) multi.hincrby(bucket, field, by);
      return multi.pexpire(bucket, this.retentionMs);
    });
  }

  private async exec(operation: string, type: JobType | null, build: (multi: ChainableCommander) => ChainableCommander): Promise<void> {
    try {
      assertOpen(this.redis);
      const results = await build(this.redis.multi()).exec();
      const failed = results?.find(([error]) => error !== null);
      if (results === null || failed !== undefined) {
        throw failed?.[0] ?? new Error('the transaction was discarded');
      }
    } catch (error) {
      this.logger.warn('metrics write failed; the count is lost', {
        operation,
        type,
        error: toError(error).message,
      });
    }
  }
}

/** A {@link MetricsRecorder} that records nothing: the default where metrics are off. */
export const noopMetricsRecorder: MetricsRecorder = {
  jobCompleted: () => Promise.resolve(),
  jobFailed: () => Promise.resolve(),
  jobStuck: () => Promise.resolve(),
  recovery: () => Promise.resolve(),
  stalled: () => Promise.resolve(),
  failover: () => Promise.resolve(),
  updateGaps: () => Promise.resolve(),
  handedBack: () => Promise.resolve(),
};
