import {
  DURATION_BUCKET_BOUNDS_MS,
  JOB_TYPES,
  JobType,
  METRICS_BUCKET_MS,
  parseOrThrow,
  systemClock,
  type Clock,
} from '@kai-jobs/queue';
import { Registry, type Metric } from 'prom-client';
import { z } from 'zod';
import type { MetricCounts, MetricsPoint } from './metric-counts.js';
import type { MetricsReader } from './metrics-reader.js';

/** Options of {@link createPrometheusExporter}. */
export const PrometheusExporterOptionsSchema = z
  .object({
    /** Reads the metrics from Redis on every scrape. */
    reader: z.custom<MetricsReader>((value) => typeof value === 'object' && value !== null, {
      message: 'expected a MetricsReader',
    }),
    /** The registry to add the metrics to. Default a new one. */
    registry: z.custom<Registry>((value) => value instanceof Registry).optional(),
    /** Job types exported. Default all. */
    types: z.array(z.enum(Object.values(JobType) as [JobType, ...JobType[]])).min(1).default([...JOB_TYPES]),
    /** Window of the gauges (error rate, recovery success rate, percentiles, per-worker failovers) (ms). Default 1 h. */
    windowMs: z.number().int().min(METRICS_BUCKET_MS).default(60 * 60 * 1000),
    /** One Redis read serves every metric of a scrape; its result is reused for this long after (ms). Default 1000. */
    cacheMs: z.number().int().nonnegative().default(1000),
    /** Clock for the window and the cache. Default the system clock. */
    clock: z.custom<Clock>((value) => typeof value === 'object' && value !== null).default(systemClock),
  })
  .strict();
/** What callers pass to {@link createPrometheusExporter}. */
export type PrometheusExporterOptions = z.input<typeof PrometheusExporterOptionsSchema>;

/** A Prometheus exporter over the kai-jobs metrics. */
export interface PrometheusExporter {
  /** The registry holding the kai_jobs_* metrics (merge it with others, or serve it). */
  readonly registry: Registry;
  /** `Content-Type` of {@link metrics}. */
  readonly contentType: string;
  /** The exposition text; reads Redis (once per `cacheMs`). Rejects when Redis is unreachable. */
  metrics(): Promise<string>;
}

interface Snapshot {
  totals: Map<JobType, MetricCounts>;
  window: Map<JobType, MetricsPoint>;
}

interface Sample {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

type MetricType = 'counter' | 'gauge' | 'histogram';

/**
 * A metric whose values come from a shared Redis snapshot taken on scrape — the custom
 * collector prom-client supports through `registerMetric` (it calls `get()` per scrape).
 */
class SnapshotMetric {
  readonly aggregator = 'sum';
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType,
    private readonly snapshot: () => Promise<Snapshot>,
    private readonly values: (snapshot: Snapshot) => Sample[],
  ) {}

  async get(): Promise<{ name: string; help: string; type: MetricType; aggregator: string; values: Sample[] }> {
    const values = this.values(await this.snapshot());
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Nothing to reset: the values live in Redis. */
  reset(): void {}
}

function perType<T>(map: Map<JobType, T>, pick: (value: T, type: JobType) => Sample[]): Sample[] {
  return [...map.entries()].flatMap(([type, value]) => pick(value, type));
}

function labelled(record: Record<string, number>, type: JobType, label: string): Sample[] {
  return Object.entries(record).map(([key, value]) => ({ value, labels: { job_type: type, [label]: key } }));
}

/** Histogram samples (`_bucket` with cumulative `le`, `_sum`, `_count`) in seconds. */
function durationHistogram(counts: MetricCounts, type: JobType): Sample[] {
  const name = 'kai_jobs_processing_duration_seconds';
  const samples: Sample[] = [];
  let cumulative = 0;
  DURATION_BUCKET_BOUNDS_MS.forEach((boundMs, index) => {
    cumulative += counts.durationBuckets[index] ?? 0;
    samples.push({ metricName: `${name}_bucket`, value: cumulative, labels: { job_type: type, le: boundMs / 1000 } });
  });
  cumulative += counts.durationBuckets[DURATION_BUCKET_BOUNDS_MS.length] ?? 0;
  samples.push({ metricName: `${name}_bucket`, value: cumulative, labels: { job_type: type, le: '+Inf' } });
  samples.push({ metricName: `${name}_sum`, value: counts.durationSumMs / 1000, labels: { job_type: type } });
  samples.push({ metricName: `${name}_count`, value: counts.completed, labels: { job_type: type } });
  return samples;
}

function gauge(value: number | null | undefined, type: JobType): Sample[] {
  return value === null || value === undefined ? [] : [{ value, labels: { job_type: type } }];
}

/**
 * Registers the kai_jobs_* metrics (see the package README) on a prom-client registry.
 * Counters and the processing-time histogram come from the never-expiring totals, so
 * they only ever grow; the gauges summarise the last `windowMs` of minute buckets. Every
 * scrape reads Redis once (shared by all metrics, reused for `cacheMs`).
 */
export function createPrometheusExporter(options: PrometheusExporterOptions): PrometheusExporter {
  const parsed = parseOrThrow(PrometheusExporterOptionsSchema, options, 'Prometheus exporter options');
  const registry = parsed.registry ?? new Registry();
  let cached: { snapshot: Promise<Snapshot>; settledAt: number | null } | null = null;

  async function read(): Promise<Snapshot> {
    const now = parsed.clock.now();
    const totals = new Map<JobType, MetricCounts>();
    const window = new Map<JobType, MetricsPoint>();
    await Promise.all(
      parsed.types.map(async (type) => {
        totals.set(type, await parsed.reader.readTotals(type));
        const series = await parsed.reader.readMetrics({
          type,
          sinceMs: Math.max(0, now - parsed.windowMs),
          untilMs: now,
        });
        window.set(type, series.summary);
      }),
    );
    return { totals, window };
  }

  /** The in-flight read is shared by every metric of a scrape; a finished one is reused for `cacheMs`. */
  function snapshot(): Promise<Snapshot> {
    if (cached !== null && (cached.settledAt === null || parsed.clock.now() - cached.settledAt < parsed.cacheMs)) {
      return cached.snapshot;
    }
    const entry: { snapshot: Promise<Snapshot>; settledAt: number | null } = { snapshot: read(), settledAt: null };
    cached = entry;
    entry.snapshot.then(
      () => {
        entry.settledAt = parsed.clock.now();
      },
      () => {
        // A failed read must not be served to the next scrape.
        if (cached === entry) cached = null;
      },
    );
    return entry.snapshot;
  }

  const windowNote = `over the last ${Math.round(parsed.windowMs / 60_000)} min`;
  const definitions: [string, string, MetricType, (s: Snapshot) => Sample[]][] = [
    ['kai_jobs_completed_total', 'Jobs completed.', 'counter', (s) => perType(s.totals, (c, t) => gauge(c.completed, t))],
    ['kai_jobs_failed_total', 'Jobs failed for good.', 'counter', (s) => perType(s.totals, (c, t) => gauge(c.failed, t))],
    ['kai_jobs_stage_failures_total', 'Jobs failed for good, by the stage they failed in.', 'counter', (s) =>
      perType(s.totals, (c, t) => labelled(c.failedByStage, t, 'stage'))],
    ['kai_jobs_stuck_total', 'Stuck jobs found by the monitor, by reason.', 'counter', (s) =>
      perType(s.totals, (c, t) => labelled(c.stuckByReason, t, 'reason'))],
    ['kai_jobs_recoveries_total', 'Recoveries of stuck work, by outcome (restarted, failed, recovered).', 'counter', (s) =>
      perType(s.totals, (c, t) => labelled(c.recoveries, t, 'outcome'))],
    ['kai_jobs_stalled_total', 'Jobs BullMQ reported stalled.', 'counter', (s) => perType(s.totals, (c, t) => gauge(c.stalled, t))],
    ['kai_jobs_failovers_total', 'Jobs handed back to the queue because their worker vanished.', 'counter', (s) =>
      perType(s.totals, (c, t) => gauge(c.failovers, t))],
    ['kai_jobs_processing_duration_seconds', 'Processing time of completed jobs.', 'histogram', (s) =>
      perType(s.totals, durationHistogram)],
    ['kai_jobs_error_rate', `Failed / (completed + failed) ${windowNote}.`, 'gauge', (s) =>
      perType(s.window, (p, t) => gauge(p.errorRate, t))],
    ['kai_jobs_recovery_success_rate', `Recovered / (recovered + failed) recoveries ${windowNote}.`, 'gauge', (s) =>
      perType(s.window, (p, t) => gauge(p.recoverySuccessRate, t))],
    ['kai_jobs_stuck_per_hour', `Stuck jobs per hour ${windowNote}.`, 'gauge', (s) =>
      perType(s.window, (p, t) => gauge(p.stuckPerHour, t))],
    ['kai_jobs_processing_time_avg_seconds', `Mean processing time ${windowNote}.`, 'gauge', (s) =>
      perType(s.window, (p, t) => gauge(p.processingTime && p.processingTime.avgMs / 1000, t))],
    ['kai_jobs_processing_time_p50_seconds', `Median processing time ${windowNote} (from the histogram).`, 'gauge', (s) =>
      perType(s.window, (p, t) => gauge(p.processingTime && p.processingTime.p50Ms / 1000, t))],
    ['kai_jobs_processing_time_p95_seconds', `95th percentile processing time ${windowNote} (from the histogram).`, 'gauge', (s) =>
      perType(s.window, (p, t) => gauge(p.processingTime && p.processingTime.p95Ms / 1000, t))],
    ['kai_jobs_worker_failovers', `Failovers per worker ${windowNote}.`, 'gauge', (s) =>
      perType(s.window, (p, t) => labelled(p.failoversByWorker, t, 'worker'))],
  ];
  for (const [name, help, type, values] of definitions) {
    // prom-client accepts any object with its metric interface; its types only name its own classes.
    registry.registerMetric(new SnapshotMetric(name, help, type, snapshot, values) as unknown as Metric);
  }
  return {
    registry,
    contentType: registry.contentType,
    metrics: () => registry.metrics(),
  };
}
