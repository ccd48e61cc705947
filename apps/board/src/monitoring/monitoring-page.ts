import type { MetricsPoint } from '@kai-jobs/monitor';
import { isJobType, jobCatalog, type JobType, type StaleCandidate } from '@kai-jobs/queue';
import { formatDuration, formatHeadroom, formatNumber, formatOptionalDuration, formatPercent, formatTime, formatWindow } from './format.js';
import { html, type SafeHtml } from './html.js';
import type { MonitorHealth, MonitorHealthState, MonitoringSnapshot, RecoveryEntry, TypeSnapshot } from './monitoring-data.js';
import { MONITORING_CSS } from './monitoring-style.js';
import { barList, timeChart } from './svg-charts.js';

/** How the page links to the rest of the board. */
export interface MonitoringPageOptions {
  /** The board's base path (`''` or `/ops`). */
  basePath: string;
  /** The page reloads itself this often (ms). */
  refreshIntervalMs: number;
  readOnly: boolean;
}

function jobLink(basePath: string, type: JobType, jobId: string): SafeHtml {
  const href = `${basePath}/queue/${encodeURIComponent(jobCatalog[type].queueName)}/${encodeURIComponent(jobId)}`;
  return html`<a href="${href}" class="job-id">${jobId}</a>`;
}

function ago(storeNow: number, at: number): string {
  const delta = storeNow - at;
  return delta >= 0 ? `${formatDuration(delta)} ago` : `in ${formatDuration(-delta)}`;
}

function monitorSection(health: MonitorHealth, storeNow: number): SafeHtml {
  const labels: Record<MonitorHealthState, string> = {
    never: 'never ran',
    ok: 'running',
    failing: 'last tick failed',
    overdue: 'overdue',
  };
  const badge = html`<span class="badge state-${health.state}">${labels[health.state]}</span>`;
  const tick = health.lastTick;
  if (tick === null || health.lastTickAt === null || health.nextTickAt === null || health.lateByMs === null) {
    return html`<section id="monitor-health" data-state="${health.state}">
  <h2>Monitor ${badge}</h2>
  <p class="muted">The monitor has not recorded a tick yet. Start it (<code>kai-jobs monitor</code>) — until it runs, stuck work is neither detected nor recovered.</p>
</section>`;
  }
  const next =
    health.lateByMs > 0
      ? html`${formatTime(health.nextTickAt)} <strong class="late">(${health.state === 'overdue' ? 'overdue' : 'due'} by ${formatDuration(health.lateByMs)})</strong>`
      : html`${formatTime(health.nextTickAt)} (in ${formatDuration(-health.lateByMs)})`;
  return html`<section id="monitor-health" data-state="${health.state}">
  <h2>Monitor ${badge}</h2>
  <dl class="facts">
    <div><dt>Last tick</dt><dd data-field="last-tick">${formatTime(health.lastTickAt)} (${ago(storeNow, health.lastTickAt)}), took ${formatDuration(tick.durationMs)}</dd></div>
    <div><dt>Next tick</dt><dd data-field="next-tick">${next}</dd></div>
    <div><dt>Interval</dt><dd>${formatDuration(tick.intervalMs)}</dd></div>
    <div><dt>Last tick found</dt><dd>${tick.candidates} candidates: ${tick.restarted} restarted, ${tick.failed} failed, ${tick.readded} re-added, ${tick.left} left; ${tick.failureAlerts} failure alerts</dd></div>
    <div><dt>Ran on</dt><dd>${tick.monitorId}</dd></div>
    ${tick.error === null ? null : html`<div><dt>Error</dt><dd class="error">${tick.error}</dd></div>`}
  </dl>
</section>`;
}

function summaryLine(summary: MetricsPoint): SafeHtml {
  const recoveriesEnded = summary.recoveries.recovered + summary.recoveries.failed;
  const time = summary.processingTime;
  return html`<p class="summary">
  <span data-stat="completed"><b>${summary.completed}</b> completed</span>
  <span data-stat="failed"><b>${summary.failed}</b> failed (${formatPercent(summary.errorRate)})</span>
  <span data-stat="stuck"><b>${summary.stuck}</b> stuck found</span>
  <span data-stat="recoveries"><b>${summary.recoveries.restarted}</b> restarted, ${summary.recoveries.recovered} of ${recoveriesEnded} ended recovered (${formatPercent(summary.recoverySuccessRate)})</span>
  <span data-stat="processing-time">processing ${time === null ? '—' : `avg ${formatDuration(time.avgMs)} · p50 ${formatDuration(time.p50Ms)} · p95 ${formatDuration(time.p95Ms)}`}</span>
  <span data-stat="failovers"><b>${summary.failovers}</b> failovers</span>
</p>`;
}

function typeSection(snapshot: TypeSnapshot, windowText: string): SafeHtml {
  const { series } = snapshot;
  const points = series.points;
  const common = { startMs: series.fromMs, bucketMs: series.bucketMs };
  const rate = (value: number): string => formatPercent(value);
  const anyFinished = series.summary.completed + series.summary.failed > 0;
  const charts = [
    timeChart({
      ...common,
      id: 'error-rate',
      title: 'Error rate',
      kind: 'line',
      // An hour in which nothing failed had no errors: 0 %, so the line spans the whole window.
      // With nothing finished in the whole window there is no rate at all: the empty figure says so.
      series: [{ name: 'error rate', values: points.map((p) => (anyFinished ? (p.errorRate ?? 0) : null)) }],
      format: rate,
      yMax: 1,
      emptyText: `no finished jobs in the last ${windowText}`,
    }),
    timeChart({
      ...common,
      id: 'stuck-frequency',
      title: 'Stuck jobs found (per hour)',
      kind: 'bar',
      series: [{ name: 'stuck per hour', values: points.map((p) => p.stuckPerHour) }],
      format: formatNumber,
      emptyText: 'no data',
    }),
    timeChart({
      ...common,
      id: 'recovery-success',
      title: `Recoveries · ${formatPercent(series.summary.recoverySuccessRate)} ended recovered`,
      kind: 'bar',
      // Counts per bucket (zero where none) rather than a per-bucket rate: a rate exists only
      // in the few buckets where a recovery ended, and would draw as lone dots.
      series: [
        { name: 'restarted', values: points.map((p) => p.recoveries.restarted) },
        { name: 'recovered', values: points.map((p) => p.recoveries.recovered) },
        { name: 'failed', values: points.map((p) => p.recoveries.failed) },
      ],
      format: formatNumber,
      emptyText: `no recovery in the last ${windowText}`,
    }),
    timeChart({
      ...common,
      id: 'processing-time',
      title: 'Processing time',
      kind: 'line',
      series: [
        { name: 'avg', values: points.map((p) => p.processingTime?.avgMs ?? null) },
        { name: 'p50', values: points.map((p) => p.processingTime?.p50Ms ?? null) },
        { name: 'p95', values: points.map((p) => p.processingTime?.p95Ms ?? null) },
      ],
      format: formatDuration,
      emptyText: `no completed jobs in the last ${windowText}`,
    }),
    barList({
      id: 'failures-by-stage',
      title: 'Failures by stage',
      entries: Object.entries(series.summary.failuresByStage).map(([label, value]) => ({ label, value })),
      emptyText: `no failures in the last ${windowText}`,
    }),
    barList({
      id: 'failovers-by-worker',
      title: 'Failovers per worker',
      entries: Object.entries(series.summary.failoversByWorker).map(([label, value]) => ({ label, value })),
      emptyText: `no failovers in the last ${windowText}`,
    }),
  ];
  return html`<section class="job-type" id="type-${snapshot.type}" data-type="${snapshot.type}">
  <h2>${snapshot.displayName} <small>${snapshot.type} · queue ${jobCatalog[snapshot.type].queueName}</small></h2>
  <p class="muted">${snapshot.description}</p>
  ${summaryLine(series.summary)}
  <div class="charts">${charts}</div>
</section>`;
}

function stuckRow(type: TypeSnapshot, candidate: StaleCandidate, basePath: string, drill: boolean): SafeHtml {
  return html`<tr data-job-id="${candidate.row.id}"${drill ? html` data-drill="true" class="drill"` : null}>
    <td>${type.displayName}${drill ? html` <span class="badge drill">drill</span>` : null}</td>
    <td>${jobLink(basePath, type.type, candidate.row.id)}</td>
    <td>${candidate.row.status}</td>
    <td>${candidate.row.currentStage ?? '—'}</td>
    <td><code>${candidate.reason}</code></td>
    <td data-field="age">${formatDuration(candidate.ageMs)}</td>
    <td>${candidate.row.lastHeartbeat === null ? '—' : formatTime(candidate.row.lastHeartbeat)}</td>
    <td>${candidate.row.workerId ?? '—'}</td>
    <td>${candidate.row.restartCount}</td>
  </tr>`;
}

function stuckSection(snapshot: MonitoringSnapshot, basePath: string): SafeHtml {
  const production = snapshot.types.flatMap((type) => type.stuck.map((candidate) => stuckRow(type, candidate, basePath, false)));
  const drills = snapshot.types.flatMap((type) => type.drillStuck.map((candidate) => stuckRow(type, candidate, basePath, true)));
  const rows = [...production, ...drills];
  const thresholds = snapshot.types.map(
    (type) =>
      html`<li>${type.displayName}: no update for ${formatDuration(type.thresholds.updateTimeoutMs)}${type.thresholds.heartbeatTimeoutMs === null ? '' : `, no heartbeat for ${formatDuration(type.thresholds.heartbeatTimeoutMs)}`}</li>`,
  );
  // The count is production work only: a drill's canary hangs on purpose and is listed apart.
  const drillNote = drills.length === 0 ? null : html` <span class="muted" data-field="drill-stuck">+ ${drills.length} recovery drill ${drills.length === 1 ? 'canary' : 'canaries'}</span>`;
  return html`<section id="stuck-now">
  <h2>Stuck right now <span class="count" data-field="stuck-count">${production.length}</span>${drillNote}</h2>
  <ul class="thresholds muted">${thresholds}</ul>
  ${
    rows.length === 0
      ? html`<p class="none">No job is stuck right now.</p>`
      : html`${production.length === 0 ? html`<p class="none">No production job is stuck right now.</p>` : null}<table><thead><tr><th>Type</th><th>Job</th><th>Status</th><th>Stage</th><th>Reason</th><th>Stuck for</th><th>Last heartbeat</th><th>Worker</th><th>Restarts</th></tr></thead><tbody>${rows}</tbody></table>`
  }
</section>`;
}

const HAND_BACK_LABELS = { failover: 'failover', shutdown: 'shutdown hand-back' } as const;

function recoveryRow(entry: RecoveryEntry, basePath: string): SafeHtml {
  const drillBadge = entry.drill ? html` <span class="badge drill">drill</span>` : null;
  const drillAttr = entry.drill ? html` data-drill="true" class="drill"` : null;
  const typeCell = (type: string, jobId: string): SafeHtml =>
    html`<td>${isJobType(type) ? jobCatalog[type].displayName : type}${drillBadge}</td>
    <td>${isJobType(type) ? jobLink(basePath, type, jobId) : jobId}</td>`;
  if (entry.source === 'monitor') {
    const decision = entry.decision;
    return html`<tr data-job-id="${decision.jobId}" data-source="monitor" data-action="${decision.action}"${drillAttr}>
    <td>${formatTime(entry.at)}</td>
    ${typeCell(decision.type, decision.jobId)}
    <td><span class="badge action-${decision.action}">${decision.action}</span></td>
    <td><code>${decision.reason}</code></td>
    <td class="why">${decision.why}</td>
    <td>${decision.stage ?? '—'}</td>
    <td>${decision.workerId ?? '—'}</td>
    <td>${decision.restartNumber ?? '—'}</td>
    <td>${formatDuration(decision.stuckForMs)}</td>
  </tr>`;
  }
  const handBack = entry.handBack;
  const why =
    handBack.kind === 'failover'
      ? `worker ${handBack.workerId} vanished from Redis${handBack.goneForMs === undefined ? '' : ` ${formatDuration(handBack.goneForMs)} before`}; the job went back to the queue and resumes from its checkpoint`
      : `worker ${handBack.workerId} was shutting down and handed the job back; it resumes from its checkpoint`;
  return html`<tr data-job-id="${handBack.jobId}" data-source="hand-back" data-action="${handBack.kind}"${drillAttr}>
    <td>${formatTime(entry.at)}</td>
    ${typeCell(handBack.type, handBack.jobId)}
    <td><span class="badge action-${handBack.kind}">${HAND_BACK_LABELS[handBack.kind]}</span></td>
    <td><code>${handBack.kind === 'failover' ? 'worker_gone' : 'shutdown'}</code></td>
    <td class="why">${why}</td>
    <td>${handBack.stage ?? '—'}</td>
    <td>${handBack.workerId}</td>
    <td>—</td>
    <td>—</td>
  </tr>`;
}

function recoveriesSection(snapshot: MonitoringSnapshot, basePath: string): SafeHtml {
  const rows = snapshot.recoveries.map((entry) => recoveryRow(entry, basePath));
  const production = snapshot.recoveries.filter((entry) => !entry.drill).length;
  const drills = snapshot.recoveries.length - production;
  return html`<section id="recoveries">
  <h2>Latest recoveries <span class="count" data-field="recoveries-count">${production}</span>${drills === 0 ? null : html` <span class="muted">+ ${drills} from recovery drills</span>`}</h2>
  <p class="muted">The monitor's restarts and failures of stuck work, failovers of vanished workers and jobs handed back by workers shutting down.</p>
  ${
    rows.length === 0
      ? html`<p class="none">No job has been recovered, failed over or handed back yet.</p>`
      : html`<table><thead><tr><th>When</th><th>Type</th><th>Job</th><th>Action</th><th>Reason</th><th>Why</th><th>Stage</th><th>Worker</th><th>Restart</th><th>Stuck for</th></tr></thead><tbody>${rows}</tbody></table>`
  }
</section>`;
}

function adviceSection(snapshot: MonitoringSnapshot, windowText: string): SafeHtml {
  const rows = snapshot.types.flatMap((type) =>
    (['update', 'heartbeat'] as const).map((gap) => {
      const advice = type.advice[gap];
      return html`<tr data-type="${type.type}" data-gap="${gap}">
    <td>${type.displayName}</td>
    <td>${gap === 'update' ? 'between updates' : 'between heartbeats'}</td>
    <td>${advice.configuredMs === null ? 'off' : formatDuration(advice.configuredMs)}</td>
    <td>${advice.samples}</td>
    <td>${formatOptionalDuration(advice.p50Ms)}</td>
    <td>${formatOptionalDuration(advice.p95Ms)}</td>
    <td>${formatOptionalDuration(advice.p99Ms)}</td>
    <td>${formatOptionalDuration(advice.maxMs)}</td>
    <td>${advice.wouldFlag} (${formatPercent(advice.wouldFlagRatio)})</td>
    <td data-field="headroom"${advice.headroom === null ? null : html` title="threshold ÷ p99 = ${advice.headroom.toFixed(1)}×"`}>${formatHeadroom(advice.headroom)}</td>
    <td>${type.advice.truncated ? 'newest jobs only (sample list full)' : ''}</td>
  </tr>`;
    }),
  );
  return html`<section id="threshold-advice">
  <h2>Threshold advice</h2>
  <p class="muted">The largest gap of each job that finished in the last ${windowText}, beside the threshold that judges it. "Would flag": jobs the threshold would have called stuck; "headroom": threshold ÷ p99.</p>
  <table><thead><tr><th>Type</th><th>Gap</th><th>Threshold</th><th>Jobs</th><th>p50</th><th>p95</th><th>p99</th><th>Max</th><th>Would flag</th><th>Headroom</th><th></th></tr></thead><tbody>${rows}</tbody></table>
</section>`;
}

/** The whole monitoring page (pure: the same snapshot gives the same HTML). */
export function renderMonitoringPage(snapshot: MonitoringSnapshot, options: MonitoringPageOptions): string {
  const base = options.basePath;
  const windowText = formatWindow(snapshot.windowMs);
  const refreshSeconds = Math.max(1, Math.round(options.refreshIntervalMs / 1000));
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<meta http-equiv="refresh" content="${refreshSeconds}">
<title>kai-jobs · monitoring</title>
<style>${MONITORING_CSS}</style>
</head>
<body>
<header class="top">
  <a class="brand" href="${base}/">kai-jobs</a>
  <nav><a href="${base}/">Queues</a><a href="${base}/monitoring" aria-current="page">Monitoring</a><a href="${base}/metrics">Prometheus metrics</a></nav>
  ${options.readOnly ? html`<span class="badge read-only">read-only</span>` : null}
  <span class="meta">last ${windowText} · updated ${formatTime(snapshot.generatedAt)} · refreshes every ${refreshSeconds} s</span>
</header>
<main>
${monitorSection(snapshot.monitor, snapshot.storeNow)}
${stuckSection(snapshot, base)}
${snapshot.types.map((type) => typeSection(type, windowText))}
${recoveriesSection(snapshot, base)}
${adviceSection(snapshot, windowText)}
</main>
</body>
</html>
`;
  return page.value;
}

/** The page shown when the data could not be read (Redis down): still refreshing, so it recovers by itself. */
export function renderMonitoringUnavailable(message: string, options: MonitoringPageOptions): string {
  const refreshSeconds = Math.max(1, Math.round(options.refreshIntervalMs / 1000));
  return html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta http-equiv="refresh" content="${refreshSeconds}"><title>kai-jobs · monitoring unavailable</title><style>${MONITORING_CSS}</style></head>
<body><header class="top"><a class="brand" href="${options.basePath}/">kai-jobs</a></header>
<main><section id="unavailable"><h2>Monitoring data unavailable</h2><p class="error">${message}</p><p class="muted">This page retries every ${refreshSeconds} s.</p></section></main>
</body></html>
`.value;
}
