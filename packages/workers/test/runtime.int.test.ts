import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import {
  AbortAction,
  bullPrefix,
  createJobClient,
  createMemoryLogger,
  metricsKeys,
  publishAbortRequest,
  RedisJobStore,
  type JobStore,
  statusKeys,
  type JobClient,
} from '@kai-jobs/queue';
import { useRedisTestContext, waitFor } from '@kai-jobs/queue/testing';
import { checkpointKeys } from '@kai-jobs/checkpoint';
import { createWorkerRuntime, type WorkerRuntime, type WorkerRuntimeOptions } from '../src/index.js';
import { readRuns, redisSyntheticHooks, syntheticKeys } from './fixtures/synthetic-hooks.js';
import { createSyntheticJob } from './fixtures/synthetic-job.js';
import { startWorkerProcess, stopWorkerProcess } from './fixtures/worker-process.js';

const ctx = useRedisTestContext(import.meta.url);

async function runtime(options: Partial<WorkerRuntimeOptions> = {}, workerId = 'w1'): Promise<WorkerRuntime> {
  const hooks = redisSyntheticHooks(ctx.redis, ctx.prefix, workerId);
  const started = ctx.track(
    `runtime ${workerId}`,
    createWorkerRuntime({
      redis: ctx.redisOptions,
      jobs: [createSyntheticJob(hooks)],
      workerId,
      lockDurationMs: 2000,
      stalledIntervalMs: 1000,
      heartbeatIntervalMs: 500,
      progressThrottleMs: 0,
      cpuThreads: 1,
      backoff: { baseMs: 50, capMs: 200 },
      ...options,
    }),
  );
  await started.start();
  return started;
}

function client(): JobClient {
  return ctx.manage('client', createJobClient({ redis: ctx.redisOptions, waitPollIntervalMs: 25 }));
}

const pdf = (documentId: string) => ({ documentId, source: { kind: 'file' as const, path: '/synthetic.pdf' } });
const stores = () => ({
  status: new RedisJobStore({ connection: ctx.redis, prefix: ctx.prefix }),
  // The same job store: its checkpoint half.
  checkpoints: new RedisJobStore({ connection: ctx.redis, prefix: ctx.prefix }),
});

describe('worker runtime: stages, checkpoints, resume', () => {
  it('runs every stage, checkpointing each with the status progress, and completes the row', async () => {
    const worker = await runtime();
    const jobs = client();
    const { id } = await jobs.enqueue('pdf', pdf('plain'));
    const result = await jobs.waitForResult<'pdf'>(id, { timeoutMs: 10_000 });
    expect(result).toEqual({ documentId: 'plain', pages: 5, chunks: 0, tiles: 0, materials: 0, artifacts: [] });
    const { status, checkpoints } = stores();
    const row = await status.get(id);
    expect(row).toMatchObject({ status: 'completed', progress: 100, attempt: 1, workerId: 'w1', counters: { total_pages: 5, completed_pages: 5 } });
    const saved = await checkpoints.listCheckpoints({ id, type: 'pdf' });
    expect(saved.map((checkpoint) => checkpoint.stage)).toEqual([
      'pdf_loaded',
      'text_extracted',
      'tiles_generated',
      'embeddings_created',
      'materials_extracted',
    ]);
    expect(saved.every((checkpoint) => checkpoint.attempt === 1)).toBe(true);
    const ttl = await ctx.redis.pttl(checkpointKeys(ctx.prefix, 'pdf').checkpoints(id));
    expect(ttl).toBeGreaterThan(6 * 24 * 3600_000);
    // Metrics: the completion, its processing time and the job's gaps are recorded.
    await waitFor(async () => (await ctx.redis.hget(metricsKeys(ctx.prefix).totals('pdf'), 'completed')) === '1');
    expect(await ctx.redis.llen(metricsKeys(ctx.prefix).gapSamples('pdf'))).toBe(1);
    await worker.close();
  });

  for (const corruption of [
    { name: 'a flipped byte', reason: 'sha256_mismatch', stage: 'text_extracted' },
    { name: 'data that fails its schema', reason: 'schema_invalid', stage: 'text_extracted' },
    { name: 'a missing earlier stage', reason: 'missing_earlier_stage', stage: 'tiles_generated' },
  ] as const) {
    it(`detects ${corruption.name} and resumes after the last valid checkpoint`, async () => {
      const { status, checkpoints } = stores();
      const id = `corrupt-${corruption.reason}`;
      await status.create({ id, type: 'pdf', payload: pdf('plain') });
      await status.markProcessing(id, { fence: 'old-attempt', workerId: 'gone' });
      const job = { id, type: 'pdf' as const };
      const save = (stage: string, stageIndex: number, data: unknown) =>
        checkpoints.saveCheckpoint(job, { stage, stageIndex, data, fence: 'old-attempt', schemaVersion: 1, attempt: 1 });
      await save('pdf_loaded', 0, { stage: 'pdf_loaded', index: 0, documentId: 'plain' });
      if (corruption.reason !== 'missing_earlier_stage') {
        await save('text_extracted', 1, corruption.reason === 'schema_invalid' ? { stage: 7 } : { stage: 'text_extracted', index: 1, documentId: 'plain' });
      }
      await save('tiles_generated', 2, { stage: 'tiles_generated', index: 2, documentId: 'plain' });
      if (corruption.reason === 'sha256_mismatch') {
        const key = checkpointKeys(ctx.prefix, 'pdf').checkpoints(id);
        const data = (await ctx.redis.hget(key, 'text_extracted#data')) as string;
        await ctx.redis.hset(key, 'text_extracted#data', data.replace('"index":1', '"index":3'));
      }
      const queue = ctx.manage('queue', new Queue('pdf-processing', { connection: ctx.connection(), prefix: bullPrefix(ctx.prefix, 'pdf-processing') }));
      await queue.add('pdf', pdf('plain'), { jobId: id });
      const worker = await runtime();
      await waitFor(async () => (await status.get(id))?.status === 'completed', { timeoutMs: 10_000 });
      const runs = (await readRuns(ctx.redis, ctx.prefix)).map((run) => run.stage);
      expect(runs).toEqual(['text_extracted', 'tiles_generated', 'embeddings_created', 'materials_extracted']);
      const history = await status.history(id);
      expect(history.find((entry) => entry.event === 'checkpoint:invalid')).toMatchObject({ stage: corruption.stage, reason: corruption.reason });
      expect(history.find((entry) => entry.event === 'resumed')).toMatchObject({ from: 'text_extracted', restored: ['pdf_loaded'] });
      await worker.close();
    });
  }

  it('retries a transient failure with backoff and resumes from the stage that failed', async () => {
    const worker = await runtime();
    const jobs = client();
    const { id } = await jobs.enqueue('pdf', pdf('fail:embeddings_created'));
    await jobs.waitForResult(id, { timeoutMs: 10_000 });
    const runs = (await readRuns(ctx.redis, ctx.prefix)).map((run) => `${run.stage}#${run.attempt}`);
    expect(runs).toEqual([
      'pdf_loaded#1',
      'text_extracted#1',
      'tiles_generated#1',
      'embeddings_created#1',
      'embeddings_created#2',
      'materials_extracted#2',
    ]);
    const history = await stores().status.history(id);
    expect(history.find((entry) => entry.event === 'attempt:failed')).toMatchObject({
      error: 'synthetic transient failure in embeddings_created',
      stage: 'embeddings_created',
      willRetry: true,
    });
    await worker.close();
  });
});

describe('worker runtime: bad input', () => {
  it('fails a job whose payload fails the catalog schema at once, with the reason and no retries', async () => {
    const worker = await runtime();
    const queue = ctx.manage('queue', new Queue('pdf-processing', { connection: ctx.connection(), prefix: bullPrefix(ctx.prefix, 'pdf-processing') }));
    await queue.add('pdf', { documentId: 3, source: { kind: 'ftp' } }, { jobId: 'raw-bad', attempts: 3 });
    const { status } = stores();
    await waitFor(async () => (await status.get('raw-bad'))?.status === 'failed', { timeoutMs: 10_000 });
    const row = await status.get('raw-bad');
    expect(row?.error).toMatch(/documentId/);
    expect(row?.error).toMatch(/source\.kind/);
    await waitFor(async () => (await (await queue.getJob('raw-bad'))?.getState()) === 'failed');
    const job = await queue.getJob('raw-bad');
    expect(job?.attemptsMade).toBe(1);
    expect(job?.failedReason).toMatch(/documentId/);
    await worker.close();
  });

  it('refuses bad runtime options, naming each one', () => {
    expect(() =>
      createWorkerRuntime({ jobs: [], heartbeatIntervalMs: 600_000, lockDurationMs: 10, redis: { url: 'redis://x:1' } }),
    ).toThrow(/jobs[\s\S]*lockDurationMs|lockDurationMs[\s\S]*jobs/);
    try {
      createWorkerRuntime({ jobs: [], heartbeatIntervalMs: 600_000, redis: { url: 'redis://x:1' } });
    } catch (error) {
      expect((error as Error & { issues: { path: string }[] }).issues.map((issue) => issue.path).sort()).toEqual(['heartbeatIntervalMs', 'jobs']);
    }
  });
});

describe('worker runtime: heartbeats', () => {
  it('writes the heartbeat of 200 concurrent jobs in one Redis command per interval', async () => {
    const worker = await runtime({ concurrency: { pdf: 200 }, heartbeatIntervalMs: 400, lockDurationMs: 10_000 });
    const heartbeatIndex = statusKeys(ctx.prefix, 'pdf').heartbeatIndex;
    const jobs = client();
    const ids = (await jobs.enqueueBulk('pdf', Array.from({ length: 200 }, (_, i) => ({ payload: pdf(`holdalways:pdf_loaded;n${i}`) })))).map((job) => job.id);
    await waitFor(async () => (await readRuns(ctx.redis, ctx.prefix)).length === 200, { timeoutMs: 20_000 });

    const heartbeatCommands: number[] = [];
    const connection = worker.redis;
    const original = connection.sendCommand.bind(connection);
    // Pass every argument on: pipelines (the stores' connection auto-pipelines) add the stream.
    connection.sendCommand = ((command: { name: string; args: unknown[] }, ...rest: unknown[]) => {
      if (command.name === 'evalsha' && command.args[2] === heartbeatIndex) heartbeatCommands.push(Date.now());
      return (original as (...args: unknown[]) => unknown)(command, ...rest);
    }) as typeof connection.sendCommand;
    const beats: number[] = [];
    const unsubscribe = worker.on('heartbeat:written', ({ jobs: count }) => beats.push(count));
    await waitFor(() => beats.length >= 3, { timeoutMs: 10_000 });
    unsubscribe();
    connection.sendCommand = original;

    expect(beats.slice(0, 3)).toEqual([200, 200, 200]);
    expect(heartbeatCommands.length).toBeGreaterThanOrEqual(3);
    expect(heartbeatCommands.length).toBeLessThanOrEqual(4);
    const rows = await Promise.all(ids.slice(0, 5).map((id) => stores().status.get(id)));
    expect(rows.every((row) => row?.lastHeartbeat !== null && row?.status === 'processing')).toBe(true);
    await Promise.all(ids.map((id) => ctx.redis.set(syntheticKeys(ctx.prefix).released(id), '1')));
    await waitFor(async () => (await jobs.queue('pdf').getJobCounts('completed')).completed === 200, { timeoutMs: 60_000 });
    await worker.close();
  }, 120_000);

  it('warns with the lag when the heartbeat timer fires late because the event loop was blocked', async () => {
    const logger = createMemoryLogger();
    const worker = await runtime({ heartbeatIntervalMs: 100, logger });
    const jobs = client();
    const { id } = await jobs.enqueue('pdf', pdf('mainburn:text_extracted:600'));
    await jobs.waitForResult(id, { timeoutMs: 10_000 });
    const late = logger.lines.find((line) => line.message === 'heartbeat timer fired late: the event loop was blocked');
    expect(late?.level).toBe('warn');
    expect(late?.fields['lagMs']).toBeGreaterThan(100);
    await worker.close();
  });

  // Another worker process runs BullMQ's stall check while this process works: a lock that
  // is not renewed in time would be found stalled there and the job would move to it.
  for (const variant of [
    { where: 'off the main thread', plan: 'hold:pdf_loaded;burn:tiles_generated:3000', stalls: false },
    { where: 'on the main thread (control: this must stall)', plan: 'hold:pdf_loaded;mainburn:tiles_generated:3000', stalls: true },
  ]) {
    it(`a stage burning CPU ${variant.where} for 3× the lock duration ${variant.stalls ? 'loses' : 'keeps'} its lock`, async () => {
      const local = await runtime({ lockDurationMs: 1000, stalledIntervalMs: 500, concurrency: { pdf: 1 } }, 'local');
      const jobs = client();
      const { id } = await jobs.enqueue('pdf', pdf(variant.plan));
      // This process holds the job (attempt 1 waits in its first stage) before the other starts.
      await waitFor(async () => (await readRuns(ctx.redis, ctx.prefix)).some((run) => run.stage === 'pdf_loaded'));
      const other = await startWorkerProcess({
        prefix: ctx.prefix,
        workerId: `other-${process.pid}`,
        env: { LOCK_DURATION_MS: '1000', STALLED_INTERVAL_MS: '500' },
      });
      await ctx.redis.set(syntheticKeys(ctx.prefix).released(id), '1');
      try {
        await jobs.waitForResult(id, { timeoutMs: 30_000 });
        const job = await jobs.queue('pdf').getJob(id);
        const otherRuns = (await readRuns(ctx.redis, ctx.prefix)).filter((run) => run.workerId === other.workerId);
        if (variant.stalls) {
          // The lock expired while the main thread was blocked: BullMQ started the job again.
          expect(job?.attemptsStarted).toBeGreaterThan(1);
        } else {
          expect(job?.attemptsStarted).toBe(1);
          expect(job?.stalledCounter ?? 0).toBe(0);
          expect(otherRuns).toEqual([]);
          expect((await stores().status.get(id))?.attempt).toBe(1);
        }
      } finally {
        await stopWorkerProcess(other);
        await local.close();
      }
    }, 60_000);
  }
});

describe('worker runtime: a write sent twice', () => {
  it('a completion refused because its first send had landed (the reply was lost) completes the job', async () => {
    // Chaos scenario 2 (Redis restart): Redis was killed after it had written a job's completion
    // and before the reply reached the worker; ioredis sent the command again after the
    // reconnect, the second send was refused (the job is completed), and the worker failed
    // the job in BullMQ while its row said completed.
    const real = new RedisJobStore({ connection: ctx.redis, prefix: ctx.prefix });
    const resending: JobStore = Object.assign(Object.create(real) as JobStore, {
      async completeWithCheckpoint(...args: Parameters<JobStore['completeWithCheckpoint']>) {
        await real.completeWithCheckpoint(...args);
        await real.completeWithCheckpoint(...args);
      },
    });
    const logger = createMemoryLogger();
    const worker = await runtime({ store: resending, logger });
    const jobs = client();
    const { id } = await jobs.enqueue('pdf', pdf('completion-resent'));
    await jobs.waitForResult(id, { timeoutMs: 10_000 });
    expect(await (await jobs.queue('pdf').getJob(id))?.getState()).toBe('completed');
    expect((await stores().status.get(id))?.status).toBe('completed');
    expect(logger.lines.map((line) => line.message)).toContain('the completion had landed already (its reply was lost, the write was sent again): the job is completed');
    await worker.close();
  });
});

describe('worker runtime: restarted jobs', () => {
  it('runs one crash suspect (restarted twice) at a time in a process: another is deferred, a fresh job runs beside it', async () => {
    // Chaos scenario 7 (poison job): the jobs of a process killed by a poison job were handed
    // back together and taken together by the next idle worker, so the poison took the same
    // neighbours down on every attempt until they ran out of restarts and failed with it.
    const jobs = client();
    const { status } = stores();
    const restarted: string[] = [];
    for (const name of ['suspect-a', 'suspect-b']) {
      const { id } = await jobs.enqueue('pdf', pdf(`${name};holdalways:tiles_generated`));
      // What two failovers leave: the row counts two restarts (two attempts died with their worker).
      for (const restartCount of [0, 1]) {
        await status.markProcessing(id, { fence: `dead-attempt-${restartCount}`, workerId: 'dead-worker' });
        const recovered = await status.recover(id, { expectedFence: `dead-attempt-${restartCount}`, expectedRestartCount: restartCount, action: 'restart', history: { event: 'failover' } });
        expect(recovered.applied).toBe(true);
      }
      restarted.push(id);
    }
    const worker = await runtime({ concurrency: { pdf: 5 } });
    const fresh = await jobs.enqueue('pdf', pdf('fresh'));
    await jobs.waitForResult(fresh.id, { timeoutMs: 10_000 });

    // One restarted job holds in its third stage; the other was deferred, never started, while it holds.
    let running: string | undefined;
    await waitFor(async () => {
      const runs = await readRuns(ctx.redis, ctx.prefix);
      running = restarted.find((id) => runs.some((run) => run.jobId === id && run.stage === 'tiles_generated'));
      return running !== undefined;
    });
    const deferred = restarted.find((id) => id !== running) as string;
    await waitFor(async () => (await status.history(deferred, 100)).some((entry) => entry.event === 'deferred' && entry['reason'] === 'crash-suspect'));
    expect((await readRuns(ctx.redis, ctx.prefix)).filter((run) => run.jobId === deferred)).toEqual([]);

    // Once the first is done, the second runs.
    await Promise.all(restarted.map((id) => ctx.redis.set(syntheticKeys(ctx.prefix).released(id), '1')));
    for (const id of restarted) await jobs.waitForResult(id, { timeoutMs: 10_000 });
    expect((await status.get(deferred))?.restartCount).toBe(2);
    await worker.close();
  });
});

describe('worker runtime: abort from another process', () => {
  it('a restart request stops the attempt; the job is retried from its checkpoint after the delay', async () => {
    const worker = await runtime();
    const jobs = client();
    const { id } = await jobs.enqueue('pdf', pdf('hold:tiles_generated'));
    await waitFor(async () => (await readRuns(ctx.redis, ctx.prefix)).some((run) => run.stage === 'tiles_generated'));
    const { status } = stores();
    const row = await status.get(id);
    // What the monitor does: the compare-and-set restart, then the abort request.
    const recovered = await status.recover(id, {
      expectedFence: row?.fence ?? null,
      expectedRestartCount: 0,
      action: 'restart',
      history: { event: 'recovery:restarted', reason: 'update_timeout' },
    });
    expect(recovered.applied).toBe(true);
    await publishAbortRequest(ctx.redis, ctx.prefix, { jobId: id, action: AbortAction.Restart, reason: 'hung', delayMs: 200 });
    await jobs.waitForResult(id, { timeoutMs: 10_000 });
    const runs = (await readRuns(ctx.redis, ctx.prefix)).map((run) => `${run.stage}#${run.attempt}`);
    expect(runs).toEqual(['pdf_loaded#1', 'text_extracted#1', 'tiles_generated#1', 'tiles_generated#2', 'embeddings_created#2', 'materials_extracted#2']);
    expect((await status.get(id))?.restartCount).toBe(1);
    await worker.close();
  });

  it('an abort request that the row does not back is ignored: the attempt took the job after the picture it was sent on', async () => {
    // Chaos scenario 2 (Redis restart): a monitor read a row still pending, a worker then took
    // the job, and the monitor — seeing an active job with a lock behind a pending row, as when
    // a restarted attempt misses its abort — asked it to stop again. The new attempt obeyed.
    // Every real abort follows a change of the row's fence; this one did not.
    const logger = createMemoryLogger();
    const worker = await runtime({ logger });
    const jobs = client();
    const { id } = await jobs.enqueue('pdf', pdf('hold:tiles_generated'));
    await waitFor(async () => (await readRuns(ctx.redis, ctx.prefix)).some((run) => run.stage === 'tiles_generated'));
    await publishAbortRequest(ctx.redis, ctx.prefix, { jobId: id, action: AbortAction.Restart, reason: 'stale picture', delayMs: 0 });
    const ignored = 'ignoring an abort request from before this attempt claimed the job';
    await waitFor(() => logger.lines.some((line) => line.message === ignored || line.message === 'abort requested'));
    expect(logger.lines.map((line) => line.message)).toContain(ignored);
    await ctx.redis.set(syntheticKeys(ctx.prefix).released(id), '1');
    await jobs.waitForResult(id, { timeoutMs: 10_000 });
    const runs = (await readRuns(ctx.redis, ctx.prefix)).map((run) => `${run.stage}#${run.attempt}`);
    expect(runs).toEqual(['pdf_loaded#1', 'text_extracted#1', 'tiles_generated#1', 'embeddings_created#1', 'materials_extracted#1']);
    expect(logger.lines.some((line) => line.message === 'abort requested')).toBe(false);
    await worker.close();
  });

  it('an abort request naming another attempt\'s fence is ignored; one naming this attempt\'s stops it', async () => {
    const worker = await runtime();
    const jobs = client();
    const { id } = await jobs.enqueue('pdf', pdf('hold:text_extracted'));
    await waitFor(async () => (await readRuns(ctx.redis, ctx.prefix)).some((run) => run.stage === 'text_extracted'));
    const fence = (await stores().status.get(id))?.fence as string;
    // As a monitor's restart does: the row's fence changes first, then the abort is published
    // (an attempt whose fence the row still holds ignores every abort request).
    const recovered = await stores().status.recover(id, { expectedFence: fence, expectedRestartCount: 0, action: 'restart', history: { event: 'recovery:restarted' } });
    expect(recovered.applied).toBe(true);
    await publishAbortRequest(ctx.redis, ctx.prefix, { jobId: id, action: AbortAction.Cancel, reason: 'for an older attempt', fence: 'someone-else:1' });
    // Had the cancel (for another attempt) stopped this one, the job would have failed for good.
    await publishAbortRequest(ctx.redis, ctx.prefix, { jobId: id, action: AbortAction.Restart, reason: 'this one', delayMs: 0, fence });
    await jobs.waitForResult(id, { timeoutMs: 10_000 });
    const runs = (await readRuns(ctx.redis, ctx.prefix)).map((run) => `${run.stage}#${run.attempt}`);
    expect(runs).toEqual(['pdf_loaded#1', 'text_extracted#1', 'text_extracted#2', 'tiles_generated#2', 'embeddings_created#2', 'materials_extracted#2']);
    await worker.close();
  });

  it('a cancel stops the attempt and the job fails for good, without retries', async () => {
    const worker = await runtime();
    const jobs = client();
    const { id } = await jobs.enqueue('pdf', pdf('holdalways:text_extracted'));
    await waitFor(async () => (await readRuns(ctx.redis, ctx.prefix)).some((run) => run.stage === 'text_extracted'));
    expect(await jobs.cancel(id, 'customer deleted the document')).toMatchObject({ cancelled: true, abortRequested: true });
    await waitFor(async () => (await (await jobs.queue('pdf').getJob(id))?.getState()) === 'failed');
    const job = await jobs.queue('pdf').getJob(id);
    expect(job?.failedReason).toBe('cancelled: customer deleted the document');
    expect(job?.attemptsMade).toBe(1);
    expect((await stores().status.get(id))?.status).toBe('failed');
    await worker.close();
  });
});

describe('worker runtime: the shutdown hand-back decides from the row (decideShutdownHandBack)', () => {
  it('hands a running job back on shutdown, but not one cancelled meanwhile (the cancel stands)', async () => {
    const worker = await runtime({ concurrency: { pdf: 2 } }, 'w-shutdown');
    const jobs = client();
    const { status } = stores();
    const kept = await jobs.enqueue('pdf', pdf('holdalways:text_extracted'));
    const cancelled = await jobs.enqueue('pdf', pdf('holdalways:text_extracted'));
    await waitFor(async () => {
      const runs = await readRuns(ctx.redis, ctx.prefix);
      return [kept.id, cancelled.id].every((id) => runs.some((run) => run.jobId === id && run.stage === 'text_extracted'));
    });
    // Cancelled behind the worker's back (the row only; no abort request reaches the attempt).
    await status.cancel(cancelled.id, 'cancelled while the worker shuts down');
    await worker.shutdown(0);
    const queue = jobs.queue('pdf');
    expect(await (await queue.getJob(kept.id))?.getState()).toBe('waiting');
    expect((await status.history(kept.id)).map((entry) => entry.event)).toContain('shutdown:handed-back');
    // Not moved back to the queue: no other worker runs a cancelled job, and its row stays cancelled.
    expect(await (await queue.getJob(cancelled.id))?.getState()).not.toBe('waiting');
    expect((await status.history(cancelled.id)).map((entry) => entry.event)).not.toContain('shutdown:handed-back');
    expect(await status.get(cancelled.id)).toMatchObject({ status: 'failed', failureKind: 'cancelled' });
  }, 20_000);
});
