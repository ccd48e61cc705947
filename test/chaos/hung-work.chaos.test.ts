/**
 * Chaos 5 — hung work: stages that await forever in live worker processes (heartbeats keep
 * coming; only progress stops), beside healthy jobs of all three types, under two monitors.
 * Each hung job is found by the update timeout within one check interval and handled:
 * - a PDF hung once in a later stage is restarted from its last checkpoint (no earlier stage
 *   runs again) and completes, with the one stuck-job alert of its restart;
 * - a PDF hung in its first stage has no checkpoint: it is failed, with one alert;
 * - a PDF hung on every attempt is restarted up to the limit (3), then failed;
 * - scraping sessions and imports are failed with exactly one alert each, of their own kind,
 *   carrying their linked `background_jobs` id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobCatalog, type HistoryEntry } from '@kai-jobs/queue';
import type { ReceivedEvent } from '@kai-jobs/monitor/testing';
import { FAST_MONITOR_ENV } from './fleet.js';
import { alertedJobId } from './invariants.js';
import { openScenario, type EnqueuedRef, type Scenario } from './scenario.js';

const UPDATE_TIMEOUT_MS = 3000;
const CHECK_INTERVAL_MS = Number(FAST_MONITOR_ENV['MONITOR_CHECK_INTERVAL_MS']);
/** A tick's own duration on a loaded 2-core machine, on top of the interval. */
const TICK_ALLOWANCE_MS = 1000;
const PDF_STAGES = jobCatalog.pdf.stages;
const MAX_RESTARTS = jobCatalog.pdf.defaults.maxRestarts;

let scenario: Scenario;

beforeAll(async () => {
  scenario = await openScenario('hung-work', {
    workerEnv: { WORKER_TYPES: 'pdf,scrape,xml-import' },
    // The types' own thresholds (no per-job override): seconds instead of 5, 30 and 20 minutes.
    monitorEnv: {
      PDF_UPDATE_TIMEOUT_MS: String(UPDATE_TIMEOUT_MS),
      PDF_HEARTBEAT_TIMEOUT_MS: String(UPDATE_TIMEOUT_MS),
      SCRAPE_UPDATE_TIMEOUT_MS: String(UPDATE_TIMEOUT_MS),
      XML_IMPORT_UPDATE_TIMEOUT_MS: String(UPDATE_TIMEOUT_MS),
    },
  });
});

afterAll(async () => {
  await scenario?.close();
});

/** From the job's last update to the monitor's action on it, by the store's clock. */
function detectionMs(entry: HistoryEntry): number {
  return entry.at - Number(entry['lastUpdate']);
}

function alertsOf(alerts: readonly ReceivedEvent[], id: string): ReceivedEvent[] {
  return alerts.filter((event) => alertedJobId(event) === id);
}

describe('chaos: stages that await forever', () => {
  it('are detected by the update timeout and restarted from the checkpoint (PDF) or failed (scrape, import), with the right alerts', async () => {
    const { fleet } = scenario;
    await Promise.all([fleet.startMonitor('m1'), fleet.startMonitor('m2')]);
    await Promise.all([fleet.startWorker('w1'), fleet.startWorker('w2')]);

    // A PDF hung once in each stage after the first: restarted from the stage before, completes.
    const hungOnce = new Map<string, number>();
    for (const [index, stage] of PDF_STAGES.entries()) {
      if (index === 0) continue;
      hungOnce.set((await scenario.enqueuePdf(`hung-once-${stage};hold:${stage}`)).id, index);
    }
    // Hung in its first stage: nothing to restart from.
    const hungFirst = await scenario.enqueuePdf(`hung-first;hold:${PDF_STAGES[0]}`);
    // Hung on every attempt: restarted up to the limit, then failed.
    const hungAlways = await scenario.enqueuePdf('hung-always;holdalways:tiles_generated');
    // Scraping sessions and imports, hung in either stage; the first of each linked to a background_jobs row.
    const failing: EnqueuedRef[] = [
      await scenario.enqueueScrape('hung-scrape-1;holdalways:site_crawled', { backgroundJobId: 'bg-scrape-1' }),
      await scenario.enqueueScrape('hung-scrape-2;hold:results_saved'),
      await scenario.enqueueImport('hung-import-1;holdalways:feed_fetched', { backgroundJobId: 'bg-import-1' }),
      await scenario.enqueueImport('hung-import-2;holdalways:products_imported'),
    ];
    // Healthy work of all three types around them.
    const healthy: EnqueuedRef[] = [];
    for (let index = 0; index < 24; index++) {
      healthy.push(await scenario.enqueuePdf(`healthy-${index};sleep:150`));
      if (index % 3 === 0) healthy.push(await scenario.enqueueScrape(`healthy-s${index};sleep:150`));
      if (index % 3 === 1) healthy.push(await scenario.enqueueImport(`healthy-i${index};sleep:150`));
    }

    await scenario.waitUntilSettled(75_000);
    const failedIds = new Set([hungFirst.id, hungAlways.id, ...failing.map((job) => job.id)]);
    const { violations, snapshot } = await scenario.check({
      outcome: (job) => {
        if (job.id === hungFirst.id) return { status: 'failed', error: /^stuck: update_timeout \(hung\); hung: no valid checkpoint/ };
        if (job.id === hungAlways.id) return { status: 'failed', error: new RegExp(`^stuck: update_timeout \\(hung\\); hung: restart limit reached \\(${MAX_RESTARTS} of ${MAX_RESTARTS}\\)`) };
        if (failedIds.has(job.id)) return { status: 'failed', error: /^stuck: update_timeout \(hung\); hung: (scrape|xml-import) jobs are failed when stuck/ };
        return { status: 'completed' };
      },
      // One stuck alert per attempt the monitor acted on: a restart, or the final failure.
      alerts: (job) => (job.id === hungAlways.id ? MAX_RESTARTS + 1 : hungOnce.has(job.id) || failedIds.has(job.id) ? 1 : 0),
    });
    const byId = new Map(snapshot.jobs.map((job) => [job.id, job]));
    const detections: number[] = [];

    // Restarted PDFs: the stages before the hung one ran once, the hung one again on attempt 2, the rest on attempt 2 only.
    for (const [id, hungIndex] of hungOnce) {
      const job = byId.get(id);
      const expected = PDF_STAGES.flatMap((stage, index) => (index < hungIndex ? [`${stage}#1`] : index === hungIndex ? [`${stage}#1`, `${stage}#2`] : [`${stage}#2`]));
      expect(job?.runs.map((run) => `${run.stage}#${run.attempt}`), id).toEqual(expected);
      expect(job?.row?.restartCount, id).toBe(1);
      const restarted = job?.history.filter((entry) => entry.event === 'recovery:restarted') ?? [];
      expect(restarted, id).toHaveLength(1);
      expect(restarted[0], id).toMatchObject({ reason: 'update_timeout', classification: 'hung', stage: PDF_STAGES[hungIndex], checkpointUsed: PDF_STAGES[hungIndex - 1], restartNumber: 1 });
      detections.push(detectionMs(restarted[0] as HistoryEntry));
      expect(alertsOf(snapshot.alerts, id).map((event) => event.fingerprint), id).toEqual([['stuck-job', 'update_timeout']]);
    }
    // Hung on every attempt: restarted MAX_RESTARTS times from the same checkpoint, then failed.
    const always = byId.get(hungAlways.id);
    expect(always?.row?.restartCount).toBe(MAX_RESTARTS);
    expect(always?.history.filter((entry) => entry.event === 'recovery:restarted').map((entry) => entry['checkpointUsed'])).toEqual(Array(MAX_RESTARTS).fill('text_extracted'));
    expect(always?.runs.filter((run) => run.stage === 'tiles_generated').map((run) => run.attempt)).toEqual([1, 2, 3, 4]);
    for (const entry of always?.history.filter((item) => item.event.startsWith('recovery:')) ?? []) detections.push(detectionMs(entry));
    // Failed ones: one recovery:failed entry each, one alert of the right kind, the link in the alert.
    const stuckKind = { pdf: 'stuck-job', scrape: 'stuck-scraping-session', 'xml-import': 'stuck-import-job' } as const;
    for (const ref of [hungFirst, ...failing]) {
      const job = byId.get(ref.id);
      const failedEntries = job?.history.filter((entry) => entry.event === 'recovery:failed') ?? [];
      expect(failedEntries, ref.id).toHaveLength(1);
      detections.push(detectionMs(failedEntries[0] as HistoryEntry));
      const alerts = alertsOf(snapshot.alerts, ref.id);
      expect(alerts.map((event) => event.fingerprint?.[0]), ref.id).toEqual([stuckKind[ref.type]]);
      // The alert's own context (Sentry adds `trace` and `runtime` beside it).
      const context = alerts[0]?.contexts?.[`stuck_${ref.type === 'scrape' ? 'scraping_session' : ref.type === 'xml-import' ? 'import_job' : 'job'}`] ?? {};
      if (ref.type !== 'pdf') expect(context['background_job_id'], ref.id).toBe(job?.row?.refs.backgroundJobId ?? null);
    }
    expect(byId.get(failing[0]?.id as string)?.row?.refs.backgroundJobId).toBe('bg-scrape-1');
    // The linked background_jobs rows were failed by the monitor's recovery step, with the row's error.
    for (const [ref, link] of [[failing[0], 'bg-scrape-1'], [failing[2], 'bg-import-1']] as const) {
      const row = byId.get(ref?.id as string)?.row;
      expect(await scenario.status.linkedJob(link), link).toMatchObject({ status: 'failed', followsId: ref?.id, error: row?.error, completedAt: row?.completedAt });
    }
    // Healthy jobs were never taken for stuck.
    for (const ref of healthy) {
      const job = byId.get(ref.id);
      expect(job?.row?.restartCount, ref.id).toBe(0);
      expect(job?.history.filter((entry) => entry.event.startsWith('recovery:')), ref.id).toEqual([]);
    }
    // Detected within the update timeout plus one check interval (and a tick's own time).
    for (const ms of detections) {
      expect(ms).toBeGreaterThanOrEqual(UPDATE_TIMEOUT_MS);
      expect(ms).toBeLessThanOrEqual(UPDATE_TIMEOUT_MS + CHECK_INTERVAL_MS + TICK_ALLOWANCE_MS);
    }
    const sorted = [...detections].sort((a, b) => a - b);
    console.info(
      `[chaos hung-work] ${snapshot.jobs.length} jobs (${healthy.length} healthy); ${detections.length} detections, ` +
        `update timeout ${UPDATE_TIMEOUT_MS} ms + interval ${CHECK_INTERVAL_MS} ms: median ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted[sorted.length - 1]} ms; ` +
        `${hungOnce.size} PDFs restarted and completed, ${failedIds.size} jobs failed; ${snapshot.alerts.length} alerts`,
    );
    expect(violations).toEqual([]);
  });
});
