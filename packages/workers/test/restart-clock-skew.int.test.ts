import { afterEach, describe, expect, it, vi } from 'vitest';
import { AbortAction, createJobClient, publishAbortRequest, queueClockMs, RedisJobStore, type JobClient } from '@kai-jobs/queue';
import { useRedisTestContext, waitFor } from '@kai-jobs/queue/testing';
import { createWorkerRuntime, type WorkerRuntime } from '../src/index.js';
import { readRuns, redisSyntheticHooks } from './fixtures/synthetic-hooks.js';
import { createSyntheticJob } from './fixtures/synthetic-job.js';

// A monitor restart's backoff is counted on Redis's clock, not on the clock of the worker that
// hands the job back: BullMQ scores its delayed set with that worker's Date.now(), so a worker
// 10 minutes ahead used to put the job out of every other worker's reach for 10 minutes, and
// one 10 minutes behind skipped the backoff (found by the chaos suite's clock-skew scenario).
const ctx = useRedisTestContext(import.meta.url);
const SKEW_MS = 10 * 60_000;
const DELAY_MS = 3000;

afterEach(() => {
  vi.restoreAllMocks();
});

async function skewedRuntime(skewMs: number): Promise<WorkerRuntime> {
  const realNow = Date.now.bind(Date);
  // This process's clock (what BullMQ and the runtime read) runs skewMs off; Redis's does not.
  vi.spyOn(Date, 'now').mockImplementation(() => realNow() + skewMs);
  const runtime = ctx.track(
    'runtime',
    createWorkerRuntime({
      redis: ctx.redisOptions,
      jobs: [createSyntheticJob(redisSyntheticHooks(ctx.redis, ctx.prefix, 'skewed'))],
      workerId: 'skewed',
      lockDurationMs: 5000,
      stalledIntervalMs: 5000,
      heartbeatIntervalMs: 500,
      progressThrottleMs: 0,
      cpuThreads: 1,
    }),
  );
  await runtime.start();
  return runtime;
}

/** Starts a job that hangs in text_extracted, then restarts it as the monitor does; returns its id and Redis's time at the restart. */
async function restartHungJob(jobs: JobClient): Promise<{ id: string; restartedAt: number }> {
  const { id } = await jobs.enqueue('pdf', { documentId: 'hold:text_extracted', source: { kind: 'file', path: '/synthetic.pdf' } });
  await waitFor(async () => (await readRuns(ctx.redis, ctx.prefix)).some((run) => run.stage === 'text_extracted'));
  const status = new RedisJobStore({ connection: ctx.redis, prefix: ctx.prefix });
  const row = await status.get(id);
  const recovered = await status.recover(id, { expectedFence: row?.fence ?? null, expectedRestartCount: 0, action: 'restart', history: { event: 'recovery:restarted' } });
  expect(recovered.applied).toBe(true);
  const restartedAt = await queueClockMs(ctx.redis);
  await publishAbortRequest(ctx.redis, ctx.prefix, { jobId: id, action: AbortAction.Restart, reason: 'hung', delayMs: DELAY_MS });
  return { id, restartedAt };
}

/** When the job's delayed set entry says it is due (ms), or null when it is not delayed. */
async function delayedUntil(jobs: JobClient, id: string): Promise<number | null> {
  const queue = jobs.queue('pdf');
  const score = await ctx.redis.zscore(queue.keys.delayed as string, id);
  // BullMQ packs a counter into the low 12 bits of the score.
  return score === null ? null : Math.floor(Number(score) / 0x1000);
}

describe('a monitor restart handed back by a worker whose clock is off', () => {
  it('from a worker 10 minutes behind: delayed until the restart plus the backoff by Redis time, not 10 minutes earlier', async () => {
    const runtime = await skewedRuntime(-SKEW_MS);
    const jobs = ctx.manage('client', createJobClient({ redis: ctx.redisOptions }));
    const { id, restartedAt } = await restartHungJob(jobs);
    await waitFor(async () => (await delayedUntil(jobs, id)) !== null, { message: 'the job was not moved to delayed' });
    const until = (await delayedUntil(jobs, id)) as number;
    expect(until - restartedAt).toBeGreaterThanOrEqual(DELAY_MS - 100);
    expect(until - restartedAt).toBeLessThanOrEqual(DELAY_MS + 1000);
    await runtime.close();
  });

  it('from a worker 10 minutes ahead: back in the queue at once, never delayed 10 minutes for everyone else', async () => {
    const runtime = await skewedRuntime(SKEW_MS);
    const jobs = ctx.manage('client', createJobClient({ redis: ctx.redisOptions, waitPollIntervalMs: 25 }));
    const { id, restartedAt } = await restartHungJob(jobs);
    // BullMQ cannot score a job earlier than the moving process's clock: it goes to wait instead, and runs again.
    await jobs.waitForResult(id, { timeoutMs: 10_000 });
    expect((await readRuns(ctx.redis, ctx.prefix)).map((run) => `${run.stage}#${run.attempt}`).slice(1, 3)).toEqual(['text_extracted#1', 'text_extracted#2']);
    const queue = jobs.queue('pdf');
    const delayedEvents = (await ctx.redis.xrange(queue.keys.events as string, '-', '+'))
      .map(([, fields]) => Object.fromEntries(fields.flatMap((value, index) => (index % 2 === 0 ? [[value, fields[index + 1]]] : []))) as Record<string, string>)
      .filter((event) => event['event'] === 'delayed' && event['jobId'] === id);
    for (const event of delayedEvents) expect(Number(event['delay']) - restartedAt).toBeLessThanOrEqual(DELAY_MS + 1000);
    await runtime.close();
  });
});
