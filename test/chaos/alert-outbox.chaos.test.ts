/**
 * Chaos — monitors dying mid-tick: hung scraping sessions and imports (failed when stuck, one
 * alert each) and a PDF hung once (restarted, one alert) under monitors that kill themselves
 * (SIGKILL) right after the failing transition, while delivering, and after Sentry took the
 * alert but before it was marked; a healthy monitor is started after each death. The receiver
 * must hold exactly one event per incident — counted by event id, as Sentry keeps them — and
 * every job must end as it should.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@kai-jobs/queue/testing';
import { openScenario, type EnqueuedRef, type Scenario } from './scenario.js';

const UPDATE_TIMEOUT_MS = 3000;
let scenario: Scenario;

beforeAll(async () => {
  scenario = await openScenario('alert-outbox', {
    workerEnv: { WORKER_TYPES: 'pdf,scrape,xml-import' },
    monitorEnv: {
      PDF_UPDATE_TIMEOUT_MS: String(UPDATE_TIMEOUT_MS),
      PDF_HEARTBEAT_TIMEOUT_MS: String(UPDATE_TIMEOUT_MS),
      SCRAPE_UPDATE_TIMEOUT_MS: String(UPDATE_TIMEOUT_MS),
      XML_IMPORT_UPDATE_TIMEOUT_MS: String(UPDATE_TIMEOUT_MS),
      MONITOR_ABORT_GRACE_MS: '1000',
    },
  });
});

afterAll(async () => {
  await scenario?.close();
});

describe('chaos: monitors killed at every point of a tick', () => {
  it('exactly one Sentry event per incident, every job ends as it should', async () => {
    const { fleet } = scenario;
    await fleet.startWorker('w1');
    const failing: EnqueuedRef[] = [
      await scenario.enqueueScrape('dying-scrape-1;holdalways:site_crawled'),
      await scenario.enqueueImport('dying-import-1;holdalways:feed_fetched'),
      await scenario.enqueueScrape('dying-scrape-2;holdalways:site_crawled'),
    ];
    const restarted = await scenario.enqueuePdf('dying-pdf;hold:tiles_generated');
    const healthy = [await scenario.enqueuePdf('healthy-1;sleep:100'), await scenario.enqueueScrape('healthy-s;sleep:100')];

    // Each doomed monitor dies at its point the first time a tick gets there; the next one follows.
    for (const point of ['after-state-change', 'while-delivering', 'after-send']) {
      const doomed = await fleet.startMonitor(`doomed-${point}`, { env: { KAI_MONITOR_CRASH_AT: point } });
      await waitFor(() => doomed.child.exitCode !== null || doomed.child.signalCode !== null, { timeoutMs: 30_000, message: `monitor dying ${point} never got there` });
      expect(doomed.child.signalCode, point).toBe('SIGKILL');
    }
    await fleet.startMonitor('survivor');
    await scenario.waitUntilSettled(60_000);
    // The survivor delivers what the dead left: wait for the outbox to drain.
    await waitFor(async () => (await Promise.all((['pdf', 'scrape', 'xml-import'] as const).map((type) => scenario.status.pendingAlerts(type)))).every((pending) => pending.length === 0), {
      timeoutMs: 15_000,
      message: 'the outbox was never drained',
    });
    const failedIds = new Set(failing.map((job) => job.id));
    const { violations } = await scenario.check({
      outcome: (job) => (failedIds.has(job.id) ? { status: 'failed', error: /^stuck: update_timeout/ } : { status: 'completed' }),
      alerts: (job) => (failedIds.has(job.id) || job.id === restarted.id ? 1 : 0),
    });
    expect(violations).toEqual([]);
    expect(healthy).toHaveLength(2);
  }, 180_000);
});
