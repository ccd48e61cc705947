import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MonitorStateStore, type MonitorDecision, type TickSummary } from '@kai-jobs/monitor';
import { bullPrefix, ConnectionRole, createJobClient, RedisMetricsRecorder, RedisJobStore, type JobClient } from '@kai-jobs/queue';
import { useRedisTestContext, waitFor } from '@kai-jobs/queue/testing';
import { UnrecoverableError, Worker } from 'bullmq';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, launchChromium, PASSWORD, pdfPayload, startTestBoard, USER } from './support.js';

/** Screenshots are kept as test artifacts here (gitignored). */
const RESULTS_DIR = fileURLToPath(new URL('../test-results/', import.meta.url));
const BROWSER_TEST_MS = 90_000;

/** A promise and its resolve (Node 20 has no Promise.withResolvers). */
function gate(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

describe('board in Chromium', () => {
  const ctx = useRedisTestContext(import.meta.url);
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(RESULTS_DIR, { recursive: true });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  /** A page in a fresh browser context, with or without the operator's credentials. */
  async function openPage(withCredentials: boolean): Promise<Page> {
    const context = await browser.newContext({
      viewport: { width: 1400, height: 900 },
      ...(withCredentials ? { httpCredentials: { username: USER, password: PASSWORD } } : {}),
    });
    ctx.manage('browser context', context);
    // The board serves its fonts itself (test/security/board.int.test.ts proves no other host is asked).
    return context.newPage();
  }

  async function screenshot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: `${RESULTS_DIR}${name}.png`, fullPage: true });
  }

  function jobClient(): JobClient {
    return ctx.manage('job client', createJobClient({ redis: ctx.redisOptions }));
  }

  /** A failed PDF job (a worker throws UnrecoverableError), for the retry/clean buttons. */
  async function failedJob(): Promise<string> {
    const client = jobClient();
    const { id } = await client.enqueue('pdf', pdfPayload('doc-broken'));
    const worker = ctx.track(
      'failing worker',
      new Worker('pdf-processing', () => Promise.reject(new UnrecoverableError('not a PDF')), {
        connection: ctx.connection(ConnectionRole.Worker),
        prefix: bullPrefix(ctx.prefix, 'pdf-processing'),
      }),
    );
    await waitFor(async () => (await client.queue('pdf').getJobState(id)) === 'failed', { message: 'the job did not fail' });
    await worker.close();
    return id;
  }

  it('answers 401 without credentials', { timeout: BROWSER_TEST_MS }, async () => {
    const board = await startTestBoard(ctx);
    const page = await openPage(false);
    for (const path of ['', 'queue/pdf-processing', 'monitoring', 'metrics']) {
      const url = new URL(path, board.url).href;
      // Without credentials to answer the basic-auth challenge, Chromium ends the navigation
      // with ERR_INVALID_AUTH_CREDENTIALS; the response it got is the board's 401.
      const response = page.waitForResponse(url);
      await page.goto(url).catch((error: Error) => expect(error.message).toMatch(/ERR_INVALID_AUTH_CREDENTIALS/));
      expect((await response).status(), path).toBe(401);
      expect((await response).headers()['www-authenticate']).toMatch(/^Basic realm=/);
    }
    await screenshot(page, 'unauthenticated');
  });

  it('shows a job the test enqueued, and its progress moving', { timeout: BROWSER_TEST_MS }, async () => {
    const board = await startTestBoard(ctx);
    const enqueued = await fetch(new URL('api/jobs/pdf', board.url), {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify(pdfPayload('doc-progress')),
    });
    const { id } = (await enqueued.json()) as { id: string };

    // A tiny worker the test steps through: 20 %, then 70 % when told, then done when told.
    const store = new RedisJobStore({ connection: ctx.redis, prefix: ctx.prefix });
    const progress: number[] = [];
    const gates = [gate(), gate()] as const;
    const worker = ctx.track(
      'stepping worker',
      new Worker(
        'pdf-processing',
        async (job, token) => {
          const fence = token ?? 'no-token';
          await store.markProcessing(job.id as string, { type: 'pdf', fence, workerId: 'test-worker', stage: 'pdf_loaded' });
          for (const [index, percent] of [20, 70].entries()) {
            await job.updateProgress(percent);
            await store.progress(job.id as string, fence, { stage: index === 0 ? 'pdf_loaded' : 'text_extracted', percent });
            progress.push(percent);
            await gates[index]?.promise;
          }
          await store.complete(job.id as string, fence, { ok: true });
          return { ok: true };
        },
        { connection: ctx.connection(ConnectionRole.Worker), prefix: bullPrefix(ctx.prefix, 'pdf-processing') },
      ),
    );
    await waitFor(() => progress.includes(20), { message: 'the worker did not start the job' });

    const page = await openPage(true);
    await page.goto(new URL('queue/pdf-processing?status=active', board.url).href);
    const card = page.locator('main').filter({ hasText: id });
    await expect.poll(() => card.count(), { timeout: 20_000 }).toBeGreaterThan(0);
    await expect.poll(() => page.getByText('20%', { exact: true }).count(), { timeout: 20_000 }).toBe(1);
    await screenshot(page, 'board-progress-20');

    gates[0].resolve();
    // Bull Board polls the queue: the next poll shows the new progress without a reload.
    await expect.poll(() => page.getByText('70%', { exact: true }).count(), { timeout: 30_000 }).toBe(1);
    await screenshot(page, 'board-progress-70');
    const status = (await (await fetch(new URL(`api/jobs/${id}`, board.url), { headers: AUTH })).json()) as {
      row: { progress: number; currentStage: string; status: string };
      bullmq: { state: string };
    };
    expect(status).toMatchObject({ row: { progress: 70, currentStage: 'text_extracted', status: 'processing' }, bullmq: { state: 'active' } });

    gates[1].resolve();
    await waitFor(async () => (await store.get(id))?.status === 'completed', { message: 'the job did not complete' });
    await worker.close();
  });

  it('links the header to the monitoring page, which charts the test data', { timeout: BROWSER_TEST_MS }, async () => {
    // Metrics of the last hour, a monitor tick with a recovery, and a job stuck right now.
    const recorder = new RedisMetricsRecorder({ connection: ctx.redis, prefix: ctx.prefix });
    for (const durationMs of [1200, 2500, 4000]) await recorder.jobCompleted('pdf', durationMs);
    await recorder.jobFailed('pdf', 'text_extracted');
    await recorder.jobStuck('pdf', 'update_timeout');
    await recorder.recovery('pdf', 'restarted');
    await recorder.recovery('pdf', 'recovered');
    await recorder.failover('pdf', 'worker-alpha');
    await recorder.updateGaps('pdf', { maxUpdateGapMs: 40_000, maxHeartbeatGapMs: 30_000 });

    const store = new RedisJobStore({ connection: ctx.redis, prefix: ctx.prefix });
    const { id: stuckId } = await jobClient().enqueue('pdf', pdfPayload('doc-stuck'));
    await store.markProcessing(stuckId, { type: 'pdf', fence: 'fence-1', workerId: 'worker-hung', stage: 'text_extracted' });
    const storeNow = await store.now();
    // Backdate its last update by 10 minutes (the PDF update threshold is 5).
    await ctx.redis.zadd(store.keys('pdf').updateIndex, storeNow - 10 * 60_000, stuckId);

    const decision: MonitorDecision = {
      jobId: 'recovered-job-1',
      type: 'pdf',
      action: 'restart',
      reason: 'update_timeout',
      classification: 'hung',
      why: 'hung in text_extracted with a live lock; restarting from checkpoint pdf_loaded',
      restartNumber: 1,
      checkpointStage: 'pdf_loaded',
      lastHeartbeat: storeNow - 20_000,
      lastUpdate: storeNow - 6 * 60_000,
      stage: 'text_extracted',
      workerId: 'worker-beta',
      stuckForMs: 6 * 60_000,
    };
    const tick: TickSummary = {
      startedAt: Date.now(),
      durationMs: 35,
      storeNow,
      intervalMs: 60_000,
      candidates: 1,
      restarted: 1,
      failed: 0,
      readded: 0,
      left: 0,
      failureAlerts: 0,
      error: null,
      monitorId: 'monitor-test',
    };
    await new MonitorStateStore({ connection: ctx.redis, prefix: ctx.prefix }).recordTick(tick, [decision]);

    const board = await startTestBoard(ctx);
    const page = await openPage(true);
    await page.goto(board.url);
    // Bull Board's header links menu (uiConfig.miscLinks) → Monitoring.
    await page.locator('header ul[class*="actions"] > li').last().locator('button').click();
    await page.getByRole('menuitem', { name: 'Monitoring' }).click();
    await page.waitForURL(/\/monitoring$/);
    expect(await page.title()).toBe('kai-jobs · monitoring');
    expect(await page.locator('meta[http-equiv="refresh"]').getAttribute('content')).toBe('15');

    const pdf = page.locator('#type-pdf');
    expect(await pdf.locator('figure[data-chart="error-rate"] circle.point').count()).toBeGreaterThan(0);
    expect(await pdf.locator('figure[data-chart="error-rate"] circle.point').last().getAttribute('data-value')).toBe('0.25');
    // One stuck job in the current (partial) hour: one non-zero bar, its rate per hour.
    const stuckBars = await pdf
      .locator('figure[data-chart="stuck-frequency"] rect.point')
      .evaluateAll((bars) => bars.map((bar) => Number(bar.getAttribute('data-value'))));
    expect(stuckBars.filter((value) => value > 0)).toHaveLength(1);
    // Recoveries are counts per bucket over the whole window; the success rate is in the title.
    const recoveredBars = await pdf
      .locator('figure[data-chart="recovery-success"] rect.point[data-series="recovered"]')
      .evaluateAll((bars) => bars.map((bar) => Number(bar.getAttribute('data-value'))));
    expect(recoveredBars.length).toBeGreaterThan(20);
    expect(recoveredBars.filter((value) => value > 0)).toHaveLength(1);
    expect(await pdf.locator('figure[data-chart="recovery-success"] figcaption').innerText()).toContain('100 % ended recovered');
    expect(await pdf.locator('figure[data-chart="processing-time"] path.line').count()).toBe(3);
    expect(await pdf.locator('figure[data-chart="failures-by-stage"] g.bar[data-label="text_extracted"]').count()).toBe(1);
    expect(await pdf.locator('figure[data-chart="failovers-by-worker"] g.bar[data-label="worker-alpha"]').count()).toBe(1);
    expect(await pdf.locator('[data-stat="completed"]').innerText()).toBe('3 completed');
    // Types without data render empty charts, not errors.
    expect(await page.locator('#type-scrape figure[data-chart="error-rate"]').getAttribute('data-empty')).toBe('true');

    const stuckRow = page.locator(`#stuck-now tr[data-job-id="${stuckId}"]`);
    expect(await stuckRow.innerText()).toContain('update_timeout');
    expect(await stuckRow.locator('[data-field="age"]').innerText()).toMatch(/^10 min/);
    const recovery = page.locator('#recoveries tr[data-job-id="recovered-job-1"]');
    expect(await recovery.innerText()).toContain(decision.why);
    expect(await page.locator('#monitor-health').getAttribute('data-state')).toBe('ok');
    expect(await page.locator('#threshold-advice tr[data-type="pdf"][data-gap="update"]').innerText()).toContain('40 s');
    await screenshot(page, 'monitoring');

    // The stuck job links back to its page on the board.
    await stuckRow.locator('a.job-id').click();
    await page.waitForURL(new RegExp(`/queue/pdf-processing/${stuckId}$`));
    await expect.poll(() => page.getByText(stuckId).count(), { timeout: 20_000 }).toBeGreaterThan(0);
  });

  it('read-only: no retry, clean or remove buttons, and the API refuses mutations', { timeout: BROWSER_TEST_MS }, async () => {
    const id = await failedJob();
    const failedTab = (url: string): string => new URL('queue/pdf-processing?status=failed', url).href;
    const mutationControls = async (page: Page): Promise<number> =>
      (await page.getByRole('button', { name: /^(Retry all|Clean all)$/ }).count()) +
      (await page.locator('main svg.lucide-refresh-cw, main svg.lucide-trash-2').count());

    // Control: a writable board shows them for the same failed job.
    const writable = await startTestBoard(ctx);
    const writablePage = await openPage(true);
    await writablePage.goto(failedTab(writable.url));
    await expect.poll(() => writablePage.getByText(id).count(), { timeout: 20_000 }).toBeGreaterThan(0);
    await expect.poll(() => mutationControls(writablePage), { timeout: 20_000 }).toBeGreaterThanOrEqual(4);
    await screenshot(writablePage, 'writable-failed-job');

    const readOnly = await startTestBoard(ctx, { readOnly: true });
    const page = await openPage(true);
    await page.goto(failedTab(readOnly.url));
    await expect.poll(() => page.getByText(id).count(), { timeout: 20_000 }).toBeGreaterThan(0);
    expect(await mutationControls(page)).toBe(0);
    expect(await page.locator('main button[aria-haspopup="menu"]').count()).toBe(0);
    await screenshot(page, 'read-only-failed-job');

    // The browser's own requests (with its basic-auth credentials) are refused too.
    const statuses = await page.evaluate(async (jobId) => {
      const retry = await fetch(`api/queues/pdf-processing/${jobId}/retry`, { method: 'PUT' });
      const enqueue = await fetch('api/jobs/pdf', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ documentId: 'x', source: { kind: 'url', url: 'https://example.com/x.pdf' } }),
      });
      const read = await fetch(`api/jobs/${jobId}`);
      return [retry.status, enqueue.status, read.status];
    }, id);
    expect(statuses).toEqual([403, 403, 200]);
    expect(await jobClient().queue('pdf').getJobState(id)).toBe('failed');
  });
});
