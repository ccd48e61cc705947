import { metricsKeys, RedisMetricsRecorder, type Clock } from '@kai-jobs/queue';
import { expectErrorNamed, useRedisTestContext } from '@kai-jobs/queue/testing';
import { describe, expect, it } from 'vitest';
import { createPrometheusExporter, MetricsReader, parseHandBack } from '../src/index.js';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 2, 1, 10, 0, 0);

function manualClock(startMs: number): Clock & { set(ms: number): void } {
  let now = startMs;
  return { now: () => now, sleep: () => Promise.resolve(), set: (ms) => void (now = ms) };
}

/** The value of one sample line of a Prometheus exposition, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics: recorder → reader → Prometheus', () => {
  const ctx = useRedisTestContext(import.meta.url);

  /** Ten minutes of PDF activity: completions every minute, failures, stuck jobs, recoveries, failovers. */
  async function recordActivity(clock: Clock & { set(ms: number): void }): Promise<void> {
    const recorder = new RedisMetricsRecorder({ connection: ctx.redis, prefix: ctx.prefix, clock });
    for (let minute = 0; minute < 10; minute += 1) {
      clock.set(T0 + minute * MINUTE + 1000);
      await recorder.jobCompleted('pdf', 1000 * (minute + 1));
      if (minute % 5 === 4) await recorder.jobFailed('pdf', 'embeddings_created');
    }
    clock.set(T0 + 2 * MINUTE + 5000);
    await recorder.jobStuck('pdf', 'update_timeout');
    await recorder.jobStuck('pdf', 'heartbeat_timeout');
    await recorder.recovery('pdf', 'restarted');
    await recorder.recovery('pdf', 'failed');
    await recorder.stalled('pdf');
    clock.set(T0 + 7 * MINUTE + 5000);
    await recorder.recovery('pdf', 'recovered');
    await recorder.failover('pdf', 'host-a:1:aa');
    await recorder.failover('pdf', 'host-a:1:aa');
    await recorder.failover('pdf', 'host-b:2:bb');
    await recorder.jobCompleted('scrape', 90_000);
  }

  it('reads series per bucket with error rate, stuck frequency, recovery success, percentiles, stages, failovers', async () => {
    const clock = manualClock(T0);
    await recordActivity(clock);
    const reader = new MetricsReader({ connection: ctx.redis, prefix: ctx.prefix, clock });
    const series = await reader.readMetrics({ type: 'pdf', sinceMs: T0, untilMs: T0 + 10 * MINUTE, bucketMs: 5 * MINUTE });
    expect(series.points).toHaveLength(2);
    const [first, second] = series.points;
    expect(first).toMatchObject({
      startMs: T0,
      endMs: T0 + 5 * MINUTE,
      completed: 5,
      failed: 1,
      errorRate: 1 / 6,
      stuck: 2,
      stuckByReason: { update_timeout: 1, heartbeat_timeout: 1 },
      stuckPerHour: 24,
      recoveries: { restarted: 1, failed: 1, recovered: 0 },
      recoverySuccessRate: 0,
      stalled: 1,
      failuresByStage: { embeddings_created: 1 },
      failovers: 0,
    });
    expect(first?.processingTime?.avgMs).toBe(3000);
    expect(second).toMatchObject({
      completed: 5,
      failed: 1,
      recoveries: { restarted: 0, failed: 0, recovered: 1 },
      recoverySuccessRate: 1,
      failovers: 3,
      failoversByWorker: { 'host-a:1:aa': 2, 'host-b:2:bb': 1 },
    });
    expect(series.summary).toMatchObject({ completed: 10, failed: 2, errorRate: 2 / 12, recoverySuccessRate: 0.5 });
    expect(series.summary.processingTime?.avgMs).toBe(5500);
    // p50 of 1..10 s is ~5 s and p95 ~10 s, within the histogram's ±20 %.
    expect(series.summary.processingTime?.p50Ms).toBeGreaterThan(4000);
    expect(series.summary.processingTime?.p50Ms).toBeLessThan(6500);
    expect(series.summary.processingTime?.p95Ms).toBeGreaterThan(8000);
    expect(series.summary.processingTime?.p95Ms).toBeLessThan(12_000);

    const perMinute = await reader.readMetrics({ type: 'pdf', sinceMs: T0, untilMs: T0 + 10 * MINUTE });
    expect(perMinute.points).toHaveLength(10);
    expect(perMinute.points.map((p) => p.completed)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);

    const other = await reader.readMetrics({ type: 'scrape', sinceMs: T0, untilMs: T0 + 10 * MINUTE, bucketMs: 10 * MINUTE });
    expect(other.summary.completed).toBe(1);
    expect(other.summary.failovers).toBe(0);
  });

  it('refuses bad queries saying what is wrong', async () => {
    const reader = new MetricsReader({ connection: ctx.redis, prefix: ctx.prefix });
    const bucket = await expectErrorNamed(reader.readMetrics({ type: 'pdf', sinceMs: T0, bucketMs: 90_000 }), 'ValidationError');
    expect(bucket.message).toContain('bucketMs');
    const range = await expectErrorNamed(reader.readMetrics({ type: 'pdf', sinceMs: 0, untilMs: T0 }), 'ValidationError');
    expect(range.message).toContain('at most');
    await expectErrorNamed(reader.readMetrics({ type: 'pdf', sinceMs: T0, untilMs: T0 }), 'ValidationError');
  });

  it('gives threshold advice from the recorded gaps over the window', async () => {
    const clock = manualClock(T0);
    const recorder = new RedisMetricsRecorder({ connection: ctx.redis, prefix: ctx.prefix, clock });
    // An old job outside the window, then 20 jobs: update gaps 10..200 s, heartbeat gaps 30 s (one of 16 min).
    await recorder.updateGaps('pdf', { maxUpdateGapMs: 3_600_000, maxHeartbeatGapMs: 3_600_000 });
    for (let i = 1; i <= 20; i += 1) {
      clock.set(T0 + 2 * 3_600_000 + i * 1000);
      await recorder.updateGaps('pdf', { maxUpdateGapMs: i * 10_000, maxHeartbeatGapMs: i === 20 ? 16 * MINUTE : 30_000 });
    }
    const reader = new MetricsReader({ connection: ctx.redis, prefix: ctx.prefix, clock });
    const advice = await reader.thresholdAdvice({ type: 'pdf', windowMs: 3_600_000 });
    expect(advice.type).toBe('pdf');
    expect(advice.jobs).toBe(20);
    expect(advice.truncated).toBe(false);
    // Defaults of the catalog: heartbeat 15 min, update 5 min.
    expect(advice.update).toMatchObject({ configuredMs: 5 * MINUTE, p95Ms: 190_000, p99Ms: 200_000, maxMs: 200_000, wouldFlag: 0 });
    expect(advice.heartbeat).toMatchObject({ configuredMs: 15 * MINUTE, p95Ms: 30_000, p99Ms: 16 * MINUTE, wouldFlag: 1 });
    const tighter = await reader.thresholdAdvice({
      type: 'pdf',
      windowMs: 3_600_000,
      configured: { heartbeatTimeoutMs: null, updateTimeoutMs: 100_000 },
    });
    expect(tighter.update.wouldFlag).toBe(10);
    expect(tighter.heartbeat.wouldFlag).toBe(0);
  });

  it('exports kai_jobs_* Prometheus metrics read from Redis on scrape', async () => {
    const clock = manualClock(T0);
    await recordActivity(clock);
    clock.set(T0 + 10 * MINUTE);
    const reader = new MetricsReader({ connection: ctx.redis, prefix: ctx.prefix, clock });
    const exporter = createPrometheusExporter({ reader, clock, windowMs: 60 * MINUTE, cacheMs: 0 });
    const text = await exporter.metrics();
    expect(exporter.contentType).toContain('text/plain');

    expect(text).toContain('# TYPE kai_jobs_completed_total counter');
    expect(sample(text, 'kai_jobs_completed_total{job_type="pdf"}')).toBe(10);
    expect(sample(text, 'kai_jobs_completed_total{job_type="scrape"}')).toBe(1);
    expect(sample(text, 'kai_jobs_completed_total{job_type="xml-import"}')).toBe(0);
    expect(sample(text, 'kai_jobs_failed_total{job_type="pdf"}')).toBe(2);
    expect(sample(text, 'kai_jobs_stage_failures_total{job_type="pdf",stage="embeddings_created"}')).toBe(2);
    expect(sample(text, 'kai_jobs_stuck_total{job_type="pdf",reason="update_timeout"}')).toBe(1);
    expect(sample(text, 'kai_jobs_stuck_total{job_type="pdf",reason="heartbeat_timeout"}')).toBe(1);
    expect(sample(text, 'kai_jobs_recoveries_total{job_type="pdf",outcome="recovered"}')).toBe(1);
    expect(sample(text, 'kai_jobs_stalled_total{job_type="pdf"}')).toBe(1);
    expect(sample(text, 'kai_jobs_failovers_total{job_type="pdf"}')).toBe(3);
    expect(sample(text, 'kai_jobs_worker_failovers{job_type="pdf",worker="host-a:1:aa"}')).toBe(2);
    expect(sample(text, 'kai_jobs_worker_failovers{job_type="pdf",worker="host-b:2:bb"}')).toBe(1);

    expect(text).toContain('# TYPE kai_jobs_processing_duration_seconds histogram');
    expect(sample(text, 'kai_jobs_processing_duration_seconds_count{job_type="pdf"}')).toBe(10);
    expect(sample(text, 'kai_jobs_processing_duration_seconds_sum{job_type="pdf"}')).toBe(55);
    expect(sample(text, 'kai_jobs_processing_duration_seconds_bucket{job_type="pdf",le="+Inf"}')).toBe(10);
    // 1..10 s: five durations ≤ 5.12 s.
    expect(sample(text, 'kai_jobs_processing_duration_seconds_bucket{job_type="pdf",le="5.12"}')).toBe(5);

    expect(sample(text, 'kai_jobs_error_rate{job_type="pdf"}')).toBeCloseTo(2 / 12);
    expect(sample(text, 'kai_jobs_recovery_success_rate{job_type="pdf"}')).toBe(0.5);
    expect(sample(text, 'kai_jobs_stuck_per_hour{job_type="pdf"}')).toBe(2);
    expect(sample(text, 'kai_jobs_processing_time_avg_seconds{job_type="pdf"}')).toBe(5.5);
    expect(sample(text, 'kai_jobs_processing_time_p95_seconds{job_type="pdf"}')).toBeGreaterThan(8);
    // No finished xml-import job: no rate series rather than a made-up zero.
    expect(sample(text, 'kai_jobs_error_rate{job_type="xml-import"}')).toBeUndefined();

    // Counters only grow: a later scrape sees new completions.
    await new RedisMetricsRecorder({ connection: ctx.redis, prefix: ctx.prefix, clock }).jobCompleted('pdf', 500);
    // One scrape reads Redis once for all fifteen metrics: one totals read per job type.
    let totalsReads = 0;
    const readTotals = reader.readTotals.bind(reader);
    reader.readTotals = (type) => {
      totalsReads += 1;
      return readTotals(type);
    };
    expect(sample(await exporter.metrics(), 'kai_jobs_completed_total{job_type="pdf"}')).toBe(11);
    expect(totalsReads).toBe(3);
  });

  it("counts a drill's canary under the drill's keys, out of every production read", async () => {
    const clock = manualClock(T0);
    const recorder = new RedisMetricsRecorder({ connection: ctx.redis, prefix: ctx.prefix, clock });
    const drill = { drill: true };
    await recorder.jobStuck('pdf', 'update_timeout', drill);
    await recorder.recovery('pdf', 'restarted', drill);
    await recorder.recovery('pdf', 'recovered', drill);
    await recorder.jobCompleted('pdf', 1200, drill);
    await recorder.jobFailed('pdf', 'text_extracted', drill);
    await recorder.updateGaps('pdf', { maxUpdateGapMs: 5000 }, drill);
    await recorder.jobCompleted('pdf', 800);
    const reader = new MetricsReader({ connection: ctx.redis, prefix: ctx.prefix, clock });
    const totals = await reader.readTotals('pdf');
    expect(totals).toMatchObject({ completed: 1, failed: 0, stuck: 0, recoveries: { restarted: 0, recovered: 0, failed: 0 } });
    const series = await reader.readMetrics({ type: 'pdf', sinceMs: T0 - MINUTE, untilMs: T0 + MINUTE });
    expect(series.summary).toMatchObject({ completed: 1, failed: 0, stuck: 0, recoverySuccessRate: null });
    expect((await reader.thresholdAdvice({ type: 'pdf', untilMs: T0 + MINUTE })).update.samples).toBe(0);
    const drillKeys = metricsKeys(ctx.prefix, { drill: true });
    expect(await ctx.redis.hgetall(drillKeys.totals('pdf'))).toMatchObject({ stuck: '1', 'recovery:restarted': '1', 'recovery:recovered': '1', completed: '1', failed: '1' });
    expect(await ctx.redis.llen(drillKeys.gapSamples('pdf'))).toBe(1);
    const text = await createPrometheusExporter({ reader, clock }).metrics();
    expect(sample(text, 'kai_jobs_completed_total{job_type="pdf"}')).toBe(1);
    expect(sample(text, 'kai_jobs_failed_total{job_type="pdf"}')).toBe(0);
    expect(text).not.toContain('reason="update_timeout"');
  });

  it('keeps the latest hand-backs, newest first, capped, drill ones flagged; skips malformed entries', async () => {
    const clock = manualClock(T0);
    const recorder = new RedisMetricsRecorder({ connection: ctx.redis, prefix: ctx.prefix, clock, handBackLimit: 3 });
    for (let index = 0; index < 4; index += 1) {
      clock.set(T0 + index * 1000);
      await recorder.handedBack({ kind: index % 2 === 0 ? 'failover' : 'shutdown', type: 'pdf', jobId: `job-${index}`, stage: 'text_extracted', workerId: `w-${index}`, drill: index === 3 });
    }
    await expectErrorNamed(recorder.handedBack({ kind: 'vanished' as never, type: 'pdf', jobId: 'x', stage: null, workerId: 'w' }), 'ValidationError');
    await ctx.redis.rpush(metricsKeys(ctx.prefix).handBacks(), 'not json', '{"at":1,"kind":"failover","type":"nope","jobId":"j","workerId":"w"}');
    const reader = new MetricsReader({ connection: ctx.redis, prefix: ctx.prefix, clock });
    const latest = await reader.latestHandBacks(10);
    expect(latest.map((entry) => [entry.jobId, entry.kind, entry.at, entry.drill])).toEqual([
      ['job-3', 'shutdown', T0 + 3000, true],
      ['job-2', 'failover', T0 + 2000, false],
      ['job-1', 'shutdown', T0 + 1000, false],
    ]);
    expect(parseHandBack('{"at":1,"kind":"shutdown","type":"pdf","jobId":"j","workerId":"w","stage":7}')).toEqual({
      at: 1,
      kind: 'shutdown',
      type: 'pdf',
      jobId: 'j',
      stage: null,
      workerId: 'w',
      drill: false,
    });
  });
});
