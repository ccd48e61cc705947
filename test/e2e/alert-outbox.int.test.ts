/**
 * Exactly one Sentry event per incident, whatever point of a tick a monitor dies at: real
 * monitor processes (the monitor's own entry point) killed with SIGKILL at a chosen point
 * (KAI_MONITOR_CRASH_AT), then another monitor process delivering what the dead one left.
 * Events are counted from the local Sentry receiver, by distinct event id, never from the
 * monitor's own records.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Alerter, createMonitor } from '@kai-jobs/monitor';
import { startSentryReceiver, startUnresponsiveServer, type ReceivedEvent, type SentryReceiver } from '@kai-jobs/monitor/testing';
import { createJobClient, incidentEventId, RedisJobStore } from '@kai-jobs/queue';
import { testRedisUrl, useRedisTestContext, waitFor } from '@kai-jobs/queue/testing';
import { startWorkerProcess, stopWorkerProcess, type WorkerProcess } from '../../packages/workers/test/fixtures/worker-process.js';
import { backdate } from './helpers.js';

const MONITOR_BIN = fileURLToPath(new URL('../../packages/monitor/src/bin/monitor.ts', import.meta.url));
const INTERVAL_MS = 500;
const MINUTE = 60_000;

const ctx = useRedisTestContext(import.meta.url);
let receiver: SentryReceiver;
const processes: WorkerProcess[] = [];

beforeEach(async () => {
  receiver = await startSentryReceiver();
});
afterEach(async () => {
  for (const child of processes.splice(0)) await stopWorkerProcess(child);
  await receiver.close();
});

/** Starts a monitor process (the real entry point) on this test's prefix; resolves once it is ready. */
async function startMonitorProcess(name: string, env: Record<string, string> = {}): Promise<WorkerProcess> {
  const child = await startWorkerProcess({
    prefix: ctx.prefix,
    workerId: name,
    script: MONITOR_BIN,
    readyMessage: 'monitor ready',
    env: {
      REDIS_URL: testRedisUrl(),
      KAI_PREFIX: ctx.prefix,
      MONITOR_CHECK_INTERVAL_MS: String(INTERVAL_MS),
      SENTRY_DSN: receiver.dsn,
      LOG_LEVEL: 'info',
      ...env,
    },
  });
  processes.push(child);
  return child;
}

/** A scraping session whose worker is gone (no BullMQ job) and whose row has not moved for 31 min: the tick fails it and alerts. */
async function stuckSession(store: RedisJobStore, id: string): Promise<void> {
  await store.create({ id, type: 'scrape', payload: { sessionId: id, sourceUrl: 'https://example.com/' }, refs: { sessionId: id, sourceUrl: 'https://example.com/' } });
  await store.markProcessing(id, { fence: 'gone-attempt', workerId: 'gone-worker' });
  await backdate(ctx.redis, ctx.prefix, 'scrape', id, { updateMs: 31 * MINUTE });
}

function eventsOf(jobId: string): ReceivedEvent[] {
  return receiver.events.filter((event) => event.tags?.['job_id'] === jobId || event.tags?.['session_id'] === jobId || JSON.stringify(event.contexts ?? {}).includes(jobId));
}

describe('alert outbox: one Sentry event per incident when a monitor dies', () => {
  for (const point of ['after-state-change', 'while-delivering', 'after-send'] as const) {
    it(`a monitor killed ${point} leaves its alert to the next monitor: one event, delivered within one interval`, async () => {
      const store = new RedisJobStore({ connection: ctx.redis, prefix: ctx.prefix });
      const id = `session-${point}`;
      await stuckSession(store, id);
      const doomed = await startMonitorProcess('doomed', { KAI_MONITOR_CRASH_AT: point });
      expect(await doomed.exited).toBe('SIGKILL');
      // The transition committed with its alert, whatever the point.
      expect((await store.get(id))?.failureKind).toBe('stuck');
      const leftOver = await store.pendingAlerts('scrape');
      expect(leftOver.map((alert) => `${alert.jobId}:${alert.incident}`)).toEqual([`${id}:1`]);
      if (point === 'after-state-change') expect(eventsOf(id)).toEqual([]);

      // Two monitors now: both deliver the outbox, Sentry still gets one event.
      await Promise.all([startMonitorProcess('heir-1'), startMonitorProcess('heir-2')]);
      // Ready means ticking: the outbox is delivered by the first tick, within one interval (plus
      // Sentry's round trip and slack for a loaded test machine).
      const readyAt = Date.now();
      await waitFor(async () => (await store.pendingAlerts('scrape')).length === 0, { timeoutMs: 10_000, message: 'the outbox was never delivered' });
      await receiver.waitForEvents(1);
      expect(Date.now() - readyAt).toBeLessThan(INTERVAL_MS + 2_500);
      const ids = new Set(eventsOf(id).map((event) => event.event_id));
      expect([...ids]).toEqual([incidentEventId(id, 1)]);
      // Killed after Sentry took it, before the mark: the heirs sent it again, under the same id.
      if (point === 'after-send') expect(eventsOf(id).length).toBeGreaterThanOrEqual(2);
      expect(eventsOf(id)[0]?.fingerprint).toEqual(['stuck-scraping-session', 'https://example.com/']);
      // Only this incident was alerted, once; no other event of the job (e.g. a "processing failed") followed.
      expect(new Set(receiver.events.map((event) => event.event_id)).size).toBe(1);
    }, 60_000);
  }

  it('an alert raised while Sentry does not answer stays in the outbox and is delivered, once, when Sentry answers again', async () => {
    const store = new RedisJobStore({ connection: ctx.redis, prefix: ctx.prefix });
    await stuckSession(store, 'session-outage');
    const silent = await startUnresponsiveServer();
    try {
      const down = ctx.track('monitor (Sentry down)', createMonitor({ redis: ctx.redisOptions, alerter: ctx.manage('alerter', new Alerter({ dsn: silent.dsn, sendTimeoutMs: 300 })) }));
      const first = await down.runOnce();
      expect(first.decisions).toEqual([expect.objectContaining({ jobId: 'session-outage', action: 'fail', applied: true })]);
      // Still there after another tick against the silent Sentry.
      await down.runOnce();
      expect((await store.pendingAlerts('scrape')).map((alert) => alert.jobId)).toEqual(['session-outage']);
      expect(silent.connections()).toBeGreaterThan(0);
      await down.close();
    } finally {
      await silent.close();
    }
    const up = ctx.track('monitor (Sentry up)', createMonitor({ redis: ctx.redisOptions, alerter: ctx.manage('alerter', new Alerter({ dsn: receiver.dsn })) }));
    await up.runOnce();
    expect(await store.pendingAlerts('scrape')).toEqual([]);
    await up.runOnce();
    await receiver.waitForEvents(1);
    expect(receiver.events.map((event) => event.event_id)).toEqual([incidentEventId('session-outage', 1)]);
    await up.close();
  }, 30_000);
});

describe('alert outbox: a job that fails for good in a worker ("processing failed")', () => {
  it('yields exactly one Sentry event: the alert is written with the failure, a monitor killed between send and mark, two monitors ticking', async () => {
    const store = new RedisJobStore({ connection: ctx.redis, prefix: ctx.prefix });
    const jobs = ctx.manage('client', createJobClient({ redis: ctx.redisOptions }));
    processes.push(await startWorkerProcess({ prefix: ctx.prefix, workerId: `failing-${process.pid}` }));
    // The synthetic job throws a permanent error in its second stage: the real worker fails it for good.
    const { id } = await jobs.enqueue('pdf', { documentId: 'failhard:text_extracted', source: { kind: 'file', path: '/synthetic.pdf' } });
    await waitFor(async () => (await store.get(id))?.status === 'failed', { timeoutMs: 20_000, message: 'the job never failed' });
    expect(await store.get(id)).toMatchObject({ failureKind: 'processing', error: 'synthetic permanent failure in text_extracted' });
    // Written by the worker's failure itself, before any monitor ran.
    expect((await store.pendingAlerts('pdf')).map((alert) => `${alert.jobId}:${alert.incident}`)).toEqual([`${id}:1`]);
    expect((await store.history(id)).at(-1)).toMatchObject({ event: 'failed', failureKind: 'processing', incident: 1 });
    expect(receiver.events).toEqual([]);

    // Sentry takes it, the monitor dies before the mark.
    const doomed = await startMonitorProcess('doomed', { KAI_MONITOR_CRASH_AT: 'after-send' });
    expect(await doomed.exited).toBe('SIGKILL');
    expect((await store.pendingAlerts('pdf')).map((alert) => alert.jobId)).toEqual([id]);

    // Two monitors deliver what it left: the same event id again.
    await Promise.all([startMonitorProcess('heir-1'), startMonitorProcess('heir-2')]);
    await waitFor(async () => (await store.pendingAlerts('pdf')).length === 0, { timeoutMs: 10_000, message: 'the outbox was never delivered' });
    await receiver.waitForEvents(2);
    // More ticks add no other event — even a failure sweep that looks at the failed row: its
    // cursor dropped (a fresh deployment's first sweep), its first window (two intervals) covers it.
    await ctx.redis.del(`${ctx.prefix}:{monitor}:failure-cursor`);
    const extra = ctx.track(
      'monitor (extra ticks)',
      createMonitor({ redis: ctx.redisOptions, checkIntervalMs: 10 * MINUTE, alerter: ctx.manage('alerter', new Alerter({ dsn: receiver.dsn })) }),
    );
    await extra.runOnce();
    await extra.runOnce();
    await extra.close();
    expect(eventsOf(id).length).toBeGreaterThanOrEqual(2);
    expect(new Set(receiver.events.map((event) => event.event_id))).toEqual(new Set([incidentEventId(id, 1)]));
    expect(eventsOf(id)[0]?.message ?? JSON.stringify(eventsOf(id)[0]?.exception ?? {})).toContain('synthetic permanent failure in text_extracted');
  }, 60_000);
});
