/**
 * Fast failover end to end: real worker processes (the workers package's synthetic five-stage
 * job on the real runtime) with the default 30 s lock and 30 s stall check, and the failover
 * watcher with its defaults, in this process.
 */
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { bullPrefix, createJobClient, RedisJobStore, RedisWorkerRegistryStore, type JobClient } from '@kai-jobs/queue';
import { useRedisTestContext, waitFor } from '@kai-jobs/queue/testing';
import { FailoverWatcher, type FailoverWatcherOptions } from '../src/index.js';
import { killClientsNamed } from '../../workers/test/fixtures/redis-clients.js';
import { readRuns, syntheticKeys } from '../../workers/test/fixtures/synthetic-hooks.js';
import { startWorkerProcess, stopWorkerProcess, type WorkerProcess } from '../../workers/test/fixtures/worker-process.js';

const ctx = useRedisTestContext(import.meta.url);
const QUEUE = 'pdf-processing';
/** BullMQ's (and the runtime's) defaults: without failover a dead worker's job waits 30–60 s. */
const DEFAULT_LOCKS = { LOCK_DURATION_MS: '30000', STALLED_INTERVAL_MS: '30000' };
/** What the issue asks: the next stage starts elsewhere within 2 s of the crash. */
const FAILOVER_BUDGET_MS = 2000;

let processes: WorkerProcess[] = [];

afterEach(async () => {
  await Promise.all(processes.map((worker) => stopWorkerProcess(worker)));
  processes = [];
});

async function worker(name: string, env: Record<string, string> = {}): Promise<WorkerProcess> {
  const started = await startWorkerProcess({ prefix: ctx.prefix, workerId: `${name}-${process.pid}`, env: { ...DEFAULT_LOCKS, ...env } });
  processes.push(started);
  return started;
}

async function watcher(options: Partial<FailoverWatcherOptions> = {}): Promise<FailoverWatcher> {
  const started = ctx.track('failover watcher', new FailoverWatcher({ redis: ctx.redisOptions, ...options }));
  await started.start();
  return started;
}

function client(): JobClient {
  return ctx.manage('client', createJobClient({ redis: ctx.redisOptions, waitPollIntervalMs: 25 }));
}

const pdf = (documentId: string) => ({ documentId, source: { kind: 'file' as const, path: '/synthetic.pdf' } });

async function runs() {
  return readRuns(ctx.redis, ctx.prefix);
}

async function runsOf(jobId: string) {
  return (await runs()).filter((run) => run.jobId === jobId);
}

function statusStore(): RedisJobStore {
  return new RedisJobStore({ connection: ctx.redis, prefix: ctx.prefix });
}

/** Waits until `worker` is registered (it registers while starting; this only makes the order explicit). */
async function registered(process: WorkerProcess): Promise<void> {
  const store = new RedisWorkerRegistryStore({ connection: ctx.redis, prefix: ctx.prefix });
  await waitFor(async () => (await store.read()).entries.has(process.workerId));
}

describe('fast failover with real worker processes and 30 s locks', () => {
  it('kill -9 in stage 3: stage 3 starts on another worker within 2 s; stages 1–2 never run again', async () => {
    const w = await watcher();
    const a = await worker('a');
    const jobs = client();
    const { id } = await jobs.enqueue('pdf', pdf('hold:tiles_generated'));
    await waitFor(async () => (await runsOf(id)).some((run) => run.stage === 'tiles_generated'), { timeoutMs: 15_000 });
    const b = await worker('b');
    await registered(a);

    const killedAt = Date.now();
    a.kill('SIGKILL');
    await waitFor(async () => (await runsOf(id)).some((run) => run.workerId === b.workerId), { timeoutMs: 10_000 });
    const resumed = (await runsOf(id)).find((run) => run.workerId === b.workerId);
    expect(resumed?.stage).toBe('tiles_generated');
    const resumedAfterMs = (resumed?.at as number) - killedAt;
    expect(resumedAfterMs, `stage 3 restarted ${resumedAfterMs} ms after the kill`).toBeLessThan(FAILOVER_BUDGET_MS);

    await jobs.waitForResult(id, { timeoutMs: 15_000 });
    expect((await runsOf(id)).map((run) => `${run.stage}@${run.workerId === a.workerId ? 'a' : 'b'}`)).toEqual([
      'pdf_loaded@a',
      'text_extracted@a',
      'tiles_generated@a',
      'tiles_generated@b',
      'embeddings_created@b',
      'materials_extracted@b',
    ]);
    const history = await statusStore().history(id);
    expect(history.filter((entry) => entry.event === 'failover')).toEqual([
      expect.objectContaining({ workerId: a.workerId, jobId: id, stage: 'tiles_generated', goneForMs: expect.any(Number) }),
    ]);
    expect(history.find((entry) => entry.event === 'resumed')).toMatchObject({ from: 'tiles_generated', restored: ['pdf_loaded', 'text_extracted'] });
    await w.stop();
  }, 60_000);

  it('a worker stopped hard while it holds 50 jobs: all 50 resume elsewhere within 2 s', async () => {
    const w = await watcher();
    const a = await worker('a', { CONCURRENCY: '50' });
    const jobs = client();
    const ids: string[] = [];
    for (let index = 0; index < 50; index++) ids.push((await jobs.enqueue('pdf', pdf(`hold:tiles_generated;n:${index}`))).id);
    await waitFor(async () => (await runs()).filter((run) => run.stage === 'tiles_generated').length === 50, { timeoutMs: 30_000 });
    const b = await worker('b', { CONCURRENCY: '50' });
    await registered(a);

    const killedAt = Date.now();
    a.kill('SIGKILL');
    const resumedOnB = async () => (await runs()).filter((run) => run.workerId === b.workerId && run.stage === 'tiles_generated');
    await waitFor(async () => (await resumedOnB()).length === 50, { timeoutMs: 20_000 });
    const lastResumeMs = Math.max(...(await resumedOnB()).map((run) => (run.at as number) - killedAt));
    expect(lastResumeMs, `the 50th job restarted ${lastResumeMs} ms after the kill`).toBeLessThan(FAILOVER_BUDGET_MS);
    expect(new Set((await resumedOnB()).map((run) => run.jobId))).toEqual(new Set(ids));

    for (const id of ids) await jobs.waitForResult(id, { timeoutMs: 20_000 });
    const store = statusStore();
    for (const id of ids) {
      expect((await store.history(id)).filter((entry) => entry.event === 'failover')).toHaveLength(1);
      expect((await runsOf(id)).filter((run) => run.stage === 'pdf_loaded')).toHaveLength(1);
    }
    await w.stop();
  }, 90_000);

  it('a worker cut off from Redis while it lives: its jobs move on, nothing it writes afterwards lands, and it recovers', async () => {
    const w = await watcher();
    const a = await worker('a');
    const jobs = client();
    const { id } = await jobs.enqueue('pdf', pdf('hold:tiles_generated'));
    await waitFor(async () => (await runsOf(id)).some((run) => run.stage === 'tiles_generated'), { timeoutMs: 15_000 });
    const b = await worker('b');
    await registered(a);

    // Partition A: freeze it and drop its named connection (its BullMQ connections stay, idle).
    a.kill('SIGSTOP');
    // One connection on a single Redis; one per primary it talks to on a cluster.
    expect(await killClientsNamed(ctx.redis, `kai-worker:${a.workerId}`)).toBeGreaterThanOrEqual(1);
    await jobs.waitForResult(id, { timeoutMs: 20_000 });
    const store = statusStore();
    const before = { row: await store.get(id), checkpoints: await store.listCheckpoints({ id, type: 'pdf' }), history: await store.history(id) };
    expect(before.row).toMatchObject({ status: 'completed', workerId: b.workerId });
    expect(before.history.filter((entry) => entry.event === 'failover')).toHaveLength(1);

    // Wake A with its stage released: unfenced, it would checkpoint stage 3 and go on. Either its
    // reconnect check or its first fenced write tells it that it lost the job.
    await ctx.redis.set(syntheticKeys(ctx.prefix).released(id), '1');
    a.kill('SIGCONT');
    await a.waitForLog((line) => line['msg'] === 'lost the job: another attempt took it over; nothing more is written by this one' && line['jobId'] === id);
    expect(await store.get(id)).toEqual(before.row);
    expect(await store.listCheckpoints({ id, type: 'pdf' })).toEqual(before.checkpoints);
    expect(await store.history(id)).toEqual(before.history);
    const queue = ctx.manage('queue', new Queue(QUEUE, { connection: ctx.connection(), prefix: bullPrefix(ctx.prefix, QUEUE) }));
    expect(await (await queue.getJob(id))?.getState()).toBe('completed');
    expect((await runsOf(id)).filter((run) => run.workerId === a.workerId).map((run) => run.stage)).toEqual(['pdf_loaded', 'text_extracted', 'tiles_generated']);
    expect(a.logs.some((line) => line['msg'] === 'job completed' && line['jobId'] === id)).toBe(false);

    // A recovers: it registers again and runs new work once B is gone, then exits cleanly.
    await registered(a);
    b.kill('SIGTERM');
    expect(await b.exited).toBe(0);
    const { id: next } = await jobs.enqueue('pdf', pdf('plain-after-cut'));
    await jobs.waitForResult(next, { timeoutMs: 15_000 });
    expect((await runsOf(next)).every((run) => run.workerId === a.workerId)).toBe(true);
    a.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    await w.stop();
  }, 90_000);

  it('a busy worker is never failed over: CPU-heavy stages off the main thread, or even a blocked main thread', async () => {
    const w = await watcher();
    const dead: string[] = [];
    w.on('worker:dead', ({ workerId }) => dead.push(workerId));
    const a = await worker('a');
    const jobs = client();
    // 5 s of CPU in a worker thread, then 3 s with the main thread blocked (its heartbeats stop).
    const { id: threaded } = await jobs.enqueue('pdf', pdf('burn:tiles_generated:5000'));
    await jobs.waitForResult(threaded, { timeoutMs: 30_000 });
    const { id: blocked } = await jobs.enqueue('pdf', pdf('mainburn:tiles_generated:3000'));
    await jobs.waitForResult(blocked, { timeoutMs: 30_000 });

    expect(dead).toEqual([]);
    const store = statusStore();
    for (const id of [threaded, blocked]) {
      expect((await store.history(id)).some((entry) => entry.event === 'failover')).toBe(false);
      expect((await runsOf(id)).map((run) => run.stage)).toHaveLength(5);
      expect((await store.get(id))?.attempt).toBe(1);
    }
    expect(a.logs.some((line) => String(line['msg']).startsWith('lost'))).toBe(false);
    await w.stop();
  }, 90_000);

  it('two watchers at once: one leads, and each job of a killed worker is failed over once', async () => {
    const first = await watcher();
    const second = await watcher();
    const failedOverBy = new Map<string, string[]>();
    for (const w of [first, second]) {
      w.on('job:failed-over', ({ jobId }) => failedOverBy.set(jobId, [...(failedOverBy.get(jobId) ?? []), w.watcherId]));
    }
    const a = await worker('a');
    const jobs = client();
    const ids: string[] = [];
    for (let index = 0; index < 5; index++) ids.push((await jobs.enqueue('pdf', pdf(`hold:tiles_generated;n:${index}`))).id);
    await waitFor(async () => (await runs()).filter((run) => run.stage === 'tiles_generated').length === 5, { timeoutMs: 20_000 });
    await worker('b');
    await registered(a);
    await waitFor(() => first.isLeader || second.isLeader);
    expect(first.isLeader && second.isLeader).toBe(false);

    a.kill('SIGKILL');
    for (const id of ids) await jobs.waitForResult(id, { timeoutMs: 20_000 });
    expect([...failedOverBy.keys()].sort()).toEqual([...ids].sort());
    expect(new Set([...failedOverBy.values()].map((by) => by.join(',')))).toEqual(new Set([first.isLeader ? first.watcherId : second.watcherId]));
    const store = statusStore();
    for (const id of ids) expect((await store.history(id)).filter((entry) => entry.event === 'failover')).toHaveLength(1);
    await first.stop();
    await second.stop();
  }, 60_000);
});
