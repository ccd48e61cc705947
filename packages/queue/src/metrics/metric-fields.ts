/**
 * The hash fields of a metrics bucket and of the totals hash, and the log-scale
 * histogram of processing times. The recorder (workers, monitor) writes them and the
 * monitor's reader parses them, so both sides share this one definition.
 */

/** What became of stuck work the monitor acted on. */
export const RecoveryOutcome = {
  /** The monitor restarted the job (from its checkpoint). */
  Restarted: 'restarted',
  /** The monitor gave up and failed the job (no valid checkpoint, too many restarts, or a type that is never restarted). */
  Failed: 'failed',
  /** A job the monitor had restarted later completed. */
  Recovered: 'recovered',
} as const;
/** One of {@link RecoveryOutcome}. */
export type RecoveryOutcome = (typeof RecoveryOutcome)[keyof typeof RecoveryOutcome];
/** Every recovery outcome. */
export const RECOVERY_OUTCOMES: readonly RecoveryOutcome[] = Object.values(RecoveryOutcome);

/** Hash field names. A label value follows the `…:` prefixes (split on the first `:` only). */
export const MetricField = {
  Completed: 'completed',
  DurationSumMs: 'duration_sum_ms',
  /** `duration_bucket:<index>` — count of completions whose duration fell in histogram bucket `index`. */
  DurationBucketPrefix: 'duration_bucket:',
  Failed: 'failed',
  /** `failed_by_stage:<stage>`. */
  FailedByStagePrefix: 'failed_by_stage:',
  Stuck: 'stuck',
  /** `stuck_by_reason:<reason>`. */
  StuckByReasonPrefix: 'stuck_by_reason:',
  /** `recovery:<outcome>`. */
  RecoveryPrefix: 'recovery:',
  Stalled: 'stalled',
  Failover: 'failover',
  /** `failover_by_worker:<workerId>` — minute buckets only (worker ids are unbounded over time). */
  FailoverByWorkerPrefix: 'failover_by_worker:',
} as const;

/** The label used when a stage, reason or worker is unknown. */
export const UNKNOWN_LABEL = 'unknown';
/** Longest label value kept in a field name; longer ones are cut (bounds key size and cardinality). */
export const MAX_LABEL_LENGTH = 100;

/** A label value safe to put in a field name: non-empty, at most {@link MAX_LABEL_LENGTH} characters. */
export function metricLabel(value: string | null | undefined): string {
  if (value === null || value === undefined || value.trim() === '') return UNKNOWN_LABEL;
  return value.length > MAX_LABEL_LENGTH ? value.slice(0, MAX_LABEL_LENGTH) : value;
}

/**
 * Upper bounds (ms, inclusive) of the processing-time histogram: 10 ms × √2ⁱ, rounded, up
 * to the first bound past 48 h — 50 buckets plus one overflow bucket. The √2 step keeps a
 * percentile read from the histogram within about ±20 % of the exact value.
 */
export const DURATION_BUCKET_BOUNDS_MS: readonly number[] = (() => {
  const bounds: number[] = [];
  const limitMs = 48 * 60 * 60 * 1000;
  for (let index = 0; ; index += 1) {
    const bound = Math.round(10 * 2 ** (index / 2));
    bounds.push(bound);
    if (bound >= limitMs) break;
  }
  return bounds;
})();

/**
 * The histogram bucket of `durationMs`: the first bound it does not exceed, or
 * `DURATION_BUCKET_BOUNDS_MS.length` (the overflow bucket) when it exceeds them all.
 */
export function durationBucketIndex(durationMs: number): number {
  let low = 0;
  let high = DURATION_BUCKET_BOUNDS_MS.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (durationMs <= (DURATION_BUCKET_BOUNDS_MS[mid] as number)) high = mid;
    else low = mid + 1;
  }
  return low;
}

/** One finished job's largest gaps between status updates and between heartbeats. */
export interface UpdateGapSample {
  /** When the sample was recorded (recording process's clock, ms since the epoch). */
  atMs: number;
  /** Longest time between two updates (progress, stage change) of the job (ms). */
  maxUpdateGapMs: number;
  /** Longest time between two heartbeats of the job (ms); null when it had fewer than two. */
  maxHeartbeatGapMs: number | null;
}

/** Encodes a gap sample as a list entry: `<atMs>|<maxUpdateGapMs>|<maxHeartbeatGapMs or empty>`. */
export function encodeGapSample(sample: UpdateGapSample): string {
  return `${Math.round(sample.atMs)}|${Math.round(sample.maxUpdateGapMs)}|${
    sample.maxHeartbeatGapMs === null ? '' : Math.round(sample.maxHeartbeatGapMs)
  }`;
}

/** Decodes a list entry written by {@link encodeGapSample}; null for anything malformed. */
export function decodeGapSample(entry: string): UpdateGapSample | null {
  const [at, update, heartbeat] = entry.split('|');
  const atMs = Number(at);
  const maxUpdateGapMs = Number(update);
  if (at === undefined || update === undefined || heartbeat === undefined) return null;
  if (!Number.isFinite(atMs) || !Number.isFinite(maxUpdateGapMs) || update === '') return null;
  const maxHeartbeatGapMs = heartbeat === '' ? null : Number(heartbeat);
  if (maxHeartbeatGapMs !== null && !Number.isFinite(maxHeartbeatGapMs)) return null;
  return { atMs, maxUpdateGapMs, maxHeartbeatGapMs };
}
