import type { JobType } from '../catalog/index.js';

/** Length of one metrics bucket (ms): metrics are kept per minute. */
export const METRICS_BUCKET_MS = 60_000;

/** The minute number (ms since the epoch / 60 000, floored) that `ms` falls in. */
export function minuteOf(ms: number): number {
  return Math.floor(ms / METRICS_BUCKET_MS);
}

/**
 * Keys of the job metrics. Every key carries the `{metrics}` hash tag, so one
 * MULTI can write a minute bucket and the running totals together on a Redis Cluster.
 * (The keys of other kai-jobs data live in `../keys.ts`; these are built here because
 * only the metrics recorder and reader use them.)
 */
export interface MetricsKeys {
  /** Hash: counters of job type `type` during minute `minute` (see {@link minuteOf}); expires after the retention. */
  bucket(type: JobType, minute: number): string;
  /** Hash: running totals of `type` since metrics began (never expires; bounded fields only). */
  totals(type: JobType): string;
  /** List: the newest per-job update/heartbeat gap samples of `type`, newest first, capped. */
  gapSamples(type: JobType): string;
  /** List: the newest hand-backs (failovers, shutdown hand-backs) of every type, newest first, capped (JSON entries). */
  handBacks(): string;
}

/**
 * Builds the metrics keys under `prefix`: `<prefix>:{metrics}:<type>:<minute>` and friends.
 * With `drill`, the recovery drill's own keys, `<prefix>:{metrics}:drill:<type>:…`: the
 * drill's canary counts there, apart from every production figure (page, `/metrics`).
 */
export function metricsKeys(prefix: string, options: { drill?: boolean } = {}): MetricsKeys {
  const base = `${prefix}:{metrics}:${options.drill === true ? 'drill:' : ''}`;
  return {
    bucket: (type, minute) => `${base}${type}:${minute}`,
    totals: (type) => `${base}${type}:total`,
    gapSamples: (type) => `${base}${type}:gaps`,
    handBacks: () => `${base}handbacks`,
  };
}
