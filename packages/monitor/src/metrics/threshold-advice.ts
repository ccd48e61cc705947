import type { UpdateGapSample } from '@kai-jobs/queue';
import { percentileOfSorted } from './percentiles.js';

/** The thresholds a job type is configured with (ms); null: that check is off for the type. */
export interface ConfiguredThresholds {
  heartbeatTimeoutMs: number | null;
  updateTimeoutMs: number;
}

/** Observed gaps of one kind (update or heartbeat) beside the threshold that judges them. */
export interface GapAdvice {
  /** The configured threshold (ms); null when the check is off. */
  configuredMs: number | null;
  /** Jobs in the window with a value for this gap. */
  samples: number;
  /** Observed percentiles and maximum of the per-job largest gap (ms, nearest rank); null without samples. */
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  /**
   * Dry run: jobs whose largest gap exceeded the threshold, i.e. that the monitor would
   * have flagged as stuck had it looked at that moment (an upper bound: a tick only looks
   * once per check interval). 0 when the check is off.
   */
  wouldFlag: number;
  /** wouldFlag / samples; null without samples. */
  wouldFlagRatio: number | null;
  /** configured / p99: how many times the slowest 1 % of healthy gaps fit in the threshold; null when unknown. */
  headroom: number | null;
}

/** Threshold advice of one job type over a window. */
export interface ThresholdAdvice {
  /** Finished jobs in the window that reported their gaps. */
  jobs: number;
  /** Start and end of the window (ms since the epoch). */
  fromMs: number;
  toMs: number;
  /**
   * True when the sample list is full and its oldest sample is inside the window: older
   * jobs of the window were dropped, so the figures cover only the newest jobs.
   */
  truncated: boolean;
  update: GapAdvice;
  heartbeat: GapAdvice;
}

function adviseGap(values: number[], configuredMs: number | null): GapAdvice {
  const sorted = [...values].sort((a, b) => a - b);
  const p99 = percentileOfSorted(sorted, 0.99);
  const wouldFlag = configuredMs === null ? 0 : sorted.filter((value) => value > configuredMs).length;
  return {
    configuredMs,
    samples: sorted.length,
    p50Ms: percentileOfSorted(sorted, 0.5),
    p95Ms: percentileOfSorted(sorted, 0.95),
    p99Ms: p99,
    maxMs: sorted.length === 0 ? null : (sorted[sorted.length - 1] as number),
    wouldFlag,
    wouldFlagRatio: sorted.length === 0 ? null : wouldFlag / sorted.length,
    headroom: configuredMs === null || p99 === null || p99 === 0 ? null : configuredMs / p99,
  };
}

/**
 * Puts the configured thresholds beside the observed gaps of the samples recorded in
 * `[fromMs, toMs]`. `listFull` says whether the sample list had reached its cap (then
 * older jobs of the window may be missing). Pure.
 */
export function adviseThresholds(
  samples: readonly UpdateGapSample[],
  configured: ConfiguredThresholds,
  window: { fromMs: number; toMs: number; listFull: boolean },
): ThresholdAdvice {
  const inWindow = samples.filter((sample) => sample.atMs >= window.fromMs && sample.atMs <= window.toMs);
  const oldest = samples.reduce((min, sample) => Math.min(min, sample.atMs), Number.POSITIVE_INFINITY);
  const heartbeats = inWindow
    .map((sample) => sample.maxHeartbeatGapMs)
    .filter((value): value is number => value !== null);
  return {
    jobs: inWindow.length,
    fromMs: window.fromMs,
    toMs: window.toMs,
    truncated: window.listFull && oldest >= window.fromMs,
    update: adviseGap(
      inWindow.map((sample) => sample.maxUpdateGapMs),
      configured.updateTimeoutMs,
    ),
    heartbeat: adviseGap(heartbeats, configured.heartbeatTimeoutMs),
  };
}
