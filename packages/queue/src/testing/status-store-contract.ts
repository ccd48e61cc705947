import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { JobType } from '../catalog/index.js';
import type { CreateStatusInput, LinkedJobRow, StatusStore } from '../status/types.js';

/**
 * What a status-store adapter provides to run the contract suite: a fresh store per test
 * and a way to make a row look old by the store's own clock (backdating, not sleeping).
 */
export interface StatusStoreContractHarness {
  /** A fresh store (own prefix or schema); `cleanup` closes it and removes its data. */
  setup(): Promise<{ store: StatusStore; cleanup(): Promise<void> }>;
  /** Moves a row's heartbeat and/or update time `ms` into the past, indexes included. */
  backdate(store: StatusStore, id: string, change: { heartbeatMs?: number; updateMs?: number }): Promise<void>;
  /** The linked `background_jobs` row `backgroundJobId` of a session or import, read straight from the store; null if none. */
  linkedRow(store: StatusStore, backgroundJobId: string): Promise<LinkedJobRow | null>;
}

const MINUTE = 60_000;

function pdfInput(overrides: Partial<CreateStatusInput> = {}): CreateStatusInput {
  const documentId = randomUUID();
  return {
    id: randomUUID(),
    type: 'pdf',
    payload: { documentId, source: { kind: 'file', path: '/tmp/x.pdf' } },
    refs: { documentId },
    ...overrides,
  };
}

function scrapeInput(overrides: Partial<CreateStatusInput> = {}): CreateStatusInput {
  return {
    id: randomUUID(),
    type: 'scrape',
    payload: { sessionId: 's1', sourceUrl: 'https://example.com/' },
    refs: { sessionId: 's1', sourceUrl: 'https://example.com/', backgroundJobId: 'bg-1' },
    ...overrides,
  };
}

function importInput(overrides: Partial<CreateStatusInput> = {}): CreateStatusInput {
  const importJobId = randomUUID();
  return {
    id: randomUUID(),
    type: 'xml-import',
    payload: { importJobId, sourceName: 'acme-feed' },
    refs: { importJobId, sourceName: 'acme-feed', backgroundJobId: randomUUID() },
    ...overrides,
  };
}

/** A session or import linked to a fresh `background_jobs` id (a uuid, as the platform's). */
function linkedInput(type: 'scrape' | 'xml-import'): CreateStatusInput & { link: string } {
  const link = randomUUID();
  const input = type === 'scrape' ? scrapeInput() : importInput();
  return { ...input, refs: { ...input.refs, backgroundJobId: link }, link };
}

async function errorName(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return (error as Error).name;
  }
}

/**
 * The behaviour every {@link StatusStore} adapter must have. Call inside a test file:
 * `runStatusStoreContract('redis', harness)`. The Supabase adapter runs the same suite.
 */
export function runStatusStoreContract(adapterName: string, harness: StatusStoreContractHarness): void {
  const withStore = (name: string, body: (store: StatusStore) => Promise<void>, timeoutMs = 15_000): void => {
    it(
      name,
      async () => {
        const { store, cleanup } = await harness.setup();
        try {
          await body(store);
        } finally {
          await cleanup();
        }
      },
      timeoutMs,
    );
  };

  describe(`StatusStore contract: ${adapterName}`, () => {
    withStore('create makes a pending row with its refs, payload and a created history entry', async (store) => {
      const input = pdfInput({ heartbeatTimeoutMs: 5000 });
      const before = await store.now();
      const { row, created } = await store.create(input);
      expect(created).toBe(true);
      expect(row).toMatchObject({
        id: input.id,
        type: 'pdf',
        status: 'pending',
        attempt: 0,
        restartCount: 0,
        progress: 0,
        fence: null,
        refs: input.refs,
        payload: input.payload,
        heartbeatTimeoutMs: 5000,
        updateTimeoutMs: null,
      });
      expect(row.createdAt).toBeGreaterThanOrEqual(before - 1000);
      const history = await store.history(input.id);
      expect(history.map((entry) => entry.event)).toEqual(['created']);
      expect(await store.get(input.id)).toEqual(row);
      expect(await store.get(randomUUID())).toBeNull();
    });

    withStore('the same id or idempotency key twice gives the same row and no second one', async (store) => {
      const first = await store.create(pdfInput({ idempotencyKey: 'doc-42' }));
      const again = await store.create(pdfInput({ idempotencyKey: 'doc-42' }));
      expect(again.created).toBe(false);
      expect(again.row.id).toBe(first.row.id);
      expect(again.row.payload).toEqual(first.row.payload);
      const sameId = await store.create(pdfInput({ id: first.row.id }));
      expect(sameId.created).toBe(false);
      const pending = await store.list({ type: 'pdf', status: 'pending' });
      expect(pending.map((row) => row.id)).toEqual([first.row.id]);
    });

    withStore('createMany creates rows in order in one call', async (store) => {
      const inputs = [pdfInput(), pdfInput({ idempotencyKey: 'k' }), pdfInput({ idempotencyKey: 'k' })];
      const results = await store.createMany(inputs);
      expect(results.map((r) => r.created)).toEqual([true, true, false]);
      expect(results[2]?.row.id).toBe(results[1]?.row.id);
      expect(results[0]?.row.id).toBe(inputs[0]?.id);
    });

    withStore('markProcessing starts attempts with a new fence and worker each time', async (store) => {
      const { row } = await store.create(pdfInput());
      const first = await store.markProcessing(row.id, { fence: 'f1', workerId: 'w1', stage: 'pdf_loaded' });
      expect(first).toMatchObject({ status: 'processing', attempt: 1, fence: 'f1', workerId: 'w1', currentStage: 'pdf_loaded' });
      expect(first.lastHeartbeat).not.toBeNull();
      expect(first.startedAt).not.toBeNull();
      const second = await store.markProcessing(row.id, {
        fence: 'f2',
        workerId: 'w2',
        stage: 'tiles_generated',
        resumedFrom: 'tiles_generated',
      });
      expect(second).toMatchObject({ attempt: 2, fence: 'f2', workerId: 'w2', resumedFrom: 'tiles_generated' });
      expect(second.startedAt).toBe(first.startedAt);
      expect(await errorName(store.markProcessing(randomUUID(), { fence: 'x', workerId: 'w' }))).toBe('JobNotFoundError');
    });

    withStore('progress updates stage, percent, detail and counters; a stale fence is rejected', async (store) => {
      const { row } = await store.create(pdfInput());
      const started = await store.markProcessing(row.id, { fence: 'f1', workerId: 'w1' });
      await store.progress(row.id, 'f1', {
        stage: 'text_extracted',
        percent: 35.5,
        detail: 'page 3 of 10',
        counters: { total_pages: 10, completed_pages: 3 },
      });
      const updated = await store.get(row.id);
      expect(updated).toMatchObject({
        currentStage: 'text_extracted',
        progress: 35.5,
        progressDetail: 'page 3 of 10',
        counters: { total_pages: 10, completed_pages: 3 },
      });
      expect(updated?.updatedAt).toBeGreaterThanOrEqual(started.updatedAt);
      await store.markProcessing(row.id, { fence: 'f2', workerId: 'w2' });
      expect(await errorName(store.progress(row.id, 'f1', { percent: 50 }))).toBe('StaleFenceError');
      expect(await errorName(store.progress(row.id, 'f2', { percent: 101 }))).toBe('ValidationError');
      expect((await store.get(row.id))?.progress).toBe(35.5);
    });

    withStore('a scraping session moves processing → scraping through progress', async (store) => {
      const { row } = await store.create(scrapeInput());
      await store.markProcessing(row.id, { fence: 'f', workerId: 'w' });
      await store.progress(row.id, 'f', { status: 'scraping', counters: { total_pages: 5, failed_pages: 1 } });
      const scraping = await store.get(row.id);
      expect(scraping).toMatchObject({ status: 'scraping', counters: { total_pages: 5, failed_pages: 1 } });
      expect((await store.list({ type: 'scrape', status: 'scraping' })).map((r) => r.id)).toEqual([row.id]);
      await store.complete(row.id, 'f', { sessionId: 's1' });
      expect((await store.get(row.id))?.status).toBe('completed');
    });

    withStore('heartbeat writes many jobs at once and reports superseded ones', async (store) => {
      const rows = await store.createMany([pdfInput(), pdfInput(), scrapeInput()]);
      const ids = rows.map((r) => r.row.id) as [string, string, string];
      await store.markProcessing(ids[0], { fence: 'a', workerId: 'w' });
      await store.markProcessing(ids[1], { fence: 'b', workerId: 'w' });
      await store.markProcessing(ids[2], { fence: 'c', workerId: 'w' });
      await harness.backdate(store, ids[0], { heartbeatMs: 10 * MINUTE });
      const old = (await store.get(ids[0]))?.lastHeartbeat ?? 0;
      const result = await store.heartbeat([
        { id: ids[0], type: 'pdf', fence: 'a' },
        { id: ids[1], type: 'pdf', fence: 'stale' },
        { id: ids[2], type: 'scrape', fence: 'c' },
      ]);
      expect(result.rejected).toEqual([ids[1]]);
      expect((await store.get(ids[0]))?.lastHeartbeat).toBeGreaterThan(old + 9 * MINUTE);
      expect(await store.heartbeat([])).toEqual({ rejected: [] });
    });

    withStore('complete and fail finish a job once; later writes are refused', async (store) => {
      const done = await store.create(pdfInput());
      await store.markProcessing(done.row.id, { fence: 'f', workerId: 'w' });
      const completed = await store.complete(done.row.id, 'f', { pages: 3 });
      expect(completed).toMatchObject({ status: 'completed', progress: 100, result: { pages: 3 } });
      expect(completed.completedAt).not.toBeNull();
      expect(completed.durationMs).toBeGreaterThanOrEqual(0);
      expect(await errorName(store.complete(done.row.id, 'f', {}))).toBe('InvalidTransitionError');
      expect(await errorName(store.fail(done.row.id, 'f', 'late'))).toBe('InvalidTransitionError');
      expect(await errorName(store.complete(done.row.id, 'other', {}))).toBe('StaleFenceError');

      const bad = await store.create(pdfInput());
      await store.markProcessing(bad.row.id, { fence: 'g', workerId: 'w', stage: 'tiles_generated' });
      const failed = await store.fail(bad.row.id, 'g', 'render crashed');
      expect(failed).toMatchObject({ status: 'failed', error: 'render crashed', errorStage: 'tiles_generated' });
      const history = await store.history(bad.row.id);
      expect(history.map((entry) => entry.event)).toEqual(['created', 'processing', 'failed']);
    });

    withStore('cancel fails an unfinished job and fences off its running attempt', async (store) => {
      const { row } = await store.create(pdfInput());
      await store.markProcessing(row.id, { fence: 'f', workerId: 'w' });
      const cancelled = await store.cancel(row.id, 'operator request');
      expect(cancelled).toMatchObject({ status: 'failed', error: 'cancelled: operator request' });
      expect(await errorName(store.progress(row.id, 'f', { percent: 10 }))).toBe('StaleFenceError');
      expect(await store.cancel(row.id, 'again')).toBeNull();
    });

    withStore('a linked background_jobs row follows its scraping session from create to completed', async (store) => {
      const input = linkedInput('scrape');
      const { row } = await store.create(input);
      expect(await harness.linkedRow(store, input.link)).toMatchObject({
        id: input.link,
        jobType: 'scrape',
        followsId: row.id,
        status: 'pending',
        progress: 0,
        error: null,
        completedAt: null,
        createdAt: row.createdAt,
        refs: { sessionId: row.id },
      });
      const started = await store.markProcessing(row.id, { fence: 'f', workerId: 'w1', stage: 'crawl' });
      expect(await harness.linkedRow(store, input.link)).toMatchObject({
        status: 'processing',
        attempt: 1,
        workerId: 'w1',
        currentStage: 'crawl',
        startedAt: started.startedAt,
      });
      await store.progress(row.id, 'f', { status: 'scraping', percent: 40, detail: '2 of 5 pages', counters: { total_pages: 5 } });
      const scraping = await store.get(row.id);
      // background_jobs has no "scraping": the linked row shows processing, with the progress.
      expect(await harness.linkedRow(store, input.link)).toMatchObject({
        status: 'processing',
        progress: 40,
        progressDetail: '2 of 5 pages',
        updatedAt: scraping?.updatedAt,
      });
      await harness.backdate(store, row.id, { heartbeatMs: 10 * MINUTE });
      expect(await store.heartbeat([{ id: row.id, type: 'scrape', fence: 'f' }])).toEqual({ rejected: [] });
      const beaten = await store.get(row.id);
      expect((await harness.linkedRow(store, input.link))?.lastHeartbeat).toBe(beaten?.lastHeartbeat);

      const completed = await store.complete(row.id, 'f', { pages: 5 });
      expect(await harness.linkedRow(store, input.link)).toMatchObject({
        id: input.link,
        status: 'completed',
        progress: 100,
        error: null,
        errorStage: null,
        completedAt: completed.completedAt,
        updatedAt: completed.updatedAt,
        durationMs: completed.durationMs,
        createdAt: row.createdAt,
      });
      expect(completed.completedAt).not.toBeNull();
      // A session without a link has no background_jobs row under another session's id.
      expect(await harness.linkedRow(store, randomUUID())).toBeNull();
    });

    withStore('a linked background_jobs row is failed with its import, with the error and stage', async (store) => {
      const input = linkedInput('xml-import');
      const { row } = await store.create(input);
      await store.markProcessing(row.id, { fence: 'f', workerId: 'w1', stage: 'parse' });
      await store.progress(row.id, 'f', { percent: 25, counters: { total_products: 100, processed_products: 25 } });
      const failed = await store.fail(row.id, 'f', 'feed is not XML', 'parse');
      expect(await harness.linkedRow(store, input.link)).toMatchObject({
        id: input.link,
        jobType: 'xml-import',
        followsId: row.id,
        status: 'failed',
        error: 'feed is not XML',
        errorStage: 'parse',
        progress: 25,
        completedAt: failed.completedAt,
        updatedAt: failed.updatedAt,
        refs: { importJobId: row.id },
      });
    });

    withStore('cancelling a linked session or import fails its background_jobs row too', async (store) => {
      for (const type of ['scrape', 'xml-import'] as const) {
        const input = linkedInput(type);
        const { row } = await store.create(input);
        await store.markProcessing(row.id, { fence: 'f', workerId: 'w1' });
        const cancelled = await store.cancel(row.id, 'operator request');
        expect(await harness.linkedRow(store, input.link)).toMatchObject({
          status: 'failed',
          error: 'cancelled: operator request',
          completedAt: cancelled?.completedAt,
        });
      }
    });

    withStore('the monitor restarting or failing a stuck linked session or import moves its background_jobs row', async (store) => {
      for (const type of ['scrape', 'xml-import'] as const) {
        const input = linkedInput(type);
        const { row } = await store.create(input);
        await store.markProcessing(row.id, { fence: 'f1', workerId: 'w1', stage: 'fetch' });
        await store.progress(row.id, 'f1', { percent: 30 });
        const restarted = await store.recover(row.id, {
          expectedFence: 'f1',
          expectedRestartCount: 0,
          action: 'restart',
          history: { event: 'recovery:restarted', reason: 'update_timeout' },
        });
        expect(restarted.applied).toBe(true);
        expect(await harness.linkedRow(store, input.link)).toMatchObject({ status: 'pending', restartCount: 1, workerId: null });

        await store.markProcessing(row.id, { fence: 'f2', workerId: 'w2', stage: 'fetch' });
        await harness.backdate(store, row.id, { updateMs: 31 * MINUTE });
        const failing = await store.recover(row.id, {
          expectedFence: 'f2',
          expectedRestartCount: 1,
          action: 'fail',
          error: 'stuck: no update for 31 min',
          history: { event: 'recovery:failed', reason: 'update_timeout' },
        });
        expect(failing.applied).toBe(true);
        expect(await harness.linkedRow(store, input.link)).toMatchObject({
          id: input.link,
          followsId: row.id,
          status: 'failed',
          error: 'stuck: no update for 31 min',
          errorStage: 'fetch',
          progress: 30,
          attempt: 2,
          restartCount: 1,
          completedAt: failing.row?.completedAt,
          updatedAt: failing.row?.updatedAt,
        });
        expect(failing.row?.completedAt).not.toBeNull();
      }
    });

    withStore('findStale finds rows by heartbeat age and update age, by the store clock', async (store) => {
      const rows = await store.createMany([pdfInput(), pdfInput(), pdfInput(), pdfInput()]);
      const [crashed, hung, healthy, done] = rows.map((r) => r.row.id) as [string, string, string, string];
      for (const id of [crashed, hung, healthy, done]) await store.markProcessing(id, { fence: `f-${id}`, workerId: 'w' });
      await store.complete(done, `f-${done}`, {});
      await harness.backdate(store, crashed, { heartbeatMs: 16 * MINUTE, updateMs: 16 * MINUTE });
      await harness.backdate(store, hung, { updateMs: 6 * MINUTE });
      await harness.backdate(store, done, { heartbeatMs: 60 * MINUTE, updateMs: 60 * MINUTE });
      const stale = await store.findStale('pdf', { heartbeatOlderThanMs: 15 * MINUTE, updateOlderThanMs: 5 * MINUTE });
      const byId = new Map(stale.map((candidate) => [candidate.row.id, candidate]));
      expect([...byId.keys()].sort()).toEqual([crashed, hung].sort());
      expect(byId.get(crashed)?.reason).toBe('heartbeat_timeout');
      expect(byId.get(crashed)?.ageMs).toBeGreaterThanOrEqual(16 * MINUTE - 1000);
      expect(byId.get(hung)?.reason).toBe('update_timeout');
      expect(byId.get(hung)?.storeNow).toBeGreaterThan(0);
      const onlyUpdates = await store.findStale('pdf', { heartbeatOlderThanMs: null, updateOlderThanMs: 5 * MINUTE });
      expect(onlyUpdates.every((candidate) => candidate.reason === 'update_timeout')).toBe(true);
      expect(await store.findStale('scrape', { heartbeatOlderThanMs: null, updateOlderThanMs: 1 })).toEqual([]);
      const limited = await store.findStale('pdf', { heartbeatOlderThanMs: 15 * MINUTE, updateOlderThanMs: 5 * MINUTE, limit: 1 });
      expect(limited).toHaveLength(1);
    });

    withStore('per-job thresholds override the type thresholds in findStale', async (store) => {
      const canary = await store.create(pdfInput({ updateTimeoutMs: 2000 }));
      const patient = await store.create(pdfInput({ updateTimeoutMs: 60 * MINUTE }));
      const normal = await store.create(pdfInput());
      for (const { row } of [canary, patient, normal]) await store.markProcessing(row.id, { fence: 'f', workerId: 'w' });
      await harness.backdate(store, canary.row.id, { updateMs: 3000 });
      await harness.backdate(store, patient.row.id, { updateMs: 10 * MINUTE });
      await harness.backdate(store, normal.row.id, { updateMs: 10 * MINUTE });
      const stale = await store.findStale('pdf', { heartbeatOlderThanMs: null, updateOlderThanMs: 5 * MINUTE });
      expect(stale.map((candidate) => candidate.row.id).sort()).toEqual([canary.row.id, normal.row.id].sort());
    });

    withStore('deferCheck postpones a healthy row; pending rows are candidates too', async (store) => {
      const { row } = await store.create(pdfInput());
      await harness.backdate(store, row.id, { updateMs: 10 * MINUTE });
      const found = await store.findStale('pdf', { heartbeatOlderThanMs: null, updateOlderThanMs: 5 * MINUTE });
      expect(found.map((candidate) => [candidate.row.id, candidate.row.status])).toEqual([[row.id, 'pending']]);
      await store.deferCheck('pdf', [row.id]);
      expect(await store.findStale('pdf', { heartbeatOlderThanMs: null, updateOlderThanMs: 5 * MINUTE })).toEqual([]);
    });

    withStore('recover is compare-and-set: two racing recoveries give one', async (store) => {
      const { row } = await store.create(pdfInput());
      await store.markProcessing(row.id, { fence: 'f1', workerId: 'w1', stage: 'tiles_generated' });
      const attempt = (input: { action: 'restart' | 'fail' }) =>
        store.recover(row.id, {
          expectedFence: 'f1',
          expectedRestartCount: 0,
          action: input.action,
          error: 'stuck',
          history: { event: 'recovery:restarted', reason: 'update_timeout' },
        });
      const results = await Promise.all([attempt({ action: 'restart' }), attempt({ action: 'restart' })]);
      expect(results.filter((result) => result.applied)).toHaveLength(1);
      const after = await store.get(row.id);
      expect(after).toMatchObject({ status: 'pending', restartCount: 1, workerId: null });
      expect(after?.fence).not.toBe('f1');
      expect(await errorName(store.progress(row.id, 'f1', { percent: 90 }))).toBe('StaleFenceError');
      const events = (await store.history(row.id)).map((entry) => entry.event);
      expect(events.filter((event) => event === 'recovery:restarted')).toHaveLength(1);

      await store.markProcessing(row.id, { fence: 'f2', workerId: 'w2' });
      const failing = await store.recover(row.id, {
        expectedFence: 'f2',
        expectedRestartCount: 1,
        action: 'fail',
        error: 'stuck too often',
        history: { event: 'recovery:failed', reason: 'update_timeout' },
      });
      expect(failing.applied).toBe(true);
      expect(failing.row).toMatchObject({ status: 'failed', error: 'stuck too often', restartCount: 1 });
      const stale = await store.recover(row.id, {
        expectedFence: 'f2',
        expectedRestartCount: 1,
        action: 'restart',
        history: { event: 'recovery:restarted' },
      });
      expect(stale.applied).toBe(false);
      expect((await store.recover(randomUUID(), { expectedFence: null, expectedRestartCount: 0, action: 'fail', history: { event: 'x' } })).applied).toBe(false);
    });

    withStore('history keeps entries in order, stamped by the store clock', async (store) => {
      const { row } = await store.create(pdfInput());
      await store.appendHistory(row.id, { event: 'stall:detected', count: 1 });
      await store.appendHistory(row.id, { event: 'checkpoint:invalid', stage: 'text_extracted', reason: 'sha256 mismatch' });
      const history = await store.history(row.id);
      expect(history.map((entry) => entry.event)).toEqual(['created', 'stall:detected', 'checkpoint:invalid']);
      expect(history[2]).toMatchObject({ stage: 'text_extracted', reason: 'sha256 mismatch' });
      for (let i = 1; i < history.length; i++) {
        expect((history[i] as { at: number }).at).toBeGreaterThanOrEqual((history[i - 1] as { at: number }).at);
      }
      expect(Math.abs((history[0]?.at ?? 0) - (await store.now()))).toBeLessThan(60_000);
      expect(await errorName(store.appendHistory(randomUUID(), { event: 'x' }))).toBe('JobNotFoundError');
    });

    withStore('list returns rows of one type and status, newest first', async (store) => {
      const types: JobType[] = ['pdf', 'pdf', 'scrape'];
      const rows = [];
      for (const type of types) rows.push((await store.create(type === 'pdf' ? pdfInput() : scrapeInput())).row);
      await store.markProcessing((rows[0] as { id: string }).id, { fence: 'f', workerId: 'w' });
      const pending = await store.list({ type: 'pdf', status: 'pending' });
      expect(pending.map((row) => row.id)).toEqual([(rows[1] as { id: string }).id]);
      const processing = await store.list({ type: 'pdf', status: 'processing' });
      expect(processing.map((row) => row.id)).toEqual([(rows[0] as { id: string }).id]);
    });

    withStore('list with updatedAfter walks forward through rows that entered a status since a time', async (store) => {
      const created = await store.createMany([pdfInput(), pdfInput(), pdfInput()]);
      const [a, b, c] = created.map((r) => r.row.id) as [string, string, string];
      for (const id of [a, b, c]) await store.markProcessing(id, { fence: 'f', workerId: 'w' });
      await store.fail(a, 'f', 'first');
      const failedA = (await store.get(a))?.updatedAt as number;
      await store.fail(b, 'f', 'second');
      await store.fail(c, 'f', 'third');
      // Rows failed in the same millisecond may come in any order among themselves.
      const since = await store.list({ type: 'pdf', status: 'failed', updatedAfter: failedA - 1 });
      expect(since.map((row) => row.id).sort()).toEqual([a, b, c].sort());
      const updatedAts = since.map((row) => row.updatedAt);
      expect(updatedAts).toEqual([...updatedAts].sort((x, y) => x - y));
      const limited = await store.list({ type: 'pdf', status: 'failed', updatedAfter: failedA - 1, limit: 2 });
      expect(limited).toHaveLength(2);
      const lastSeen = since[since.length - 1]?.updatedAt as number;
      expect(await store.list({ type: 'pdf', status: 'failed', updatedAfter: lastSeen })).toEqual([]);
      const future = await store.list({ type: 'pdf', status: 'failed', updatedAfter: (await store.now()) + 60_000 });
      expect(future).toEqual([]);
    });
  });
}
