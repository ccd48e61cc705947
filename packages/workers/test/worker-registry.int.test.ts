import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import {
  bullPrefix,
  createJobClient,
  createMemoryLogger,
  RedisJobStore,
  RedisWorkerRegistryStore,
  type JobClient,
} from '@kai-jobs/queue';
import { useRedisTestContext, waitFor } from '@kai-jobs/queue/testing';
import { createWorkerRuntime, workerClientName, type WorkerRuntime, type WorkerRuntimeOptions } from '../src/index.js';
import { clientIdsNamed, killClientsNamed } from './fixtures/redis-clients.js';
import { readRuns, redisSyntheticHooks } from './fixtures/synthetic-hooks.js';
import { createSyntheticJob } from './fixtures/synthetic-job.js';

const ctx = useRedisTestContext(import.meta.url);
const QUEUE = 'pdf-processing';

async function runtime(options: Partial<WorkerRuntimeOptions> = {}, workerId = 'reg-w1'): Promise<WorkerRuntime> {
  const started = ctx.track(
    `runtime ${workerId}`,
    createWorkerRuntime({
      redis: { url: ctx.redisUrl, prefix: ctx.prefix },
      jobs: [createSyntheticJob(redisSyntheticHooks(ctx.redis, ctx.prefix, workerId))],
      workerId,
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
  return ctx.manage('client', createJobClient({ redis: { url: ctx.redisUrl, prefix: ctx.prefix }, waitPollIntervalMs: 25 }));
}

function registry(): RedisWorkerRegistryStore {
  return new RedisWorkerRegistryStore({ connection: ctx.redis, prefix: ctx.prefix });
}

const pdf = (documentId: string) => ({ documentId, source: { kind: 'file' as const, path: '/synthetic.pdf' } });

async function holdInStage3(jobs: JobClient): Promise<string> {
  const { id } = await jobs.enqueue('pdf', pdf('hold:tiles_generated'));
  await waitFor(async () => (await readRuns(ctx.redis, ctx.prefix)).some((run) => run.jobId === id && run.stage === 'tiles_generated'));
  return id;
}

describe('worker registry', () => {
  it('a started runtime is registered with its named connection, BullMQ worker ids and lock-token prefixes, and heartbeats', async () => {
    const worker = await runtime();
    const { entries, heartbeats } = await registry().read();
    const entry = entries.get('reg-w1');
    expect(entry).toMatchObject({ workerId: 'reg-w1', clientName: workerClientName('reg-w1'), pid: process.pid, queues: [QUEUE] });
    expect(entry?.bullWorkerIds).toHaveLength(1);
    expect(entry?.lockTokenPrefixes).toEqual([`${entry?.bullWorkerIds[0]}:`]);
    expect(await clientIdsNamed(ctx.redis, workerClientName('reg-w1'))).toHaveLength(1);

    // The lock token of a job it runs starts with the registered prefix.
    const id = await holdInStage3(client());
    const queue = ctx.manage('queue', new Queue(QUEUE, { connection: ctx.connection(), prefix: bullPrefix(ctx.prefix, QUEUE) }));
    const lock = await ctx.redis.get(`${queue.toKey(id)}:lock`);
    expect(lock?.startsWith(entry?.lockTokenPrefixes[0] as string)).toBe(true);

    // The heartbeat moves (store time).
    const first = heartbeats.get('reg-w1') as number;
    await waitFor(async () => ((await registry().read()).heartbeats.get('reg-w1') ?? 0) > first);
    await worker.close();
  });

  it('a graceful shutdown unregisters; a hard close leaves the entry for the failover watcher', async () => {
    const graceful = await runtime({}, 'reg-graceful');
    const hard = await runtime({}, 'reg-hard');
    expect([...(await registry().read()).entries.keys()].sort()).toEqual(['reg-graceful', 'reg-hard']);
    await graceful.shutdown(0);
    await hard.close();
    const after = await registry().read();
    expect([...after.entries.keys()]).toEqual(['reg-hard']);
    expect([...after.heartbeats.keys()]).toEqual(['reg-hard']);
  });

  it('a worker the watcher removed puts itself back with its next heartbeat', async () => {
    const worker = await runtime({}, 'reg-back');
    await registry().remove('reg-back');
    expect((await registry().read()).entries.has('reg-back')).toBe(false);
    await waitFor(async () => (await registry().read()).entries.has('reg-back'));
    await worker.close();
  });

  it('when its named connection comes back, attempts whose job was failed over meanwhile stop and say so', async () => {
    const logger = createMemoryLogger();
    // Slow heartbeats: only the reconnect check can notice within the test.
    const worker = await runtime({ logger, heartbeatIntervalMs: 30_000 }, 'reg-cut');
    const lost: string[] = [];
    worker.on('job:lost', ({ jobId }) => lost.push(jobId));
    const jobs = client();
    const id = await holdInStage3(jobs);
    const status = new RedisJobStore({ connection: ctx.redis, prefix: ctx.prefix });
    const row = await status.get(id);
    // What the failover watcher does to the row while the process is cut off.
    await status.recover(id, {
      expectedFence: row?.fence ?? null,
      expectedRestartCount: 0,
      action: 'restart',
      history: { event: 'failover', workerId: 'reg-cut' },
    });
    await registry().remove('reg-cut');
    expect(await killClientsNamed(ctx.redis, workerClientName('reg-cut'))).toBe(1);

    await waitFor(() => lost.includes(id));
    expect(logger.lines.some((line) => line.message.startsWith('named Redis connection is back'))).toBe(true);
    expect(logger.lines.find((line) => line.message.startsWith('lost jobs while cut off'))?.fields['jobs']).toEqual([id]);
    // Re-registered at once, not only at the next heartbeat.
    await waitFor(async () => (await registry().read()).entries.has('reg-cut'));
    await worker.close();
  });

  it('a brief drop of the named connection with the jobs still its own changes nothing', async () => {
    const logger = createMemoryLogger();
    const worker = await runtime({ logger }, 'reg-blip');
    const lost: string[] = [];
    worker.on('job:lost', ({ jobId }) => lost.push(jobId));
    const jobs = client();
    const id = await holdInStage3(jobs);
    expect(await killClientsNamed(ctx.redis, workerClientName('reg-blip'))).toBe(1);
    await waitFor(() => logger.lines.some((line) => line.message.startsWith('named Redis connection is back')));
    await ctx.redis.set(`${ctx.prefix}:test:released:${id}`, '1');
    await jobs.waitForResult(id, { timeoutMs: 10_000 });
    expect(lost).toEqual([]);
    expect((await readRuns(ctx.redis, ctx.prefix)).filter((run) => run.stage === 'tiles_generated')).toHaveLength(1);
    await worker.close();
  });
});
