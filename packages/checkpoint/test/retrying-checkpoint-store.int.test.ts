import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RedisStatusStore, StoreError } from '@kai-jobs/queue';
import { useRedisTestContext, waitFor } from '@kai-jobs/queue/testing';
import { RedisCheckpointStore, RetryingCheckpointStore, type CheckpointStore, type JobRef, type RetryingCheckpointStoreOptions } from '../src/index.js';

// RetryingCheckpointStore over a real Redis checkpoint store behind a switch that makes it
// refuse calls or lose replies — the ways an unreachable Supabase fails.
const ctx = useRedisTestContext(import.meta.url);

type Mode = 'up' | 'down' | 'lose-replies';

/** The real store behind a switch; counts the tries that reached it. */
function flaky(inner: CheckpointStore): CheckpointStore & { mode: Mode; tries: string[] } {
  const state = { mode: 'up' as Mode, tries: [] as string[] };
  const guard = async <T>(op: string, call: () => Promise<T>): Promise<T> => {
    const at = state.mode;
    state.tries.push(op);
    if (at === 'down') throw new StoreError(`${op}: the store is down (test)`, { retryable: true });
    const value = await call();
    if (at === 'lose-replies') throw new StoreError(`${op}: the reply was lost (test)`, { retryable: true });
    return value;
  };
  return Object.assign(state, {
    save: (job: JobRef, input: Parameters<CheckpointStore['save']>[1]) => guard('save', () => inner.save(job, input)),
    saveAndComplete: (job: JobRef, input: Parameters<CheckpointStore['saveAndComplete']>[1], result: unknown) =>
      guard('saveAndComplete', () => inner.saveAndComplete(job, input, result)),
    saveResumeState: (job: JobRef, input: Parameters<CheckpointStore['saveResumeState']>[1]) => guard('saveResumeState', () => inner.saveResumeState(job, input)),
    loadResumeState: (job: JobRef, stage: string) => guard('loadResumeState', () => inner.loadResumeState(job, stage)),
    list: (job: JobRef) => guard('list', () => inner.list(job)),
    latestValid: (job: JobRef, stages: Parameters<CheckpointStore['latestValid']>[1]) => guard('latestValid', () => inner.latestValid(job, stages)),
    clear: (job: JobRef) => guard('clear', () => inner.clear(job)),
    expire: (job: JobRef) => guard('expire', () => inner.expire(job)),
    close: () => inner.close(),
  });
}

async function setup(options: Partial<RetryingCheckpointStoreOptions> = {}) {
  const connection = ctx.connection();
  const status = new RedisStatusStore({ connection, prefix: ctx.prefix });
  const inner = flaky(new RedisCheckpointStore({ connection, prefix: ctx.prefix }));
  const flushed: string[] = [];
  const store = new RetryingCheckpointStore({
    store: inner,
    timeoutMs: 5000,
    backoff: { baseMs: 10, capMs: 40 },
    beforeWrite: async (job) => void flushed.push(job.id),
    ...options,
  });
  const job: JobRef = { id: randomUUID(), type: 'pdf' };
  await status.create({ id: job.id, type: 'pdf', payload: {} });
  await status.markProcessing(job.id, { fence: 'f1', workerId: 'w1' });
  return { status, inner, store, job, flushed };
}

const input = (stage = 'a', data: unknown = { n: 1 }) => ({ stage, stageIndex: 0, data, fence: 'f1', schemaVersion: 1, attempt: 1 });

describe('RetryingCheckpointStore', () => {
  it('waits out an outage: the save lands once the store answers, after the job\'s status writes', async () => {
    const { inner, store, job, flushed } = await setup();
    inner.mode = 'down';
    const saving = store.save(job, input());
    await waitFor(() => inner.tries.length >= 3);
    inner.mode = 'up';
    expect(await saving).toMatchObject({ stage: 'a', fence: 'f1' });
    expect((await inner.list(job)).map((checkpoint) => checkpoint.data)).toEqual([{ n: 1 }]);
    // beforeWrite ran before every try.
    expect(flushed.length).toBe(inner.tries.filter((op) => op === 'save').length);
  });

  it('fails with the store\'s last error once timeoutMs has passed', async () => {
    const { inner, store, job } = await setup({ timeoutMs: 150 });
    inner.mode = 'down';
    await expect(store.save(job, input())).rejects.toMatchObject({ name: 'StoreError', retryable: true });
    expect(inner.tries.length).toBeGreaterThan(1);
  });

  it('does not retry what retrying cannot fix', async () => {
    const { status, inner, store, job } = await setup();
    await status.markProcessing(job.id, { fence: 'f2', workerId: 'w2' });
    await expect(store.save(job, input())).rejects.toMatchObject({ name: 'StaleFenceError' });
    expect(inner.tries).toEqual(['save']);
  });

  it('a saveAndComplete whose first try landed (its reply lost) is done, not refused', async () => {
    const { status, inner, store, job } = await setup();
    inner.mode = 'lose-replies';
    const completing = store.saveAndComplete(job, input('c', { last: true }), { ok: 1 });
    await waitFor(() => inner.tries.length >= 1);
    inner.mode = 'up';
    await completing;
    expect(await status.get(job.id)).toMatchObject({ status: 'completed', result: { ok: 1 } });
    expect(inner.tries.filter((op) => op === 'saveAndComplete').length).toBeGreaterThanOrEqual(2);
  });

  it('a saveAndComplete refused because another attempt finished the job is still refused', async () => {
    const { status, inner, store, job } = await setup();
    inner.mode = 'down';
    const completing = store.saveAndComplete(job, input('c', { mine: true }), {}).catch((error: Error) => error);
    await waitFor(() => inner.tries.length >= 1);
    await status.complete(job.id, 'f1', { elsewhere: true });
    inner.mode = 'up';
    expect(await completing).toMatchObject({ name: 'InvalidTransitionError' });
  });

  it('reports each operation that waits for the store, once, until it ends — landed, failed or aborted', async () => {
    const waits: string[] = [];
    const onWait = (job: JobRef) => {
      waits.push(`start ${job.id}`);
      return () => waits.push(`end ${job.id}`);
    };
    const { inner, store, job } = await setup({ onWait });
    await store.save(job, input('a'));
    expect(waits).toEqual([]);
    inner.mode = 'down';
    const saving = store.save(job, input('b'));
    await waitFor(() => inner.tries.length >= 4);
    expect(waits).toEqual([`start ${job.id}`]);
    inner.mode = 'up';
    await saving;
    expect(waits).toEqual([`start ${job.id}`, `end ${job.id}`]);
    const failing = await setup({ onWait, timeoutMs: 100 });
    failing.inner.mode = 'down';
    await expect(failing.store.save(failing.job, input())).rejects.toMatchObject({ name: 'StoreError' });
    expect(waits.slice(2)).toEqual([`start ${failing.job.id}`, `end ${failing.job.id}`]);
  });

  it('stops waiting when the attempt is aborted', async () => {
    const controller = new AbortController();
    const { inner, store, job } = await setup({ timeoutMs: 60_000, backoff: { baseMs: 30_000, capMs: 30_000 }, signalOf: () => controller.signal });
    inner.mode = 'down';
    const saving = store.save(job, input()).catch((error: Error) => error);
    await waitFor(() => inner.tries.length >= 1);
    controller.abort(new Error('shutdown grace over'));
    expect(await saving).toMatchObject({ message: 'shutdown grace over' });
  });
});
