import { Worker, type Job } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { Alerter, createMonitor, FailoverWatcher } from '@kai-jobs/monitor';
import {
  bullPrefix,
  closeRedis,
  ConnectionRole,
  jobCatalog,
  metricsKeys,
  RedisWorkerRegistryStore,
  waitForRedis,
  type PdfPayloadInput,
} from '@kai-jobs/queue';
import { useRedisTestContext, waitFor } from '@kai-jobs/queue/testing';
import { backdate, client, pdf, stores, syntheticRuntime } from '../../../test/e2e/helpers.js';
import { AUTH, startTestBoard } from './support.js';

const ctx = useRedisTestContext(import.meta.url);
const QUEUE = jobCatalog.pdf.queueName;
const MINUTE = 60_000;

/** The `data-stat` span of the PDF section's summary line, tags stripped. */
function pdfStat(page: string, stat: string): string {
  const section = page.slice(page.indexOf('id="type-pdf"'), page.indexOf('id="type-scrape"'));
  const span = new RegExp(`<span data-stat="${stat}">([\\s\\S]*?)</span>`).exec(section)?.[1] ?? '';
  return span.replace(/<[^>]+>/g, '').trim();
}

describe('monitoring page beside a recovery drill', () => {
  it('counts only production work while a drill runs beside a real stuck job, a failover and a shutdown hand-back', async () => {
    const jobs = client(ctx);
    const { status } = stores(ctx);

    // 1. A failover: a worker process (its named connection, registry entry and BullMQ lock) vanishes holding a job.
    await jobs.enqueue('pdf', pdf('plain'));
    const named = ctx.connection(ConnectionRole.Worker, 'kai-worker:w-dead');
    await waitForRedis(named, ctx.redisUrl, 5000);
    const bull = new Worker(QUEUE, null, { connection: ctx.connection(), prefix: bullPrefix(ctx.prefix, QUEUE), name: 'w-dead', autorun: false });
    const token = `${bull.id}:1`;
    const held = (await bull.getNextJob(token, { block: false })) as Job;
    const failedOverId = held.id as string;
    await status.markProcessing(failedOverId, { type: 'pdf', fence: token, workerId: 'w-dead', stage: 'text_extracted' });
    await bull.close();
    await new RedisWorkerRegistryStore({ connection: named, prefix: ctx.prefix }).register({
      workerId: 'w-dead',
      clientName: 'kai-worker:w-dead',
      host: 'test-host',
      pid: 4242,
      startedAt: Date.now(),
      queues: [QUEUE],
      bullWorkerIds: [bull.id],
      lockTokenPrefixes: [`${bull.id}:`],
    });
    await closeRedis(named);
    const watcher = ctx.track('failover watcher', new FailoverWatcher({ redis: ctx.redisOptions, graceMs: 0, checkIntervalMs: 50, leaseMs: 2000 }));
    await waitFor(async () => (await watcher.runOnce()).failedOver.length === 1);
    await watcher.stop();

    // 2. A shutdown hand-back: a worker holding a job shuts down with no grace.
    const leaving = await syntheticRuntime(ctx, 'w-leaving');
    const handedBack = await jobs.enqueue('pdf', pdf('hold:text_extracted'));
    await jobs.waitForResult(failedOverId, { timeoutMs: 15_000 });
    await waitFor(async () => (await status.get(handedBack.id))?.currentStage === 'text_extracted');
    await leaving.shutdown(0);
    await waitFor(async () => (await status.history(handedBack.id)).some((entry) => entry.event === 'shutdown:handed-back'));

    // 3. A real stuck production job beside the drill's canary, on a live worker.
    const worker = await syntheticRuntime(ctx, 'w-live', { heartbeatIntervalMs: 60_000 });
    await jobs.waitForResult(handedBack.id, { timeoutMs: 15_000 });
    const stuck = await jobs.enqueue('pdf', pdf('hold:text_extracted'));
    await waitFor(async () => (await status.get(stuck.id))?.currentStage === 'text_extracted');
    await backdate(ctx.redis, ctx.prefix, 'pdf', stuck.id, { updateMs: 6 * MINUTE });
    const monitor = ctx.track('monitor', createMonitor({ redis: ctx.redisOptions, alerter: ctx.manage('alerter', new Alerter()), backoff: { baseMs: 50, capMs: 100 } }));
    const drill = await monitor.drill({ updateTimeoutMs: 1000, timeoutMs: 30_000, pollIntervalMs: 50 });
    expect(drill.failure).toBeNull();
    await jobs.waitForResult(stuck.id, { timeoutMs: 15_000 });

    // The canary is labelled in its data and its id; its PDF is small.
    const canary = await jobs.queue('pdf').getJob(drill.jobId);
    const canaryData = canary?.data as PdfPayloadInput & { options: { drill?: unknown } };
    expect(drill.jobId).toMatch(/^drill-/);
    expect(canaryData.options.drill).toEqual({ hangOnceInStage: 'text_extracted' });
    expect(canaryData.source.kind === 'inline' ? canaryData.source.base64.length : 0).toBeLessThan(800);

    // The drill counted under its own keys: stuck once, restarted once, recovered, completed.
    const drillTotals = await ctx.redis.hgetall(metricsKeys(ctx.prefix, { drill: true }).totals('pdf'));
    expect(drillTotals).toMatchObject({ stuck: '1', 'recovery:restarted': '1', 'recovery:recovered': '1', completed: '1' });

    // A drill canary and a production job stuck right now: only the production one is counted.
    const drillPayload = { ...pdf('drill-now'), options: { drill: { hangOnceInStage: 'text_extracted' } } };
    for (const [id, payload] of [['drill-now', drillPayload], ['prod-now', pdf('prod-now')]] as const) {
      await status.create({ id, type: 'pdf', payload, refs: { documentId: id } });
      await status.markProcessing(id, { type: 'pdf', fence: `fence-${id}`, workerId: 'w-gone', stage: 'text_extracted' });
      await backdate(ctx.redis, ctx.prefix, 'pdf', id, { updateMs: 6 * MINUTE, heartbeatMs: 16 * MINUTE });
    }

    const board = await startTestBoard(ctx);
    const response = await fetch(new URL('monitoring', board.url), { headers: AUTH });
    expect(response.status).toBe(200);
    const page = await response.text();

    // Production figures: one stuck job found, one restart by the monitor (the drill's is not counted).
    expect(pdfStat(page, 'stuck')).toBe('1 stuck found');
    expect(pdfStat(page, 'recoveries')).toMatch(/^1 restarted, /);
    expect(pdfStat(page, 'failovers')).toBe('1 failovers');
    // Completed: the handed-back, the failed-over and the stuck job; not the canary.
    expect(pdfStat(page, 'completed')).toBe('3 completed');
    expect(page).toContain('data-field="stuck-count">1</span>');
    expect(page).toMatch(/<tr data-job-id="prod-now">/);
    expect(page).toMatch(/<tr data-job-id="drill-now" data-drill="true" class="drill">/);

    // Latest recoveries: the failover, the shutdown hand-back, the production restart and the labelled drill restart.
    const recoveries = page.slice(page.indexOf('id="recoveries"'), page.indexOf('id="threshold-advice"'));
    expect(recoveries).toMatch(new RegExp(`<tr data-job-id="${failedOverId}" data-source="hand-back" data-action="failover">`));
    expect(recoveries).toMatch(new RegExp(`<tr data-job-id="${handedBack.id}" data-source="hand-back" data-action="shutdown">`));
    expect(recoveries).toMatch(new RegExp(`<tr data-job-id="${stuck.id}" data-source="monitor" data-action="restart">`));
    expect(recoveries).toMatch(new RegExp(`<tr data-job-id="${drill.jobId}" data-source="monitor" data-action="restart" data-drill="true" class="drill">`));
    expect(recoveries).toContain('data-field="recoveries-count">3</span>');

    // Prometheus: the production counters only.
    const metrics = await (await fetch(new URL('metrics', board.url), { headers: AUTH })).text();
    expect(metrics).toMatch(/kai_jobs_stuck_total\{job_type="pdf",reason="update_timeout"\} 1\n/);
    expect(metrics).toMatch(/kai_jobs_recoveries_total\{job_type="pdf",outcome="restarted"\} 1\n/);
    expect(metrics).toMatch(/kai_jobs_completed_total\{job_type="pdf"\} 3\n/);
    await monitor.close();
    await worker.close();
  }, 90_000);
});
