import {
  DURATION_BUCKET_BOUNDS_MS,
  MetricField,
  RECOVERY_OUTCOMES,
  type RecoveryOutcome,
} from '@kai-jobs/queue';
import { percentileFromHistogram } from './percentiles.js';

/** The counters of one metrics hash (a minute bucket, a sum of buckets, or the totals), parsed. */
export interface MetricCounts {
  completed: number;
  /** Sum of the processing times of the completed jobs (ms). */
  durationSumMs: number;
  /** Processing-time histogram: index i counts durations in bucket i of `DURATION_BUCKET_BOUNDS_MS` (last: overflow). */
  durationBuckets: number[];
  failed: number;
  failedByStage: Record<string, number>;
  stuck: number;
  stuckByReason: Record<string, number>;
  recoveries: Record<RecoveryOutcome, number>;
  stalled: number;
  failovers: number;
  /** Only in minute buckets (the totals do not keep per-worker counts). */
  failoversByWorker: Record<string, number>;
}

/** All-zero counts. */
export function emptyCounts(): MetricCounts {
  return {
    completed: 0,
    durationSumMs: 0,
    durationBuckets: new Array<number>(DURATION_BUCKET_BOUNDS_MS.length + 1).fill(0),
    failed: 0,
    failedByStage: {},
    stuck: 0,
    stuckByReason: {},
    recoveries: Object.fromEntries(RECOVERY_OUTCOMES.map((outcome) => [outcome, 0])) as Record<RecoveryOutcome, number>,
    stalled: 0,
    failovers: 0,
    failoversByWorker: {},
  };
}

function addTo(map: Record<string, number>, key: string, by: number): void {
  map[key] = (map[key] ?? 0) + by;
}

/** Adds the fields of one Redis hash (`HGETALL`) to `into`; unknown fields are ignored. */
export function addHash(into: MetricCounts, hash: Record<string, string>): MetricCounts {
  for (const [field, raw] of Object.entries(hash)) {
    const value = Number(raw);
    if (!Number.isFinite(value)) continue;
    if (field === MetricField.Completed) into.completed += value;
    else if (field === MetricField.DurationSumMs) into.durationSumMs += value;
    else if (field === MetricField.Failed) into.failed += value;
    else if (field === MetricField.Stuck) into.stuck += value;
    else if (field === MetricField.Stalled) into.stalled += value;
    else if (field === MetricField.Failover) into.failovers += value;
    else if (field.startsWith(MetricField.DurationBucketPrefix)) {
      const index = Number(field.slice(MetricField.DurationBucketPrefix.length));
      if (Number.isInteger(index) && index >= 0 && index < into.durationBuckets.length) {
        into.durationBuckets[index] = (into.durationBuckets[index] ?? 0) + value;
      }
    } else if (field.startsWith(MetricField.FailedByStagePrefix)) {
      addTo(into.failedByStage, field.slice(MetricField.FailedByStagePrefix.length), value);
    } else if (field.startsWith(MetricField.StuckByReasonPrefix)) {
      addTo(into.stuckByReason, field.slice(MetricField.StuckByReasonPrefix.length), value);
    } else if (field.startsWith(MetricField.FailoverByWorkerPrefix)) {
      addTo(into.failoversByWorker, field.slice(MetricField.FailoverByWorkerPrefix.length), value);
    } else if (field.startsWith(MetricField.RecoveryPrefix)) {
      const outcome = field.slice(MetricField.RecoveryPrefix.length) as RecoveryOutcome;
      if (RECOVERY_OUTCOMES.includes(outcome)) into.recoveries[outcome] += value;
    }
  }
  return into;
}

/** Adds `from` to `into` (both parsed). */
export function addCounts(into: MetricCounts, from: MetricCounts): MetricCounts {
  into.completed += from.completed;
  into.durationSumMs += from.durationSumMs;
  from.durationBuckets.forEach((count, index) => {
    into.durationBuckets[index] = (into.durationBuckets[index] ?? 0) + count;
  });
  into.failed += from.failed;
  into.stuck += from.stuck;
  into.stalled += from.stalled;
  into.failovers += from.failovers;
  for (const [key, value] of Object.entries(from.failedByStage)) addTo(into.failedByStage, key, value);
  for (const [key, value] of Object.entries(from.stuckByReason)) addTo(into.stuckByReason, key, value);
  for (const [key, value] of Object.entries(from.failoversByWorker)) addTo(into.failoversByWorker, key, value);
  for (const outcome of RECOVERY_OUTCOMES) into.recoveries[outcome] += from.recoveries[outcome];
  return into;
}

/** Processing time of the completed jobs of a period (ms). */
export interface ProcessingTime {
  /** Exact mean. */
  avgMs: number;
  /** Median, from the histogram (within about ±20 %). */
  p50Ms: number;
  /** 95th percentile, from the histogram (within about ±20 %). */
  p95Ms: number;
}

/** The platform's key metrics over one period, derived from its counts. */
export interface MetricsPoint {
  /** Start of the period (ms since the epoch, inclusive). */
  startMs: number;
  /** End of the period (ms since the epoch, exclusive). */
  endMs: number;
  completed: number;
  failed: number;
  /** failed / (completed + failed); null when nothing finished. */
  errorRate: number | null;
  /** Stuck jobs found by the monitor. */
  stuck: number;
  stuckByReason: Record<string, number>;
  /** Stuck jobs per hour over the period. */
  stuckPerHour: number;
  recoveries: Record<RecoveryOutcome, number>;
  /**
   * recovered / (recovered + failed): of the recoveries that reached an end, the share
   * where the job went on to complete. Null when none ended in the period.
   */
  recoverySuccessRate: number | null;
  stalled: number;
  /** Null when no job completed. */
  processingTime: ProcessingTime | null;
  /** Failures for good, by the stage they failed in (`unknown` when none). */
  failuresByStage: Record<string, number>;
  failovers: number;
  failoversByWorker: Record<string, number>;
}

const HOUR_MS = 60 * 60 * 1000;

/** Derives the key metrics of a period from its counts. */
export function summarizeCounts(counts: MetricCounts, startMs: number, endMs: number): MetricsPoint {
  const finished = counts.completed + counts.failed;
  const recoveryEnds = counts.recoveries.recovered + counts.recoveries.failed;
  const p50 = percentileFromHistogram(counts.durationBuckets, 0.5);
  const p95 = percentileFromHistogram(counts.durationBuckets, 0.95);
  const lengthMs = Math.max(1, endMs - startMs);
  return {
    startMs,
    endMs,
    completed: counts.completed,
    failed: counts.failed,
    errorRate: finished === 0 ? null : counts.failed / finished,
    stuck: counts.stuck,
    stuckByReason: { ...counts.stuckByReason },
    stuckPerHour: (counts.stuck * HOUR_MS) / lengthMs,
    recoveries: { ...counts.recoveries },
    recoverySuccessRate: recoveryEnds === 0 ? null : counts.recoveries.recovered / recoveryEnds,
    stalled: counts.stalled,
    processingTime:
      counts.completed === 0 || p50 === null || p95 === null
        ? null
        : { avgMs: counts.durationSumMs / counts.completed, p50Ms: p50, p95Ms: p95 },
    failuresByStage: { ...counts.failedByStage },
    failovers: counts.failovers,
    failoversByWorker: { ...counts.failoversByWorker },
  };
}
