import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { bullPrefix, createJobClient, RedisJobStore, type JobClient } from '@kai-jobs/queue';
import { useRedisTestContext, waitFor } from '@kai-jobs/queue/testing';
import { readRuns, syntheticKeys } from './fixtures/synthetic-hooks.js';
import { startWorkerProcess, stopWorkerProcess, type WorkerProcess } from './fixtures/worker-process.js';

const ctx = useRedisTestContext(import.meta.url);
let processes: WorkerProcess[] = [];

afterEach(async () => {
  await Promise.all(processes.map((worker) => stopWorkerProcess(worker)));
  processes = [];
});

async function worker(name: string, env: Record<string, string> = {}): Promise<WorkerProcess> {
  const started = await startWorkerProcess({ prefix: ctx.prefix, workerId: `${name}-${process.pid}`, env });
  processes.push(started);
  return started;
}

function client(): JobClient {
  return ctx.manage('client', createJobClient({ redis: ctx.redisOptions, waitPollIntervalMs: 25 }));
}

const pdf = (documentId: string) => ({ documentId, source: { kind: 'file' as const, path: '/synthetic.pdf' } });

async function runsOf(jobId: string) {
  return (await readRuns(ctx.redis, ctx.prefix)).filter((run) => run.jobId === jobId);
}

describe('worker processes: crash, shutdown, zombie', () => {
  it('kill -9 in stage 3: another process resumes at stage 3; stages 1–2 never run again', async () => {
    const a = await worker('a');
    const jobs = client();
    const { id } = await jobs.enqueue('pdf', pdf('hold:tiles_generated'));
    await waitFor(async () => (await runsOf(id)).some((run) => run.stage === 'tiles_generated'), { timeoutMs: 15_000 });
    const b = await worker('b');
    a.kill('SIGKILL');
    await a.exited;
    const result = await jobs.waitForResult<'pdf'>(id, { timeoutMs: 30_000 });

    const runs = await runsOf(id);
    expect(runs.map((run) => `${run.stage}@${run.workerId === a.workerId ? 'a' : 'b'}`)).toEqual([
      'pdf_loaded@a',
      'text_extracted@a',
      'tiles_generated@a',
      'tiles_generated@b',
      'embeddings_created@b',
      'materials_extracted@b',
    ]);
    const history = await jobs.statusStore.history(id);
    expect(history.find((entry) => entry.event === 'resumed')).toMatchObject({
      from: 'tiles_generated',
      restored: ['pdf_loaded', 'text_extracted'],
    });

    // The result equals an uninterrupted run's.
    const { id: cleanId } = await jobs.enqueue('pdf', pdf('hold:tiles_generated'));
    await ctx.redis.set(syntheticKeys(ctx.prefix).released(cleanId), '1');
    const clean = await jobs.waitForResult<'pdf'>(cleanId, { timeoutMs: 30_000 });
    expect(result).toEqual(clean);
    void b;
  }, 60_000);

  it('SIGTERM in stage 3: the job is handed back and resumes elsewhere long before the stall check', async () => {
    // Locks and stall checks of 30 s: only a hand-back can move the job within the test.
    const slowStall = { LOCK_DURATION_MS: '30000', STALLED_INTERVAL_MS: '30000', SHUTDOWN_GRACE_MS: '300' };
    const a = await worker('a', slowStall);
    const jobs = client();
    const { id } = await jobs.enqueue('pdf', pdf('hold:tiles_generated'));
    await waitFor(async () => (await runsOf(id)).some((run) => run.stage === 'tiles_generated'), { timeoutMs: 15_000 });
    const b = await worker('b', slowStall);
    const signalledAt = Date.now();
    a.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    await waitFor(async () => (await runsOf(id)).some((run) => run.workerId === b.workerId), { timeoutMs: 10_000 });
    const movedAfterMs = Date.now() - signalledAt;
    expect(movedAfterMs).toBeLessThan(10_000);
    await jobs.waitForResult(id, { timeoutMs: 20_000 });
    const runs = await runsOf(id);
    expect(runs.filter((run) => run.stage === 'pdf_loaded')).toHaveLength(1);
    expect(runs.filter((run) => run.stage === 'text_extracted')).toHaveLength(1);
    expect(runs.filter((run) => run.stage === 'tiles_generated').map((run) => run.workerId)).toEqual([a.workerId, b.workerId]);
    expect((await jobs.statusStore.history(id)).map((entry) => entry.event)).toContain('shutdown:handed-back');
  }, 60_000);

  it('SIGTERM lets a running stage reach its checkpoint within the grace period; nothing re-runs', async () => {
    const settings = { LOCK_DURATION_MS: '30000', STALLED_INTERVAL_MS: '30000', SHUTDOWN_GRACE_MS: '10000' };
    const a = await worker('a', settings);
    const jobs = client();
    const { id } = await jobs.enqueue('pdf', pdf('hold:tiles_generated'));
    await waitFor(async () => (await runsOf(id)).some((run) => run.stage === 'tiles_generated'), { timeoutMs: 15_000 });
    const b = await worker('b', settings);
    a.kill('SIGTERM');
    // The stage finishes during the grace period.
    await ctx.redis.set(syntheticKeys(ctx.prefix).released(id), '1');
    expect(await a.exited).toBe(0);
    await jobs.waitForResult(id, { timeoutMs: 20_000 });
    const runs = await runsOf(id);
    expect(runs.map((run) => run.stage)).toEqual([
      'pdf_loaded',
      'text_extracted',
      'tiles_generated',
      'embeddings_created',
      'materials_extracted',
    ]);
    expect(runs.slice(3).every((run) => run.workerId === b.workerId)).toBe(true);
  }, 60_000);

  it('a zombie (SIGSTOP past the lock, SIGCONT after the job moved on) writes nothing', async () => {
    const a = await worker('a');
    const jobs = client();
    const { id } = await jobs.enqueue('pdf', pdf('hold:tiles_generated'));
    await waitFor(async () => (await runsOf(id)).some((run) => run.stage === 'tiles_generated'), { timeoutMs: 15_000 });
    a.kill('SIGSTOP');
    const b = await worker('b');
    await jobs.waitForResult(id, { timeoutMs: 30_000 });
    const store = new RedisJobStore({ connection: ctx.redis, prefix: ctx.prefix });
    const before = { row: await store.get(id), checkpoints: await store.listCheckpoints({ id, type: 'pdf' }), history: await store.history(id) };
    expect(before.row?.status).toBe('completed');
    expect(before.row?.workerId).toBe(b.workerId);

    // Wake the zombie with its stage released: it would save stage 3 and go on if unfenced.
    await ctx.redis.set(syntheticKeys(ctx.prefix).released(id), '1');
    a.kill('SIGCONT');
    await a.waitForLog((line) => line['msg'] === 'lost the job: another attempt took it over; nothing more is written by this one' && line['jobId'] === id);
    expect(await store.get(id)).toEqual(before.row);
    expect(await store.listCheckpoints({ id, type: 'pdf' })).toEqual(before.checkpoints);
    expect(await store.history(id)).toEqual(before.history);
    const queue = ctx.manage('queue', new Queue('pdf-processing', { connection: ctx.connection(), prefix: bullPrefix(ctx.prefix, 'pdf-processing') }));
    expect(await (await queue.getJob(id))?.getState()).toBe('completed');
    const zombieRuns = (await runsOf(id)).filter((run) => run.workerId === a.workerId).map((run) => run.stage);
    expect(zombieRuns).toEqual(['pdf_loaded', 'text_extracted', 'tiles_generated']);
  }, 60_000);
});
