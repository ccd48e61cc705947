/**
 * Chaos 4 — clock skew: one worker whose clock runs 10 minutes ahead and one 10 minutes
 * behind (every `Date.now()` of the process shifted), the monitor on the true clock, short
 * per-job thresholds. Healthy jobs on either worker are never taken for stuck; a hung job on
 * either is detected within the update timeout plus a check interval and handled (a PDF
 * restarted from its checkpoint, a scraping session or import failed with one alert); a
 * restart's backoff is scheduled in the store's clock, whichever worker moved the job; and
 * jobs of a killed skewed worker resume on the other.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryEntry } from '@kai-jobs/queue';
import { waitFor } from '@kai-jobs/queue/testing';
import { FAST_MONITOR_ENV } from './fleet.js';
import { delayedUntil, waitForHistory } from './job-probes.js';
import { openScenario, pause, type EnqueuedRef, type Scenario } from './scenario.js';
import { CHAOS } from './settings.js';

/** Per-job thresholds: seconds, so a wrong clock anywhere would show at once. */
const THRESHOLDS = { updateTimeoutMs: 3000, heartbeatTimeoutMs: 2000 } as const;
const CHECK_INTERVAL_MS = Number(FAST_MONITOR_ENV['MONITOR_CHECK_INTERVAL_MS']);
/** A tick's own duration on a loaded 2-core machine, on top of the interval. */
const TICK_ALLOWANCE_MS = 1000;
/** Backoff of a first restart: base 1000 ms (the monitor's default), half of it jitter. */
const FIRST_RESTART_DELAY_MAX_MS = 1000;
const TYPES = { WORKER_TYPES: 'pdf,scrape,xml-import' };
const RECOVERY_EVENTS = /^(recovery:|failover|stall:|shutdown:)/;

let scenario: Scenario;

beforeAll(async () => {
  scenario = await openScenario('clock-skew', { workerEnv: TYPES });
});

afterAll(async () => {
  await scenario?.close();
});

/** Detection time of a recovery entry: from the job's last update to the monitor's action, both by the store's clock. */
function detectionMs(entry: HistoryEntry): number {
  return entry.at - Number(entry['lastUpdate']);
}

describe(`chaos: workers ${CHAOS.skewMs / 60_000} min ahead and behind the store's clock`, () => {
  it('no false stuck detection, no missed one, restarts scheduled in store time, crashes resume across skewed workers', async () => {
    const { fleet, rows } = scenario;
    await fleet.startMonitor('m1');
    const healthy: EnqueuedRef[] = [];
    const enqueueHealthy = async (label: string, count: number): Promise<void> => {
      for (let index = 0; index < count; index++) {
        healthy.push(await scenario.enqueuePdf(`skew-${label}-${index};sleep:200`, THRESHOLDS));
        if (index % 4 === 0) healthy.push(await scenario.enqueueScrape(`skew-${label}-s${index};sleep:200`, { thresholds: THRESHOLDS }));
        if (index % 4 === 2) healthy.push(await scenario.enqueueImport(`skew-${label}-i${index};sleep:200`, { thresholds: THRESHOLDS }));
      }
    };

    // Phase 1: the worker 10 minutes ahead, alone, with a PDF that hangs once and a scraping
    // session that hangs every time, beside healthy jobs.
    const ahead = await fleet.startWorker('ahead', { clockSkewMs: CHAOS.skewMs });
    const pdfAhead = await scenario.enqueuePdf('skew-hung-ahead;hold:text_extracted', THRESHOLDS);
    const scrapeAhead = await scenario.enqueueScrape('skew-hung-ahead;holdalways:site_crawled', { thresholds: THRESHOLDS });
    await enqueueHealthy('a', 8);
    const restartedAhead = await waitForHistory(rows, pdfAhead, 'recovery:restarted', 30_000);
    const failedAhead = await waitForHistory(rows, scrapeAhead, 'recovery:failed', 30_000);
    await waitFor(async () => (await rows.get(pdfAhead.id))?.status === 'completed', { timeoutMs: 30_000, message: 'the PDF restarted on the ahead worker did not complete' });
    await waitFor(async () => (await Promise.all(healthy.map((job) => rows.get(job.id)))).every((row) => row?.status === 'completed'), {
      timeoutMs: 30_000,
      message: 'healthy jobs on the ahead worker did not complete',
    });

    // Phase 2: the worker 10 minutes behind, alone (the ahead one stops gracefully with nothing
    // in flight), with a PDF that hangs once and an import that hangs every time.
    await fleet.kill('ahead', 'SIGTERM');
    await fleet.startWorker('behind', { clockSkewMs: -CHAOS.skewMs });
    const pdfBehind = await scenario.enqueuePdf('skew-hung-behind;hold:text_extracted', THRESHOLDS);
    const importBehind = await scenario.enqueueImport('skew-hung-behind;holdalways:products_imported', { thresholds: THRESHOLDS });
    const healthyBefore = healthy.length;
    await enqueueHealthy('b', 8);
    const restartedBehind = await waitForHistory(rows, pdfBehind, 'recovery:restarted', 30_000);
    const failedBehind = await waitForHistory(rows, importBehind, 'recovery:failed', 30_000);
    await waitFor(async () => (await Promise.all(healthy.slice(healthyBefore).map((job) => rows.get(job.id)))).every((row) => row?.status === 'completed'), {
      timeoutMs: 30_000,
      message: 'healthy jobs on the behind worker did not complete',
    });

    // Phase 3: both skewed workers; each is killed with -9 in the middle of a batch and comes
    // back; the other resumes its jobs from their checkpoints.
    await fleet.startWorker('ahead', { clockSkewMs: CHAOS.skewMs });
    const crashed: EnqueuedRef[] = [];
    for (let index = 0; index < 16; index++) crashed.push(await scenario.enqueuePdf(`skew-crash-${index};sleep:300`, THRESHOLDS));
    for (const victim of ['ahead', 'behind'] as const) {
      await waitFor(async () => (await Promise.all(crashed.map((job) => rows.get(job.id)))).filter((row) => row?.workerId?.startsWith(`${victim}.`) && row.status === 'processing').length >= 2, {
        timeoutMs: 20_000,
        intervalMs: 50,
        message: `no job running on ${victim} to crash`,
      });
      await fleet.kill(victim, 'SIGKILL');
      await pause(500);
      await fleet.startWorker(victim, { clockSkewMs: victim === 'ahead' ? CHAOS.skewMs : -CHAOS.skewMs });
    }

    await scenario.waitUntilSettled(60_000);
    const failing = new Set([scrapeAhead.id, importBehind.id]);
    const hungPdfs = new Set([pdfAhead.id, pdfBehind.id]);
    const { violations, snapshot } = await scenario.check({
      outcome: (job) => (failing.has(job.id) ? { status: 'failed', error: /^stuck: update_timeout/ } : { status: 'completed' }),
      // A restarted PDF gets its stuck-job alert when the monitor restarts it (one per attempt and reason).
      alerts: (job) => (failing.has(job.id) || hungPdfs.has(job.id) ? 1 : 0),
    });

    // No false detection: the healthy jobs on skewed workers were never recovered, failed over or restarted.
    for (const job of snapshot.jobs.filter((entry) => healthy.some((ref) => ref.id === entry.id))) {
      expect(job.row?.restartCount, job.id).toBe(0);
      expect(job.history.filter((entry) => RECOVERY_EVENTS.test(entry.event)).map((entry) => entry.event), job.id).toEqual([]);
      expect(job.runs.every((run) => run.attempt === 1), job.id).toBe(true);
    }
    // No missed detection: each hung job was found on its skewed worker within the update timeout plus one check interval.
    const detections = [restartedAhead, failedAhead, restartedBehind, failedBehind];
    expect(restartedAhead['workerId']).toBe(ahead.workerId);
    expect(String(failedAhead['workerId'])).toBe(ahead.workerId);
    expect(String(restartedBehind['workerId'])).toMatch(/^behind\./);
    expect(String(failedBehind['workerId'])).toMatch(/^behind\./);
    for (const entry of detections) {
      expect(detectionMs(entry)).toBeGreaterThanOrEqual(THRESHOLDS.updateTimeoutMs);
      expect(detectionMs(entry)).toBeLessThanOrEqual(THRESHOLDS.updateTimeoutMs + CHECK_INTERVAL_MS + TICK_ALLOWANCE_MS);
    }
    // The restarted PDFs resumed after their checkpoint: text_extracted ran again, pdf_loaded did not.
    for (const id of hungPdfs) {
      const job = snapshot.jobs.find((entry) => entry.id === id);
      expect(job?.runs.map((run) => `${run.stage}#${run.attempt}`).slice(0, 3), id).toEqual(['pdf_loaded#1', 'text_extracted#1', 'text_extracted#2']);
      expect(job?.row?.restartCount, id).toBe(1);
    }
    // A restart's backoff is scheduled in the store's clock, whichever worker's clock moved the job.
    const schedules: number[] = [];
    for (const [job, restarted] of [[pdfAhead, restartedAhead], [pdfBehind, restartedBehind]] as const) {
      for (const until of await delayedUntil(scenario, job)) {
        schedules.push(until - restarted.at);
        expect(until - restarted.at, `${job.id} delayed until ${until}, restarted at ${restarted.at}`).toBeGreaterThanOrEqual(-250);
        expect(until - restarted.at, `${job.id} delayed until ${until}, restarted at ${restarted.at}`).toBeLessThanOrEqual(FIRST_RESTART_DELAY_MAX_MS + 1000);
      }
    }
    // The crashed batch resumed across the skewed workers.
    const crashedIds = new Set(crashed.map((job) => job.id));
    const failovers = snapshot.jobs.filter((job) => crashedIds.has(job.id)).reduce((sum, job) => sum + job.history.filter((entry) => entry.event === 'failover').length, 0);
    expect(failovers).toBeGreaterThan(0);

    console.info(
      `[chaos clock-skew] skew ±${CHAOS.skewMs} ms; ${healthy.length} healthy jobs, 0 false detections; detections (ms, timeout ${THRESHOLDS.updateTimeoutMs} + interval ${CHECK_INTERVAL_MS}): ` +
        `pdf ahead ${detectionMs(restartedAhead)}, scrape ahead ${detectionMs(failedAhead)}, pdf behind ${detectionMs(restartedBehind)}, import behind ${detectionMs(failedBehind)}; ` +
        `restart scheduled ${schedules.join(', ') || 'at once (handed back)'} ms after the restart; ${failovers} failovers of ${crashed.length} crashed-batch jobs; ${snapshot.alerts.length} alerts`,
    );
    expect(violations).toEqual([]);
  });
});
