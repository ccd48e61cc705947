import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { OutageTolerantJobStore, RedisJobStore, type JobRef, type OutageTolerantJobStoreOptions } from '../src/index.js';
import { useRedisTestContext, waitFor } from '../src/testing.js';
import { flakyJobStore } from './fixtures/flaky-job-store.js';

// The checkpoint half of OutageTolerantJobStore over a real Redis job store behind a switch that
// makes it refuse calls or lose replies — the ways an unreachable Supabase fails. Checkpoints
// are retried, never buffered.
const ctx = useRedisTestContext(import.meta.url);

async function setup(options: Partial<OutageTolerantJobStoreOptions> = {}) {
  const connection = ctx.connection();
  const real = new RedisJobStore({ connection, prefix: ctx.prefix });
  const inner = flakyJobStore(real);
  const store = ctx.manage(
    'outage-tolerant store',
    new OutageTolerantJobStore({
      store: inner,
      writeTimeoutMs: 200,
      retryBaseMs: 10,
      retryCapMs: 50,
      closeTimeoutMs: 1000,
      checkpointTimeoutMs: 5000,
      checkpointRetryBaseMs: 10,
      checkpointRetryCapMs: 40,
      ...options,
    }),
  );
  const job: JobRef = { id: randomUUID(), type: 'pdf' };
  await real.create({ id: job.id, type: 'pdf', payload: {} });
  await real.markProcessing(job.id, { fence: 'f1', workerId: 'w1' });
  return { status: real, inner, store, job };
}

const input = (stage = 'a', data: unknown = { n: 1 }) => ({ stage, stageIndex: 0, data, fence: 'f1', schemaVersion: 1, attempt: 1 });

describe('OutageTolerantJobStore checkpoints', () => {
  it('waits out an outage: the save lands once the store answers, after the job\'s buffered status writes', async () => {
    const { status, inner, store, job } = await setup();
    inner.mode = 'down';
    // A progress write during the outage is buffered; the checkpoint must not overtake it.
    await store.progress(job.id, 'f1', { detail: 'before the checkpoint' });
    const saving = store.saveCheckpoint(job, input());
    await waitFor(() => inner.callsOf('saveCheckpoint') >= 3 || inner.callsOf('progress') >= 3);
    inner.mode = 'up';
    expect(await saving).toMatchObject({ stage: 'a', fence: 'f1' });
    expect((await status.listCheckpoints(job)).map((checkpoint) => checkpoint.data)).toEqual([{ n: 1 }]);
    expect((await status.get(job.id))?.progressDetail).toBe('before the checkpoint');
    const ops = inner.calls.filter((call) => call.at === 'up').map((call) => call.op);
    expect(ops.indexOf('progress')).toBeLessThan(ops.indexOf('saveCheckpoint'));
  });

  it('fails with the store\'s last error once checkpointTimeoutMs has passed', async () => {
    const { inner, store, job } = await setup({ checkpointTimeoutMs: 150 });
    inner.mode = 'down';
    await expect(store.saveCheckpoint(job, input())).rejects.toMatchObject({ name: 'StoreError', retryable: true });
    expect(inner.callsOf('saveCheckpoint')).toBeGreaterThan(1);
  });

  it('does not retry what retrying cannot fix', async () => {
    const { status, inner, store, job } = await setup();
    await status.markProcessing(job.id, { fence: 'f2', workerId: 'w2' });
    await expect(store.saveCheckpoint(job, input())).rejects.toMatchObject({ name: 'StaleFenceError' });
    expect(inner.callsOf('saveCheckpoint')).toBe(1);
  });

  it('a completeWithCheckpoint whose first try landed (its reply lost) is done, not refused', async () => {
    const { status, inner, store, job } = await setup();
    inner.mode = 'lose-replies';
    const completing = store.completeWithCheckpoint(job, input('c', { last: true }), { ok: 1 });
    await waitFor(() => inner.callsOf('completeWithCheckpoint') >= 1);
    inner.mode = 'up';
    await completing;
    expect(await status.get(job.id)).toMatchObject({ status: 'completed', result: { ok: 1 } });
    expect(inner.callsOf('completeWithCheckpoint')).toBeGreaterThanOrEqual(2);
  });

  it('a completeWithCheckpoint refused because another attempt finished the job is still refused', async () => {
    const { status, inner, store, job } = await setup();
    inner.mode = 'down';
    const completing = store.completeWithCheckpoint(job, input('c', { mine: true }), {}).catch((error: Error) => error);
    await waitFor(() => inner.callsOf('completeWithCheckpoint') >= 1);
    await status.complete(job.id, 'f1', { elsewhere: true });
    inner.mode = 'up';
    expect(await completing).toMatchObject({ name: 'InvalidTransitionError' });
  });

  it('counts a checkpoint waiting for the store in the write lag until it ends — landed or failed', async () => {
    const { inner, store, job } = await setup();
    await store.saveCheckpoint(job, input('a'));
    expect(store.writeLag().pendingJobs).toBe(0);
    inner.mode = 'down';
    const saving = store.saveCheckpoint(job, input('b'));
    await waitFor(() => inner.callsOf('saveCheckpoint') >= 4);
    expect(store.writeLag().pendingJobs).toBe(1);
    inner.mode = 'up';
    await saving;
    expect(store.writeLag().pendingJobs).toBe(0);
    const failing = await setup({ checkpointTimeoutMs: 100 });
    failing.inner.mode = 'down';
    await expect(failing.store.saveCheckpoint(failing.job, input())).rejects.toMatchObject({ name: 'StoreError' });
    expect(failing.store.writeLag().pendingJobs).toBe(0);
  });

  it('stops waiting when the attempt is aborted', async () => {
    const controller = new AbortController();
    const { inner, store, job } = await setup({
      checkpointTimeoutMs: 60_000,
      checkpointRetryBaseMs: 30_000,
      checkpointRetryCapMs: 30_000,
      signalOf: () => controller.signal,
    });
    inner.mode = 'down';
    const saving = store.saveCheckpoint(job, input()).catch((error: Error) => error);
    await waitFor(() => inner.callsOf('saveCheckpoint') >= 1);
    controller.abort(new Error('shutdown grace over'));
    expect(await saving).toMatchObject({ message: 'shutdown grace over' });
  });
});
