import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { bullPrefix, createJobClient, jobCatalog, RedisJobStore } from '@kai-jobs/queue';
import { useRedisTestContext, waitFor } from '@kai-jobs/queue/testing';
import { createWorkerRuntime, type BoardProgress } from '../src/index.js';
import { createProgressLoopJob } from './fixtures/progress-loop-job.js';
import { createSyntheticJob } from './fixtures/synthetic-job.js';
import { redisSyntheticHooks, syntheticKeys } from './fixtures/synthetic-hooks.js';

const ctx = useRedisTestContext(import.meta.url);
const QUEUE = jobCatalog.pdf.queueName;

describe("a job's BullMQ progress and log (what Bull Board shows)", () => {
  it('writes the progress snapshot at stage changes and with the heartbeat, not per report, and tells the story in the log', async () => {
    const heartbeatIntervalMs = 200;
    const runtime = ctx.track(
      'runtime',
      createWorkerRuntime({
        redis: ctx.redisOptions,
        jobs: [createProgressLoopJob(redisSyntheticHooks(ctx.redis, ctx.prefix, 'w-board'), 2)],
        workerId: 'w-board',
        heartbeatIntervalMs,
        progressThrottleMs: 0,
        lockDurationMs: 2000,
        stalledIntervalMs: 1000,
        cpuThreads: 1,
      }),
    );
    let beats = 0;
    runtime.on('heartbeat:written', () => beats++);
    await runtime.start();
    const jobs = ctx.manage('client', createJobClient({ redis: ctx.redisOptions, waitPollIntervalMs: 25 }));
    const queue = ctx.manage('queue', new Queue(QUEUE, { connection: ctx.connection(), prefix: bullPrefix(ctx.prefix, QUEUE) }));
    const { id } = await jobs.enqueue('pdf', { documentId: 'board-progress', source: { kind: 'file', path: '/synthetic.pdf' } });

    // The first stage reports every 2 ms; the board's copy follows with the heartbeat.
    const status = new RedisJobStore({ connection: ctx.redis, prefix: ctx.prefix });
    const reported = async (): Promise<number> => Number(/looping (\d+)/.exec((await status.get(id))?.progressDetail ?? '')?.[1] ?? 0);
    await waitFor(
      async () =>
        beats >= 4 && (await reported()) >= 200 && ((await queue.getJob(id))?.progress as BoardProgress | undefined)?.detail?.startsWith('looping') === true,
      { timeoutMs: 20_000, message: 'the looping stage never reached the board' },
    );
    const running = (await queue.getJob(id))?.progress as BoardProgress;
    expect(running).toMatchObject({ stage: 'pdf_loaded', attempt: 1, restartCount: 0, workerId: 'w-board' });
    expect(running.progress).toBeGreaterThan(0);
    expect(running.progress).toBeLessThan(20);
    const reports = await reported();
    await ctx.redis.set(syntheticKeys(ctx.prefix).released(id), '1');
    await jobs.waitForResult(id, { timeoutMs: 15_000 });
    // The board writes go on beside BullMQ's completion: wait for the last of them.
    await waitFor(async () => ((await queue.getJob(id))?.progress as BoardProgress | undefined)?.progress === 100, { message: 'the final progress never landed' });
    await waitFor(async () => (await queue.getJobLogs(id)).logs.at(-1)?.endsWith('completed in attempt 1') === true, { message: 'the last log line never landed' });
    await runtime.close();

    const done = (await queue.getJob(id))?.progress as BoardProgress;
    expect(done).toMatchObject({ progress: 100, stage: 'materials_extracted', detail: '', counters: { total_pages: 5, completed_pages: 5 } });
    // Every progress write is an event on the queue's stream: a few per stage and per beat, not one per report.
    const events = await ctx.redis.xrange(`${bullPrefix(ctx.prefix, QUEUE)}:${QUEUE}:events`, '-', '+');
    const progressWrites = events.filter(([, fields]) => fields[1] === 'progress' && fields.includes(id)).length;
    expect(progressWrites).toBeLessThanOrEqual(5 + beats + 1);
    expect(progressWrites).toBeLessThan(reports / 4);

    const { logs } = await queue.getJobLogs(id);
    expect(logs.map((line) => line.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z /, ''))).toEqual([
      'claimed by worker w-board (attempt 1)',
      ...['pdf_loaded', 'text_extracted', 'tiles_generated', 'embeddings_created', 'materials_extracted'].flatMap((stage) => [
        `stage ${stage} started`,
        `stage ${stage} checkpointed`,
      ]),
      'completed in attempt 1',
    ]);
  });
});

describe("a job's story when BullMQ retries a failed attempt", () => {
  it('says which attempt failed, why, and when BullMQ retries it (attempt N+1 of M)', async () => {
    const runtime = ctx.track(
      'runtime',
      createWorkerRuntime({
        redis: ctx.redisOptions,
        jobs: [createSyntheticJob(redisSyntheticHooks(ctx.redis, ctx.prefix, 'w-retry'))],
        workerId: 'w-retry',
        lockDurationMs: 2000,
        stalledIntervalMs: 1000,
        progressThrottleMs: 0,
        cpuThreads: 1,
        backoff: { baseMs: 50, capMs: 200 },
      }),
    );
    await runtime.start();
    const jobs = ctx.manage('client', createJobClient({ redis: ctx.redisOptions, waitPollIntervalMs: 25 }));
    const queue = ctx.manage('queue', new Queue(QUEUE, { connection: ctx.connection(), prefix: bullPrefix(ctx.prefix, QUEUE) }));
    const { id } = await jobs.enqueue('pdf', { documentId: 'fail:text_extracted', source: { kind: 'file', path: '/synthetic.pdf' } });
    await jobs.waitForResult(id, { timeoutMs: 15_000 });
    await waitFor(async () => (await queue.getJobLogs(id)).logs.at(-1)?.endsWith('completed in attempt 2') === true, { message: 'the last log line never landed' });
    await runtime.close();

    const attempts = (await queue.getJob(id))?.opts.attempts as number;
    expect(attempts).toBeGreaterThan(1);
    const lines = (await queue.getJobLogs(id)).logs.map((line) => line.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z /, ''));
    const failedAt = lines.findIndex((line) => line.startsWith('attempt 1 failed'));
    expect(lines[failedAt]).toMatch(
      new RegExp(
        `^attempt 1 failed in text_extracted: synthetic transient failure in text_extracted; BullMQ retries it \\(attempt 2 of ${attempts}\\) (at once|in about \\d+ ms)$`,
      ),
    );
    // Told in order: the failure after the stage that failed started, before the retry's claim.
    expect(lines.slice(0, failedAt)).toEqual(['claimed by worker w-retry (attempt 1)', 'stage pdf_loaded started', 'stage pdf_loaded checkpointed', 'stage text_extracted started']);
    expect(lines[failedAt + 1]).toMatch(/^claimed by worker w-retry \(attempt 2\): resumed from text_extracted/);
  });
});
