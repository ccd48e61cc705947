import { adviseThresholds, emptyCounts, summarizeCounts, type MetricCounts, type MetricsPoint, type TickSummary } from '@kai-jobs/monitor';
import { JOB_TYPES, jobCatalog, type JobType, type RecordedHandBack, type StatusRow } from '@kai-jobs/queue';
import { describe, expect, it } from 'vitest';
import {
  barList,
  escapeHtml,
  estimateTextWidth,
  formatDuration,
  formatHeadroom,
  html,
  judgeMonitorHealth,
  leftMarginFor,
  linePaths,
  mergeRecoveries,
  niceCeiling,
  renderMonitoringPage,
  resolveThresholds,
  timeChart,
  type MonitoringSnapshot,
} from '../src/index.js';

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 2, 1, 12, 0, 0);
const FROM = NOW - 24 * HOUR;
const PAGE = { basePath: '', refreshIntervalMs: 15_000, readOnly: false };
const EVIL = '<script>alert(1)</script>"><img src=x onerror=alert(2)>';

function points(fill: (index: number, counts: MetricCounts) => void = () => undefined): MetricsPoint[] {
  return Array.from({ length: 24 }, (_, index) => {
    const counts = emptyCounts();
    fill(index, counts);
    return summarizeCounts(counts, FROM + index * HOUR, FROM + (index + 1) * HOUR);
  });
}

function total(list: MetricsPoint[]): MetricsPoint {
  const counts = emptyCounts();
  for (const point of list) {
    counts.completed += point.completed;
    counts.failed += point.failed;
    for (const [stage, n] of Object.entries(point.failuresByStage)) counts.failedByStage[stage] = (counts.failedByStage[stage] ?? 0) + n;
    for (const [worker, n] of Object.entries(point.failoversByWorker)) counts.failoversByWorker[worker] = (counts.failoversByWorker[worker] ?? 0) + n;
  }
  return summarizeCounts(counts, FROM, NOW);
}

interface SnapshotOverrides {
  pdfPoints?: MetricsPoint[];
  stuckRow?: Partial<StatusRow>;
  drillStuckRow?: Partial<StatusRow>;
  decisionText?: string;
  handBacks?: RecordedHandBack[];
  drillDecision?: boolean;
  tick?: TickSummary | null;
}

function snapshot(overrides: SnapshotOverrides = {}): MonitoringSnapshot {
  const thresholds = resolveThresholds({});
  const types = JOB_TYPES.map((type: JobType) => {
    const list = type === 'pdf' && overrides.pdfPoints ? overrides.pdfPoints : points();
    const row = { id: 'job-1', type, status: 'processing', currentStage: 'text_extracted', workerId: 'w', lastHeartbeat: NOW - 60_000, restartCount: 0, ...overrides.stuckRow } as StatusRow;
    return {
      type,
      displayName: jobCatalog[type].displayName,
      description: jobCatalog[type].description,
      thresholds: thresholds[type],
      series: { type, fromMs: FROM, toMs: NOW, bucketMs: HOUR, points: list, summary: total(list) },
      stuck: type === 'pdf' && overrides.stuckRow ? [{ row, reason: 'update_timeout' as const, ageMs: 420_000, storeNow: NOW }] : [],
      drillStuck:
        type === 'pdf' && overrides.drillStuckRow
          ? [{ row: { ...row, ...overrides.drillStuckRow }, reason: 'update_timeout' as const, ageMs: 5_000, storeNow: NOW }]
          : [],
      advice: { type, windowMs: 24 * HOUR, ...adviseThresholds([], thresholds[type], { fromMs: FROM, toMs: NOW, listFull: false }) },
    };
  });
  const tick = overrides.tick === undefined ? null : overrides.tick;
  return {
    generatedAt: NOW,
    storeNow: NOW,
    windowMs: 24 * HOUR,
    bucketMs: HOUR,
    types,
    recoveries: mergeRecoveries(
      overrides.decisionText === undefined
        ? []
        : [
            {
              jobId: overrides.decisionText,
              type: 'pdf',
              action: 'restart',
              reason: 'update_timeout',
              classification: 'hung',
              why: overrides.decisionText,
              stage: overrides.decisionText,
              workerId: overrides.decisionText,
              restartNumber: 1,
              lastHeartbeat: null,
              lastUpdate: NOW - 400_000,
              stuckForMs: 400_000,
              at: NOW - 1000,
              ...(overrides.drillDecision === true ? { drill: true } : {}),
            },
          ],
      overrides.handBacks ?? [],
      20,
    ),
    monitor: judgeMonitorHealth(tick, NOW, 30_000),
  };
}

function tick(startedAgoMs: number, error: string | null = null): TickSummary {
  return {
    startedAt: NOW - startedAgoMs,
    storeNow: NOW - startedAgoMs,
    durationMs: 120,
    intervalMs: 60_000,
    candidates: 1,
    restarted: 1,
    failed: 0,
    readded: 0,
    left: 0,
    failureAlerts: 0,
    error,
    monitorId: 'monitor-1',
  };
}

describe('monitoring page', () => {
  it('renders well with zero data: empty charts say so, no stuck jobs, monitor never ran, refresh tag', () => {
    const page = renderMonitoringPage(snapshot(), PAGE);
    expect(page).toContain('<meta http-equiv="refresh" content="15">');
    expect(page).toContain('No job is stuck right now.');
    expect(page).toContain('No job has been recovered, failed over or handed back yet.');
    expect(page).toContain('data-state="never"');
    expect(page).toContain('no finished jobs in the last 24 h');
    for (const type of JOB_TYPES) expect(page).toContain(`id="type-${type}"`);
    // Rates and times have no value: empty figures; the stuck frequency is a real zero series.
    expect(page.match(/data-chart="error-rate" data-empty="true"/g)).toHaveLength(3);
    expect(page.match(/data-chart="stuck-frequency">/g)).toHaveLength(3);
    expect(page).not.toMatch(/NaN|undefined|Infinity/);
  });

  it('draws the series over the whole window: zero error rate where nothing failed, dashed bridges for times, bars per stage', () => {
    const pdfPoints = points((index, counts) => {
      if (index === 20 || index === 22) {
        counts.completed = 3;
        counts.durationSumMs = 6000;
        counts.durationBuckets[10] = 3;
        counts.failed = 1;
        counts.failedByStage = { text_extracted: 1 };
        counts.failoversByWorker = { 'worker-a': 2 };
      }
    });
    const page = renderMonitoringPage(snapshot({ pdfPoints }), PAGE);
    const pdf = page.slice(page.indexOf('id="type-pdf"'), page.indexOf('id="type-scrape"'));
    const errorChart = pdf.slice(pdf.indexOf('data-chart="error-rate"'), pdf.indexOf('data-chart="stuck-frequency"'));
    // One point per bucket of the 24 h window, one unbroken line from the left edge to the right.
    expect(errorChart.match(/<circle /g)).toHaveLength(24);
    expect(errorChart.match(/data-value="0.25"/g)).toHaveLength(2);
    const errorPath = errorChart.match(/<path d="([^"]*)" stroke="[^"]*" class="line"/)?.[1] ?? '';
    expect(errorPath.match(/M/g)).toHaveLength(1);
    expect(errorPath.match(/L/g)).toHaveLength(23);
    // Processing time has no value where nothing completed: two points, joined by a dashed bridge.
    const timeChartHtml = pdf.slice(pdf.indexOf('data-chart="processing-time"'), pdf.indexOf('data-chart="failures-by-stage"'));
    expect(timeChartHtml.match(/class="bridge"/g)).toHaveLength(3);
    // Recoveries are counts per bucket: a bar slot for every bucket, zero where none.
    const recoveryChart = pdf.slice(pdf.indexOf('data-chart="recovery-success"'), pdf.indexOf('data-chart="processing-time"'));
    expect(recoveryChart.match(/<rect [^>]*class="point"/g)).toHaveLength(24 * 3);
    expect(pdf).toContain('data-label="text_extracted" data-value="2"');
    expect(pdf).toContain('data-label="worker-a" data-value="4"');
    expect(pdf).toMatch(/<b>6<\/b> completed/);
  });

  it('formats the headroom sensibly', () => {
    const page = renderMonitoringPage(snapshot(), PAGE);
    expect(page).toContain('data-field="headroom">—</td>');
    expect([null, 0.853, 2.46, 35.4, 100, 10_169.5, Number.POSITIVE_INFINITY].map(formatHeadroom)).toEqual([
      '—',
      '0.85×',
      '2.5×',
      '35×',
      '100×',
      '> 100×',
      '—',
    ]);
  });

  it('keeps drill canaries out of the stuck count and labels them; lists failovers and shutdown hand-backs', () => {
    const handBacks: RecordedHandBack[] = [
      { at: NOW - 500, kind: 'failover', type: 'pdf', jobId: 'job-failed-over', stage: 'pdf_loaded', workerId: 'worker-dead', goneForMs: 2100, drill: false },
      { at: NOW - 3000, kind: 'shutdown', type: 'scrape', jobId: 'job-handed-back', stage: null, workerId: 'worker-leaving', drill: false },
    ];
    const page = renderMonitoringPage(
      snapshot({ stuckRow: { id: 'prod-1' }, drillStuckRow: { id: 'drill-1' }, decisionText: 'drill-1', drillDecision: true, handBacks }),
      PAGE,
    );
    expect(page).toContain('data-field="stuck-count">1</span>');
    expect(page).toContain('+ 1 recovery drill canary');
    expect(page).toMatch(/<tr data-job-id="drill-1" data-drill="true" class="drill">/);
    expect(page).toContain('data-field="recoveries-count">2</span>');
    expect(page).toContain('+ 1 from recovery drills');
    const recoveries = page.slice(page.indexOf('id="recoveries"'), page.indexOf('id="threshold-advice"'));
    const order = [...recoveries.matchAll(/<tr data-job-id="([^"]+)" data-source="([^"]+)" data-action="([^"]+)"/g)].map((m) => `${m[1]}/${m[2]}/${m[3]}`);
    expect(order).toEqual(['job-failed-over/hand-back/failover', 'drill-1/monitor/restart', 'job-handed-back/hand-back/shutdown']);
    expect(recoveries).toContain('worker worker-dead vanished from Redis 2.1 s before');
    expect(recoveries).toContain('shutdown hand-back');
  });

  it('escapes every value from Redis (XSS-safe)', () => {
    const page = renderMonitoringPage(
      snapshot({
        stuckRow: { id: EVIL, currentStage: EVIL, workerId: EVIL },
        decisionText: EVIL,
        tick: { ...tick(10_000, EVIL), monitorId: EVIL },
        pdfPoints: points((index, counts) => {
          if (index === 1) {
            counts.failed = 1;
            counts.failedByStage = { [EVIL]: 1 };
          }
        }),
      }),
      PAGE,
    );
    expect(page).not.toContain('<script>');
    expect(page).not.toContain('<img');
    expect(page).toContain(escapeHtml(EVIL));
    // Links carry the id URL-encoded.
    expect(page).toContain(`/queue/pdf-processing/${encodeURIComponent(EVIL)}`);
  });

  it('shows the monitor health: running, next tick, overdue, failing', () => {
    const running = renderMonitoringPage(snapshot({ tick: tick(20_000) }), PAGE);
    expect(running).toContain('data-state="ok"');
    expect(running).toMatch(/data-field="next-tick">2026-03-01 12:00:40 UTC \(in 40 s\)/);
    const overdue = renderMonitoringPage(snapshot({ tick: tick(200_000) }), PAGE);
    expect(overdue).toContain('data-state="overdue"');
    expect(overdue).toMatch(/overdue by 2 min 20 s/);
    expect(renderMonitoringPage(snapshot({ tick: tick(5000, 'Redis timeout') }), PAGE)).toContain('data-state="failing"');
  });

  it('judges the monitor by the store clock with a grace', () => {
    expect(judgeMonitorHealth(null, NOW, 0).state).toBe('never');
    expect(judgeMonitorHealth(tick(80_000), NOW, 30_000)).toMatchObject({ state: 'ok', nextTickAt: NOW - 20_000, lateByMs: 20_000 });
    expect(judgeMonitorHealth(tick(95_000), NOW, 30_000).state).toBe('overdue');
  });

  it('links to the board under its base path and marks read-only', () => {
    const page = renderMonitoringPage(snapshot({ stuckRow: { id: 'abc' } }), { ...PAGE, basePath: '/ops', readOnly: true });
    expect(page).toContain('href="/ops/"');
    expect(page).toContain('href="/ops/queue/pdf-processing/abc"');
    expect(page).toContain('class="badge read-only"');
  });
});

describe('charts and html', () => {
  it('escapes interpolations but not nested html', () => {
    expect(html`<p>${'<b>&"\''}</p>`.value).toBe('<p>&lt;b&gt;&amp;&quot;&#39;</p>');
    expect(html`<p>${html`<b>${'x'}</b>`}${[1, '<', null, false]}</p>`.value).toBe('<p><b>x</b>1&lt;</p>');
  });

  it('sizes the left margin to the widest y label, so none is clipped', () => {
    expect(leftMarginFor(['0 %', '50 %', '100 %'])).toBeLessThan(leftMarginFor(['0 ms', '1 min 15 s', '2 min 30 s']));
    expect(estimateTextWidth('2 min 30 s')).toBeGreaterThan(45);
    const chart = timeChart({ id: 't', title: 'T', startMs: NOW, bucketMs: HOUR, kind: 'line', series: [{ name: 's', values: [150_000, 20_000] }], format: formatDuration, emptyText: 'e' }).value;
    const labels = [...chart.matchAll(/<text x="([\d.]+)" [^>]*text-anchor="end" class="axis">([^<]+)</g)].map((m) => ({ x: Number(m[1]), text: m[2] as string }));
    expect(labels.map((label) => label.text)).toEqual(['0 ms', '1 min 40 s', '3 min 20 s']);
    // Each right-aligned label starts inside the figure.
    for (const label of labels) expect(label.x - estimateTextWidth(label.text)).toBeGreaterThanOrEqual(0);
  });

  it('draws a line through data, dashed across empty buckets', () => {
    const x = (index: number) => index * 10;
    const y = (value: number) => value;
    expect(linePaths([1, 2, null, null, 5, 6], x, y)).toEqual({ solid: 'M0 1 L10 2 M40 5 L50 6', bridges: 'M10 2 L40 5' });
    expect(linePaths([null, 3, null], x, y)).toEqual({ solid: 'M10 3', bridges: '' });
  });

  it('rounds axis tops to readable values', () => {
    expect([0, 0.3, 1, 3, 7, 11, 240].map(niceCeiling)).toEqual([1, 0.5, 1, 5, 10, 20, 250]);
  });

  it('renders bars, clips long labels and sums the tail into "other"', () => {
    const entries = Array.from({ length: 10 }, (_, i) => ({ label: `stage-with-a-rather-long-name-${i}`, value: 10 - i }));
    const out = barList({ id: 'x', title: 'T', entries, maxBars: 3, emptyText: 'none' }).value;
    expect(out.match(/<g class="bar"/g)).toHaveLength(4);
    expect(out).toContain('data-label="other (7)" data-value="28"');
    expect(out).toContain('stage-with-a-rather…');
    expect(barList({ id: 'x', title: 'T', entries: [], emptyText: 'nothing here' }).value).toContain('nothing here');
    const bars = timeChart({ id: 'b', title: 'B', startMs: NOW, bucketMs: HOUR, kind: 'bar', series: [{ name: 's', values: [0, 2, null, 1] }], format: String, emptyText: 'e' }).value;
    expect(bars.match(/<rect [^>]*class="point"/g)).toHaveLength(3);
  });
});
