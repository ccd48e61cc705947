import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  OutageTolerantJobStore,
  createMemoryLogger,
  processingFailureAlert,
  RedisJobStore,
  type OutageTolerantJobStoreOptions,
  type StaleFenceEvent,
  type WriteLag,
} from '../src/index.js';
import { useRedisTestContext, waitFor } from '../src/testing.js';
import { flakyJobStore, type FlakyJobStore } from './fixtures/flaky-job-store.js';

// OutageTolerantJobStore over a real Redis status store behind a switch that makes it refuse
// calls, hang, or lose replies — the ways an unreachable Supabase fails.
const ctx = useRedisTestContext(import.meta.url);

interface Setup {
  flaky: FlakyJobStore;
  real: RedisJobStore;
  store: OutageTolerantJobStore;
  stale: StaleFenceEvent[];
  lags: WriteLag[];
  logger: ReturnType<typeof createMemoryLogger>;
}

function setup(options: Partial<OutageTolerantJobStoreOptions> = {}): Setup {
  const real = new RedisJobStore({ connection: ctx.connection(), prefix: ctx.prefix });
  const flaky = flakyJobStore(real);
  const stale: StaleFenceEvent[] = [];
  const lags: WriteLag[] = [];
  const logger = createMemoryLogger();
  const store = ctx.manage(
    'buffered store',
    new OutageTolerantJobStore({
      store: flaky,
      writeTimeoutMs: 200,
      retryBaseMs: 10,
      retryCapMs: 50,
      claimTimeoutMs: 5000,
      closeTimeoutMs: 1000,
      lagReportIntervalMs: 50,
      onStaleFence: (event) => stale.push(event),
      onLag: (lag) => lags.push(lag),
      logger,
      ...options,
    }),
  );
  return { flaky, real, store, stale, lags, logger };
}

async function running(real: RedisJobStore, fence = 'f1'): Promise<string> {
  const id = randomUUID();
  await real.create({ id, type: 'pdf', payload: {} });
  await real.markProcessing(id, { fence, workerId: 'w1' });
  return id;
}

const caughtUp = (store: OutageTolerantJobStore) => () => store.writeLag().pendingJobs === 0;

describe('OutageTolerantJobStore', () => {
  it('writes through while the store answers', async () => {
    const { flaky, real, store, lags } = setup();
    const id = await running(real);
    await store.progress(id, 'f1', { percent: 10, stage: 'text_extracted' });
    expect((await real.get(id))?.progress).toBe(10);
    expect(flaky.callsOf('progress', id)).toBe(1);
    expect(store.writeLag()).toEqual({ pendingJobs: 0, oldestPendingMs: 0 });
    expect(lags).toEqual([]);
  });

  it('coalesces a job\'s writes while the store is down (latest wins) and replays one write per job', async () => {
    const { flaky, real, store } = setup();
    const a = await running(real);
    const b = await running(real);
    flaky.mode = 'down';
    for (let page = 1; page <= 20; page++) {
      await store.progress(a, 'f1', { percent: page * 4, detail: `page ${page}`, counters: { completed_pages: page } });
    }
    await store.progress(a, 'f1', { counters: { total_pages: 20 } });
    await store.progress(b, 'f1', { percent: 5 });
    await store.progress(b, 'f1', { stage: 'tiles_generated' });
    expect(store.writeLag().pendingJobs).toBe(2);
    const refusedWhileDown = flaky.calls.filter((call) => call.op === 'progress' && call.at === 'down').length;
    flaky.mode = 'up';
    await waitFor(caughtUp(store), { message: 'the buffer never drained' });
    expect(await real.get(a)).toMatchObject({ progress: 80, progressDetail: 'page 20', counters: { total_pages: 20, completed_pages: 20 } });
    expect(await real.get(b)).toMatchObject({ progress: 5, currentStage: 'tiles_generated' });
    const replayed = flaky.calls.filter((call) => call.op === 'progress' && call.at === 'up');
    expect(replayed.map((call) => call.id).sort()).toEqual([a, b].sort());
    expect(refusedWhileDown).toBeGreaterThanOrEqual(1);
  });

  it('applies a completion after the progress written before it, and returns a provisional row meanwhile', async () => {
    const { flaky, real, store } = setup();
    const id = randomUUID();
    await real.create({ id, type: 'pdf', payload: {} });
    await store.markProcessing(id, { fence: 'f1', workerId: 'w1' });
    flaky.mode = 'down';
    await store.progress(id, 'f1', { percent: 90, counters: { total_pages: 7, completed_pages: 7 } });
    const provisional = await store.complete(id, 'f1', { pages: 7 });
    expect(provisional).toMatchObject({ id, status: 'completed', progress: 100, result: { pages: 7 }, attempt: 1, workerId: 'w1' });
    expect((await real.get(id))?.status).toBe('processing');
    flaky.mode = 'up';
    await waitFor(caughtUp(store));
    expect(await real.get(id)).toMatchObject({ status: 'completed', progress: 100, result: { pages: 7 }, counters: { total_pages: 7, completed_pages: 7 } });
    const order = flaky.calls.filter((call) => call.id === id && call.at === 'up').map((call) => call.op);
    expect(order).toEqual(['markProcessing', 'progress', 'complete']);
    expect((await real.history(id)).map((entry) => entry.event)).toEqual(['created', 'processing', 'completed']);
  });

  it('keeps history in order and a failure behind it', async () => {
    const { flaky, real, store } = setup();
    const id = await running(real);
    flaky.mode = 'down';
    await store.appendHistory(id, { event: 'resumed', from: 'b' });
    await store.appendHistory(id, { event: 'checkpoint:invalid', stage: 'c' });
    await store.fail(id, 'f1', 'boom', 'c');
    flaky.mode = 'up';
    await waitFor(caughtUp(store));
    expect((await real.history(id)).map((entry) => entry.event)).toEqual(['created', 'processing', 'resumed', 'checkpoint:invalid', 'failed']);
    expect(await real.get(id)).toMatchObject({ status: 'failed', error: 'boom', errorStage: 'c' });
  });

  it("keeps a buffered failure's alert and replays both as one step (the alert outbox)", async () => {
    const { flaky, real, store } = setup();
    const id = await running(real);
    flaky.mode = 'down';
    await store.fail(id, 'f1', 'boom', 'c', { alert: processingFailureAlert({ error: 'boom', stage: 'c', attempt: 1 }) });
    expect(await real.pendingAlerts('pdf')).toEqual([]);
    flaky.mode = 'up';
    await waitFor(caughtUp(store));
    expect(await real.get(id)).toMatchObject({ status: 'failed', failureKind: 'processing' });
    const pending = await real.pendingAlerts('pdf');
    expect(pending.map((alert) => [alert.jobId, alert.incident, alert.alert['error']])).toEqual([[id, 1, 'boom']]);
  });

  it('stays within its bound by dropping the oldest progress-only entries, never a completion', async () => {
    const { flaky, real, store, logger } = setup({ maxPendingJobs: 2 });
    const [j1, j2, j3, j4] = [await running(real), await running(real), await running(real), await running(real)];
    flaky.mode = 'down';
    await store.complete(j1, 'f1', { n: 1 });
    await store.progress(j2, 'f1', { percent: 20 });
    await store.progress(j3, 'f1', { percent: 30 }); // full: j2's progress goes
    await store.fail(j4, 'f1', 'late failure'); // full again: j3's progress goes, never j1's completion
    expect(store.writeLag().pendingJobs).toBe(2);
    expect(logger.lines.filter((line) => line.message.startsWith('status write buffer full')).map((line) => line.fields['jobId'])).toEqual([j2, j3]);
    flaky.mode = 'up';
    await waitFor(caughtUp(store));
    expect((await real.get(j1))?.status).toBe('completed');
    expect((await real.get(j2))?.progress).toBe(0);
    expect((await real.get(j3))?.progress).toBe(0);
    expect((await real.get(j4))?.status).toBe('failed');
  });

  it('reports a replayed write refused for a superseded fence, so the runtime can abort that attempt', async () => {
    const { flaky, real, store, stale } = setup();
    const id = await running(real, 'f1');
    flaky.mode = 'down';
    await store.progress(id, 'f1', { percent: 40 });
    // Meanwhile another attempt took the job over.
    await real.markProcessing(id, { fence: 'f2', workerId: 'w2' });
    flaky.mode = 'up';
    await waitFor(() => stale.length > 0);
    expect(stale).toEqual([{ jobId: id, fence: 'f1', operation: 'progress' }]);
    expect(await real.get(id)).toMatchObject({ fence: 'f2', progress: 0 });
    expect(store.writeLag().pendingJobs).toBe(0);
  });

  it('treats a replayed completion refused as already finished as done (the first call landed, its reply was lost)', async () => {
    const { flaky, real, store, stale, logger } = setup();
    const id = await running(real);
    flaky.mode = 'lose-replies';
    await store.complete(id, 'f1', { ok: true });
    expect(store.writeLag().pendingJobs).toBe(1);
    flaky.mode = 'up';
    await waitFor(caughtUp(store));
    expect(flaky.callsOf('complete', id)).toBe(2);
    expect(stale).toEqual([]);
    expect(logger.lines.some((line) => line.message === 'buffered finish was already applied')).toBe(true);
    expect((await real.history(id)).filter((entry) => entry.event === 'completed')).toHaveLength(1);
    expect((await real.get(id))?.status).toBe('completed');
  });

  it('never holds a heartbeat while the store does not answer, and writes it once it does', async () => {
    const { flaky, real, store } = setup({ writeTimeoutMs: 100 });
    const id = await running(real);
    await real.heartbeat([{ id, type: 'pdf', fence: 'f1' }]);
    const before = (await real.get(id))?.lastHeartbeat as number;
    flaky.mode = 'hang';
    // The first call waits writeTimeoutMs for the hanging store; the next ones return at once.
    expect(await store.heartbeat([{ id, type: 'pdf', fence: 'f1' }])).toEqual({ rejected: [] });
    const hangingCalls = flaky.callsOf('heartbeat');
    expect(await store.heartbeat([{ id, type: 'pdf', fence: 'f1' }])).toEqual({ rejected: [] });
    expect(flaky.callsOf('heartbeat')).toBe(hangingCalls);
    expect(store.writeLag().pendingJobs).toBe(1);
    flaky.mode = 'up';
    await waitFor(caughtUp(store));
    expect((await real.get(id))?.lastHeartbeat).toBeGreaterThanOrEqual(before);
    expect(flaky.calls.filter((call) => call.op === 'heartbeat' && call.at === 'up').length).toBeGreaterThanOrEqual(1);
  });

  it('retries markProcessing until the store answers, without counting an attempt twice', async () => {
    const { flaky, real, store } = setup();
    const id = randomUUID();
    await real.create({ id, type: 'pdf', payload: {} });
    flaky.mode = 'down';
    const claim = store.markProcessing(id, { fence: 'f1', workerId: 'w1' });
    claim.catch(() => undefined);
    // Retries first look whether an earlier try landed.
    await waitFor(() => flaky.callsOf('get', id) >= 1);
    flaky.mode = 'lose-replies';
    await waitFor(() => flaky.calls.some((call) => call.op === 'markProcessing' && call.at === 'lose-replies'));
    flaky.mode = 'up';
    expect(await claim).toMatchObject({ id, status: 'processing', attempt: 1, fence: 'f1' });
    expect((await real.get(id))?.attempt).toBe(1);
  });

  it('fails a claim once claimTimeoutMs has passed, with the store\'s retryable error', async () => {
    const { flaky, store } = setup({ claimTimeoutMs: 200 });
    flaky.mode = 'down';
    await expect(store.markProcessing(randomUUID(), { fence: 'f1', workerId: 'w1' })).rejects.toMatchObject({ name: 'StoreError', retryable: true });
    await expect(store.create({ id: randomUUID(), type: 'pdf', payload: {} })).rejects.toMatchObject({ name: 'StoreError' });
  });

  it('flushJob applies one job\'s writes now, or throws while the store is down', async () => {
    const { flaky, real, store } = setup({ retryBaseMs: 60_000, retryCapMs: 60_000 });
    const id = await running(real);
    flaky.mode = 'down';
    await store.progress(id, 'f1', { percent: 55 });
    await expect(store.flushJob(id)).rejects.toMatchObject({ name: 'StoreError' });
    flaky.mode = 'up';
    // The background replay waits a minute (retryBaseMs): flushJob does not.
    await store.flushJob(id);
    expect((await real.get(id))?.progress).toBe(55);
    expect(store.writeLag().pendingJobs).toBe(0);
  });

  it('says how far behind it is: a warning and the gauge while behind, zero once caught up', async () => {
    const { flaky, real, store, lags, logger } = setup();
    const id = await running(real);
    flaky.mode = 'down';
    await store.progress(id, 'f1', { percent: 1 });
    await waitFor(() => lags.some((lag) => lag.oldestPendingMs >= 100));
    expect(lags[0]).toMatchObject({ pendingJobs: 1 });
    expect(logger.lines.some((line) => line.level === 'warn' && line.message === 'status writes are behind' && line.fields['pendingJobs'] === 1)).toBe(true);
    flaky.mode = 'up';
    await waitFor(() => lags.at(-1)?.pendingJobs === 0);
    expect(lags.at(-1)).toEqual({ pendingJobs: 0, oldestPendingMs: 0 });
    expect(logger.lines.some((line) => line.message === 'status writes caught up')).toBe(true);
  });

  it('counts a wait made outside it (a checkpoint retrying) as pending until it ends, after its own writes caught up', async () => {
    const { flaky, real, store, lags } = setup();
    const id = await running(real);
    flaky.mode = 'down';
    await store.progress(id, 'f1', { percent: 1 });
    const endWait = store.trackWait(id);
    flaky.mode = 'up';
    await waitFor(async () => (await real.get(id))?.progress === 1);
    // Its buffered write landed; the outside wait still holds the lag.
    await waitFor(() => lags.length > 0);
    expect(store.writeLag()).toMatchObject({ pendingJobs: 1 });
    expect(lags.at(-1)?.pendingJobs).toBe(1);
    endWait();
    endWait();
    expect(store.writeLag()).toEqual({ pendingJobs: 0, oldestPendingMs: 0 });
    await waitFor(() => lags.at(-1)?.pendingJobs === 0);
  });

  it('lets buffered writes land on close, and drops what cannot land within closeTimeoutMs', async () => {
    const { flaky, real, store, logger } = setup({ retryBaseMs: 60_000, retryCapMs: 60_000, closeTimeoutMs: 100 });
    const id = await running(real);
    flaky.mode = 'down';
    await store.progress(id, 'f1', { percent: 12 });
    flaky.mode = 'up';
    await store.close();
    expect((await real.get(id))?.progress).toBe(12);

    const second = setup({ closeTimeoutMs: 100 });
    const other = await running(second.real);
    second.flaky.mode = 'down';
    await second.store.progress(other, 'f1', { percent: 12 });
    await second.store.close();
    expect(second.logger.lines.some((line) => line.level === 'error' && line.message.startsWith('closing with status writes still pending'))).toBe(true);
    expect(logger.lines.some((line) => line.level === 'error')).toBe(false);
  });
});
