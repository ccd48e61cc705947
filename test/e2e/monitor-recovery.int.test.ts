import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Alerter, createMonitor, RedisAlertDedupeStore, type Monitor, type MonitorOptions } from '@kai-jobs/monitor';
import { startSentryReceiver, startUnresponsiveServer, type SentryReceiver } from '@kai-jobs/monitor/testing';
import { Worker } from 'bullmq';
import { abortChannel, bullPrefix, incidentEventId, jobCatalog, processingFailureAlert, queueClockMs, statusKeys, WriteLagRegistry, type StatusStore } from '@kai-jobs/queue';
import { useRedisTestContext, waitFor } from '@kai-jobs/queue/testing';
import { backdate, client, failLikeStalledTooOften, pdf, readRuns, stores, syntheticOutput, syntheticRuntime } from './helpers.js';

const ctx = useRedisTestContext(import.meta.url);
let receiver: SentryReceiver;

beforeEach(async () => {
  receiver = await startSentryReceiver();
});
afterEach(async () => {
  await receiver.close();
});

function alerter(dsn = receiver.dsn): Alerter {
  return ctx.manage('alerter', new Alerter({ dsn, environment: 'test', dedupeStore: new RedisAlertDedupeStore({ connection: ctx.redis, prefix: ctx.prefix }) }));
}

function monitor(options: Partial<MonitorOptions> = {}): Monitor {
  return ctx.track('monitor', createMonitor({ redis: ctx.redisOptions, alerter: alerter(), backoff: { baseMs: 50, capMs: 200 }, ...options }));
}

const MINUTE = 60_000;

describe('monitor: detection and recovery', () => {
  for (const path of [
    { name: 'no update for 5 min (update timeout)', change: { updateMs: 6 * MINUTE }, reason: 'update_timeout' },
    { name: 'no heartbeat for 15 min (heartbeat timeout)', change: { heartbeatMs: 16 * MINUTE }, reason: 'heartbeat_timeout' },
  ] as const) {
    it(`a hung PDF job with ${path.name} is restarted from its checkpoint, with one alert`, async () => {
      const worker = await syntheticRuntime(ctx, 'w1', { heartbeatIntervalMs: 60_000 });
      const jobs = client(ctx);
      const { id } = await jobs.enqueue('pdf', pdf('hold:text_extracted'));
      await waitFor(async () => (await readRuns(ctx.redis, ctx.prefix)).some((run) => run.stage === 'text_extracted'));
      await backdate(ctx.redis, ctx.prefix, 'pdf', id, path.change);
      const watcher = monitor();
      const { decisions } = await watcher.runOnce();
      expect(decisions).toEqual([
        expect.objectContaining({ jobId: id, action: 'restart', reason: path.reason, classification: 'hung', checkpointStage: 'pdf_loaded', restartNumber: 1, applied: true }),
      ]);
      await jobs.waitForResult(id, { timeoutMs: 15_000 });
      const runs = (await readRuns(ctx.redis, ctx.prefix)).map((run) => `${run.stage}#${run.attempt}`);
      expect(runs).toEqual(['pdf_loaded#1', 'text_extracted#1', 'text_extracted#2', 'tiles_generated#2', 'embeddings_created#2', 'materials_extracted#2']);
      const { status } = stores(ctx);
      expect((await status.get(id))?.restartCount).toBe(1);
      const restarted = (await status.history(id)).find((entry) => entry.event === 'recovery:restarted');
      expect(restarted).toMatchObject({ reason: path.reason, stage: 'text_extracted', workerId: 'w1', checkpointUsed: 'pdf_loaded', restartNumber: 1 });
      expect(restarted?.['lastHeartbeat']).toEqual(expect.any(Number));
      expect(restarted?.['lastUpdate']).toEqual(expect.any(Number));
      const [event] = await receiver.waitForEvents(1);
      expect(event?.fingerprint).toEqual(['stuck-job', path.reason]);
      expect(event?.tags).toMatchObject({ job_id: id, document_id: 'hold:text_extracted', error_type: 'stuck_job', failure_reason: path.reason });
      expect((await watcher.state().then((state) => state.recentDecisions()))[0]).toMatchObject({ jobId: id, action: 'restart' });
      // The job's BullMQ log (Bull Board's Logs tab): the monitor's restart and why, between the two attempts' lines.
      // The last lines land beside BullMQ's completion: wait for them.
      await waitFor(async () => (await jobs.queue('pdf').getJobLogs(id)).logs.at(-1)?.endsWith('completed in attempt 2') === true);
      const { logs } = await jobs.queue('pdf').getJobLogs(id);
      const story = logs.map((line) => line.replace(/^\S+Z /, ''));
      const restartLine = story.findIndex((line) => line.startsWith(`monitor: stuck (${path.reason}, `));
      expect(story[restartLine]).toMatch(/ in text_extracted\); hung: restart 1 of 3 from checkpoint pdf_loaded after a [\d.]+ m?s backoff$/);
      expect(story.slice(0, restartLine)).toEqual([
        'claimed by worker w1 (attempt 1)',
        'stage pdf_loaded started',
        'stage pdf_loaded checkpointed',
        'stage text_extracted started',
      ]);
      expect(story.slice(restartLine + 1)).toEqual([
        "stopped on the monitor's request in text_extracted: the job restarts from its last checkpoint",
        'claimed by worker w1 (attempt 2, after 1 restart): resumed from text_extracted, restored pdf_loaded from their checkpoints',
        'stage text_extracted started',
        'stage text_extracted checkpointed',
        'stage tiles_generated started',
        'stage tiles_generated checkpointed',
        'stage embeddings_created started',
        'stage embeddings_created checkpointed',
        'stage materials_extracted started',
        'stage materials_extracted checkpointed',
        'completed in attempt 2',
      ]);
      await watcher.close();
      await worker.close();
    }, 40_000);
  }

  it('a job BullMQ failed ("stalled more than allowable limit") is retried from its checkpoint', async () => {
    const jobs = client(ctx);
    const id = await failLikeStalledTooOften(ctx, jobs, 'plain');
    expect(await (await jobs.queue('pdf').getJob(id))?.getState()).toBe('failed');
    await backdate(ctx.redis, ctx.prefix, 'pdf', id, { updateMs: 6 * MINUTE });
    const watcher = monitor();
    const { decisions } = await watcher.runOnce();
    expect(decisions).toEqual([expect.objectContaining({ jobId: id, action: 'restart', classification: 'failed_by_bullmq', applied: true })]);
    const worker = await syntheticRuntime(ctx);
    await jobs.waitForResult(id, { timeoutMs: 15_000 });
    expect((await readRuns(ctx.redis, ctx.prefix)).map((run) => run.stage)).toEqual(['text_extracted', 'tiles_generated', 'embeddings_created', 'materials_extracted']);
    await watcher.close();
    await worker.close();
  }, 40_000);

  it('a running row whose BullMQ job is gone is re-added under the same id and resumes', async () => {
    const { status, checkpoints } = stores(ctx);
    await status.create({ id: 'lost-1', type: 'pdf', payload: pdf('plain'), refs: { documentId: 'plain' } });
    await status.markProcessing('lost-1', { fence: 'f-gone', workerId: 'gone' });
    await checkpoints.saveCheckpoint({ id: 'lost-1', type: 'pdf' }, { stage: 'pdf_loaded', stageIndex: 0, data: syntheticOutput('pdf_loaded', 0, 'plain'), fence: 'f-gone', schemaVersion: 1, attempt: 1 });
    await backdate(ctx.redis, ctx.prefix, 'pdf', 'lost-1', { heartbeatMs: 16 * MINUTE, updateMs: 16 * MINUTE });
    const watcher = monitor();
    const { decisions } = await watcher.runOnce();
    expect(decisions).toEqual([expect.objectContaining({ jobId: 'lost-1', action: 'restart', classification: 'lost', reason: 'heartbeat_timeout' })]);
    const worker = await syntheticRuntime(ctx);
    const jobs = client(ctx);
    await jobs.waitForResult('lost-1', { timeoutMs: 15_000 });
    expect((await readRuns(ctx.redis, ctx.prefix)).map((run) => run.stage)[0]).toBe('text_extracted');
    await watcher.close();
    await worker.close();
  }, 40_000);

  for (const skewMs of [10 * MINUTE, -10 * MINUTE]) {
    it(`a monitor whose clock is ${skewMs / MINUTE} min off re-adds a lost job with its backoff counted on Redis's clock`, async () => {
      const { status, checkpoints } = stores(ctx);
      await status.create({ id: 'lost-skew', type: 'pdf', payload: pdf('plain'), refs: { documentId: 'plain' } });
      await status.markProcessing('lost-skew', { fence: 'f-gone', workerId: 'gone' });
      await checkpoints.saveCheckpoint({ id: 'lost-skew', type: 'pdf' }, { stage: 'pdf_loaded', stageIndex: 0, data: syntheticOutput('pdf_loaded', 0, 'plain'), fence: 'f-gone', schemaVersion: 1, attempt: 1 });
      await backdate(ctx.redis, ctx.prefix, 'pdf', 'lost-skew', { heartbeatMs: 16 * MINUTE, updateMs: 16 * MINUTE });
      const realNow = Date.now.bind(Date);
      // The monitor's process clock (what BullMQ dates the re-added job with) runs off; Redis's does not.
      vi.spyOn(Date, 'now').mockImplementation(() => realNow() + skewMs);
      try {
        const watcher = monitor({ backoff: { baseMs: 3000, capMs: 3000, jitterRatio: 0 } });
        const before = await queueClockMs(ctx.redis);
        const { decisions } = await watcher.runOnce();
        expect(decisions).toEqual([expect.objectContaining({ jobId: 'lost-skew', action: 'restart', classification: 'lost', delayMs: 3000, applied: true })]);
        const score = await ctx.redis.zscore(client(ctx).queue('pdf').keys.delayed as string, 'lost-skew');
        // BullMQ packs a counter into the low 12 bits of the score.
        const dueIn = Math.floor(Number(score) / 0x1000) - before;
        expect(dueIn).toBeGreaterThanOrEqual(3000);
        expect(dueIn).toBeLessThanOrEqual(4000);
        await watcher.close();
      } finally {
        vi.restoreAllMocks();
      }
    });
  }

  for (const path of [
    { reason: 'heartbeat_timeout', change: { heartbeatMs: 16 * MINUTE }, action: 'leave' },
    { reason: 'update_timeout', change: { updateMs: 6 * MINUTE }, action: 'restart' },
  ] as const) {
    it(`a heartbeat landing while the tick runs ${path.action === 'leave' ? 'clears' : 'does not clear'} a ${path.reason} candidate`, async () => {
      // Found by the chaos suite's Supabase outage: workers' buffered heartbeats landed while a
      // slow tick went through its candidates, and the monitor restarted healthy jobs on the
      // snapshot it took at the start (its compare-and-set checks the fence, not the times).
      const worker = await syntheticRuntime(ctx, 'w1', { heartbeatIntervalMs: 60_000 });
      const jobs = client(ctx);
      const { id } = await jobs.enqueue('pdf', pdf('hold:text_extracted'));
      await waitFor(async () => (await readRuns(ctx.redis, ctx.prefix)).some((run) => run.stage === 'text_extracted'));
      await backdate(ctx.redis, ctx.prefix, 'pdf', id, path.change);
      const { status } = stores(ctx);
      // The status store as the monitor sees it, with the worker's heartbeat landing right after the candidates were read.
      const racing = new Proxy(status, {
        get(target, property) {
          if (property === 'findStale') {
            return async (...args: Parameters<StatusStore['findStale']>) => {
              const found = await target.findStale(...args);
              for (const candidate of found) await target.heartbeat([{ id: candidate.row.id, type: candidate.row.type, fence: candidate.row.fence as string }]);
              return found;
            };
          }
          const value = Reflect.get(target, property, target) as unknown;
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
      const watcher = monitor({ store: racing });
      const { decisions } = await watcher.runOnce();
      expect(decisions).toEqual([expect.objectContaining({ jobId: id, reason: path.reason, action: path.action })]);
      if (path.action === 'leave') {
        expect(decisions[0]?.why).toBe('its row moved while the tick ran (a heartbeat or progress landed): judged again at the next check');
        expect((await status.get(id))?.restartCount).toBe(0);
      }
      await jobs.cancel(id, 'test over');
      await watcher.close();
      await worker.close();
    });
  }

  it('a long-queued job just taken by a worker whose claim has not landed yet is left alone, not aborted', async () => {
    // Found by the chaos suite's Supabase outage: claims were held up for the outage's length, and
    // the monitor took every such job for one "restarted, but the old attempt still holds the job"
    // and aborted the new, healthy attempt (unnamed abort requests stopped whatever attempt ran).
    const jobs = client(ctx);
    const { id } = await jobs.enqueue('pdf', pdf('plain'));
    await backdate(ctx.redis, ctx.prefix, 'pdf', id, { updateMs: 6 * MINUTE });
    const aborts: string[] = [];
    const subscriber = ctx.connection();
    await subscriber.subscribe(abortChannel(ctx.prefix));
    subscriber.on('message', (_channel: string, message: string) => aborts.push(message));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let taken!: () => void;
    const isTaken = new Promise<void>((resolve) => (taken = resolve));
    // A worker that took the job and has not written its claim (the row stays pending).
    const claiming = new Worker(
      jobCatalog.pdf.queueName,
      async () => {
        taken();
        await released;
      },
      { connection: ctx.connection(), prefix: bullPrefix(ctx.prefix, jobCatalog.pdf.queueName), lockDuration: 30_000 },
    );
    try {
      await isTaken;
      const watcher = monitor();
      const { decisions } = await watcher.runOnce();
      expect(decisions).toEqual([expect.objectContaining({ jobId: id, action: 'leave', classification: 'hung', why: 'pending and active in BullMQ: a new attempt is claiming it' })]);
      expect(decisions[0]?.resendAbort).toBeUndefined();
      await watcher.close();
      // Published messages reach the subscriber in order: a ping after the tick flushes anything before it.
      await ctx.redis.publish(abortChannel(ctx.prefix), 'flush');
      await waitFor(() => aborts.includes('flush'));
      expect(aborts).toEqual(['flush']);
    } finally {
      release();
      await claiming.close();
    }
  });

  it('a restarted job whose stopped attempt missed its abort is asked again, by that attempt\'s fence', async () => {
    const worker = await syntheticRuntime(ctx, 'w1', { heartbeatIntervalMs: 60_000 });
    const jobs = client(ctx);
    const { id } = await jobs.enqueue('pdf', pdf('holdalways:text_extracted'));
    await waitFor(async () => (await readRuns(ctx.redis, ctx.prefix)).some((run) => run.stage === 'text_extracted'));
    const { status } = stores(ctx);
    const fence = (await status.get(id))?.fence;
    // A restart whose abort request the attempt never got: the row is pending, the attempt still runs.
    await status.recover(id, { expectedFence: fence ?? null, expectedRestartCount: 0, action: 'restart', history: { event: 'recovery:restarted', stoppedFence: fence } });
    await backdate(ctx.redis, ctx.prefix, 'pdf', id, { updateMs: 6 * MINUTE });
    const watcher = monitor();
    const { decisions } = await watcher.runOnce();
    expect(decisions).toEqual([expect.objectContaining({ jobId: id, action: 'leave', resendAbort: true, abortFence: fence })]);
    // The attempt stops and hands the job back; the next attempt resumes after pdf_loaded.
    await waitFor(async () => (await readRuns(ctx.redis, ctx.prefix)).filter((run) => run.stage === 'text_extracted').length === 2, { timeoutMs: 10_000 });
    await jobs.cancel(id, 'test over');
    await watcher.close();
    await worker.close();
  });

  it('a pending row with no BullMQ job (a crash between row and job) is re-added, not counted as a restart', async () => {
    const { status } = stores(ctx);
    await status.create({ id: 'orphan', type: 'pdf', payload: pdf('plain'), refs: { documentId: 'plain' } });
    await backdate(ctx.redis, ctx.prefix, 'pdf', 'orphan', { updateMs: 6 * MINUTE });
    const watcher = monitor();
    const { decisions } = await watcher.runOnce();
    expect(decisions).toEqual([expect.objectContaining({ jobId: 'orphan', action: 'readd', reason: 'pending_without_job' })]);
    const worker = await syntheticRuntime(ctx);
    await client(ctx).waitForResult('orphan', { timeoutMs: 15_000 });
    expect((await status.get('orphan'))?.restartCount).toBe(0);
    expect(receiver.events).toEqual([]);
    await watcher.close();
    await worker.close();
  }, 40_000);

  it('the fourth stuck episode of a PDF job fails it and alerts once', async () => {
    const { status, checkpoints } = stores(ctx);
    await status.create({ id: 'tired', type: 'pdf', payload: pdf('plain'), refs: { documentId: 'plain' } });
    await status.markProcessing('tired', { fence: 'f4', workerId: 'w' });
    await checkpoints.saveCheckpoint({ id: 'tired', type: 'pdf' }, { stage: 'pdf_loaded', stageIndex: 0, data: syntheticOutput('pdf_loaded', 0, 'plain'), fence: 'f4', schemaVersion: 1, attempt: 1 });
    await ctx.redis.hset(statusKeys(ctx.prefix, 'pdf').row('tired'), 'restart_count', 3);
    await backdate(ctx.redis, ctx.prefix, 'pdf', 'tired', { updateMs: 6 * MINUTE });
    const alerts = alerter();
    const watcher = monitor({ alerter: alerts });
    const { decisions } = await watcher.runOnce();
    expect(decisions).toEqual([expect.objectContaining({ jobId: 'tired', action: 'fail', why: 'lost: restart limit reached (3 of 3)' })]);
    expect(await status.get('tired')).toMatchObject({ status: 'failed', error: expect.stringMatching(/^stuck: update_timeout/) });
    const [event] = await receiver.waitForEvents(1);
    expect(event?.fingerprint).toEqual(['stuck-job', 'update_timeout']);
    // The next tick neither acts again nor sends a "processing failed" alert for a stuck failure.
    expect((await watcher.runOnce()).decisions).toEqual([]);
    await alerts.flush();
    expect(receiver.events).toHaveLength(1);
    await watcher.close();
  });

  it('stuck scraping sessions and imports are failed with their own alerts and fingerprints', async () => {
    const { status } = stores(ctx);
    await status.create({ id: 'sess', type: 'scrape', payload: {}, refs: { sessionId: 'sess', sourceUrl: 'https://shop.example/', backgroundJobId: 'bg-1' } });
    await status.create({ id: 'imp', type: 'xml-import', payload: {}, refs: { importJobId: 'imp', sourceName: 'acme-feed', backgroundJobId: 'bg-2' } });
    for (const id of ['sess', 'imp']) await status.markProcessing(id, { fence: 'f', workerId: 'w' });
    await status.progress('sess', 'f', { status: 'scraping', counters: { total_pages: 40, completed_pages: 12, failed_pages: 1 } });
    await backdate(ctx.redis, ctx.prefix, 'scrape', 'sess', { updateMs: 31 * MINUTE });
    await backdate(ctx.redis, ctx.prefix, 'xml-import', 'imp', { updateMs: 21 * MINUTE });
    const watcher = monitor();
    const { decisions } = await watcher.runOnce();
    expect(decisions.map((d) => [d.jobId, d.action]).sort()).toEqual([['imp', 'fail'], ['sess', 'fail']]);
    const failedSession = await status.get('sess');
    expect(failedSession).toMatchObject({ status: 'failed', counters: { total_pages: 40, completed_pages: 12 } });
    // The session's linked background_jobs row is failed by the same recovery step, with its error.
    expect(await status.linkedJob('bg-1')).toMatchObject({
      status: 'failed',
      followsId: 'sess',
      error: failedSession?.error,
      completedAt: failedSession?.completedAt,
      updatedAt: failedSession?.updatedAt,
    });
    expect(failedSession?.error).toBeTruthy();
    const failedImport = await status.get('imp');
    expect(await status.linkedJob('bg-2')).toMatchObject({ status: 'failed', followsId: 'imp', error: failedImport?.error, completedAt: failedImport?.completedAt });
    const events = await receiver.waitForEvents(2);
    const byFingerprint = Object.fromEntries(events.map((event) => [String((event.fingerprint as string[])[0]), event]));
    expect(byFingerprint['stuck-scraping-session']?.fingerprint).toEqual(['stuck-scraping-session', 'https://shop.example/']);
    expect(byFingerprint['stuck-scraping-session']?.tags).toMatchObject({ session_id: 'sess', job_type: 'web_scraping', error_type: 'stuck_scraping_session' });
    expect(byFingerprint['stuck-import-job']?.fingerprint).toEqual(['stuck-import-job', 'acme-feed']);
    await watcher.close();
  });

  it('a worker reporting buffered status writes (a store outage) is not declared stuck', async () => {
    const { status, checkpoints } = stores(ctx);
    await status.create({ id: 'behind', type: 'pdf', payload: pdf('plain'), refs: { documentId: 'plain' } });
    await status.markProcessing('behind', { fence: 'f', workerId: 'w-behind' });
    await checkpoints.saveCheckpoint({ id: 'behind', type: 'pdf' }, { stage: 'pdf_loaded', stageIndex: 0, data: syntheticOutput('pdf_loaded', 0, 'plain'), fence: 'f', schemaVersion: 1, attempt: 1 });
    await backdate(ctx.redis, ctx.prefix, 'pdf', 'behind', { heartbeatMs: 16 * MINUTE, updateMs: 16 * MINUTE });
    await new WriteLagRegistry({ connection: ctx.redis, prefix: ctx.prefix }).publish('w-behind', { pendingJobs: 3, oldestPendingMs: 20 * MINUTE });
    const watcher = monitor();
    const { decisions } = await watcher.runOnce();
    expect(decisions).toEqual([expect.objectContaining({ jobId: 'behind', action: 'leave', why: expect.stringMatching(/buffered status writes/) })]);
    expect((await status.get('behind'))?.status).toBe('processing');
    await watcher.close();
  });

  it('two monitors ticking at once over the same stuck job give one recovery and one alert', async () => {
    const { status, checkpoints } = stores(ctx);
    await status.create({ id: 'race', type: 'pdf', payload: pdf('plain'), refs: { documentId: 'plain' } });
    await status.markProcessing('race', { fence: 'f', workerId: 'w' });
    await checkpoints.saveCheckpoint({ id: 'race', type: 'pdf' }, { stage: 'pdf_loaded', stageIndex: 0, data: syntheticOutput('pdf_loaded', 0, 'plain'), fence: 'f', schemaVersion: 1, attempt: 1 });
    await backdate(ctx.redis, ctx.prefix, 'pdf', 'race', { updateMs: 6 * MINUTE });
    const [a, b] = [monitor(), monitor()];
    const results = await Promise.all([a.runOnce(), b.runOnce()]);
    const applied = results.flatMap((result) => result.decisions).filter((d) => d.action === 'restart' && d.applied);
    expect(applied).toHaveLength(1);
    expect((await status.get('race'))?.restartCount).toBe(1);
    expect((await status.history('race')).filter((entry) => entry.event === 'recovery:restarted')).toHaveLength(1);
    await receiver.waitForEvents(1);
    await a.close();
    await b.close();
    // One incident, one Sentry event: both monitors may deliver the outbox entry before either
    // marks it sent, but under the one event id derived from the incident (Sentry keeps one).
    expect(new Set(receiver.events.map((event) => event.event_id))).toEqual(new Set([incidentEventId('race', 1)]));
  });

  it('alerts once on a job that failed for good, with its stage: from the outbox its failure wrote, not from the failure sweep', async () => {
    const { status } = stores(ctx);
    await status.create({ id: 'broken', type: 'pdf', payload: pdf('x'), refs: { documentId: 'doc-7' } });
    await status.markProcessing('broken', { fence: 'f', workerId: 'w', stage: 'tiles_generated' });
    // As the worker's final failure does: the alert goes to the outbox with the failure.
    await status.fail('broken', 'f', 'canvas exploded', null, { alert: processingFailureAlert({ error: 'canvas exploded', stage: 'tiles_generated', attempt: 1 }) });
    const watcher = monitor();
    // The sweep leaves a `processing` failure alone: its alert is the outbox's.
    expect((await watcher.runOnce()).summary.failureAlerts).toBe(0);
    const [event] = await receiver.waitForEvents(1);
    expect(event?.event_id).toBe(incidentEventId('broken', 1));
    expect(event?.fingerprint).toEqual(['pdf-processing-failed', 'tiles_generated']);
    expect(event?.tags).toMatchObject({ job_id: 'broken', document_id: 'doc-7', stage: 'tiles_generated' });
    expect((await watcher.runOnce()).summary.failureAlerts).toBe(0);
    await watcher.close();
    expect(receiver.events).toHaveLength(1);
  });

  it('still sweeps a failed row without a failure kind (failed by another writer): one alert', async () => {
    const { status } = stores(ctx);
    await status.create({ id: 'foreign-fail', type: 'pdf', payload: pdf('x'), refs: { documentId: 'doc-8' } });
    await status.markProcessing('foreign-fail', { fence: 'f', workerId: 'w', stage: 'tiles_generated' });
    await status.fail('foreign-fail', 'f', 'platform gave up');
    // A writer that is not kai-jobs' fail leaves no kind (e.g. the platform's own, or a row failed before the outbox).
    await ctx.redis.hdel(statusKeys(ctx.prefix, 'pdf').row('foreign-fail'), 'failure_kind');
    const watcher = monitor();
    expect((await watcher.runOnce()).summary.failureAlerts).toBe(1);
    const [event] = await receiver.waitForEvents(1);
    expect(event?.tags).toMatchObject({ job_id: 'foreign-fail', stage: 'tiles_generated' });
    expect((await watcher.runOnce()).summary.failureAlerts).toBe(0);
    await watcher.close();
    expect(receiver.events).toHaveLength(1);
  });

  it('checks in with Sentry Crons on every tick (in progress, then ok)', async () => {
    const watcher = monitor();
    await watcher.runOnce();
    const checkIns = await receiver.waitForCheckIns(2);
    expect(checkIns.map((checkIn) => checkIn['status'])).toEqual(['in_progress', 'ok']);
    expect(checkIns[0]?.['monitor_slug']).toBe('kai-jobs-monitor');
    expect(checkIns[1]?.['check_in_id']).toBe(checkIns[0]?.['check_in_id']);
    expect(checkIns[0]?.['monitor_config']).toMatchObject({ schedule: { type: 'interval', value: 1, unit: 'minute' } });
    await watcher.close();
  });

  it('an unreachable Sentry never slows or stops a tick', async () => {
    const blackhole = await startUnresponsiveServer();
    try {
      const { status } = stores(ctx);
      for (let i = 0; i < 5; i++) {
        await status.create({ id: `s${i}`, type: 'scrape', payload: {}, refs: { sessionId: `s${i}`, sourceUrl: 'https://a.example/' } });
        await status.markProcessing(`s${i}`, { fence: 'f', workerId: 'w' });
        await backdate(ctx.redis, ctx.prefix, 'scrape', `s${i}`, { updateMs: 31 * MINUTE });
      }
      const watcher = ctx.track('monitor', createMonitor({ redis: ctx.redisOptions, alerter: alerter(blackhole.dsn) }));
      const started = Date.now();
      const { summary } = await watcher.runOnce();
      expect(summary.failed).toBe(5);
      expect(Date.now() - started).toBeLessThan(3000);
      await watcher.close();
    } finally {
      await blackhole.close();
    }
  });
});
