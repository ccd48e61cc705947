import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import {
  bullPrefix,
  createJobClient,
  createMemoryLogger,
  JOB_TYPES,
  jobCatalog,
  RedisConnectionOptionsSchema,
  RedisJobStore,
  RedisMetricsRecorder,
  systemClock,
  type JobType,
} from '@kai-jobs/queue';
import { useRedisTestContext, waitFor } from '@kai-jobs/queue/testing';
import { MonitorStateStore, StallListener } from '../src/index.js';
import { readRuns } from '../../workers/test/fixtures/synthetic-hooks.js';
import { startWorkerProcess, stopWorkerProcess, type WorkerProcess } from '../../workers/test/fixtures/worker-process.js';

const ctx = useRedisTestContext(import.meta.url);
const QUEUE = jobCatalog.pdf.queueName;

let processes: WorkerProcess[] = [];

afterEach(async () => {
  await Promise.all(processes.map((worker) => stopWorkerProcess(worker)));
  processes = [];
});

async function worker(name: string): Promise<WorkerProcess> {
  // A 1 s stall check: BullMQ moves a job whose lock is gone on its second check.
  const started = await startWorkerProcess({ prefix: ctx.prefix, workerId: `${name}-${process.pid}`, env: { LOCK_DURATION_MS: '30000', STALLED_INTERVAL_MS: '1000' } });
  processes.push(started);
  return started;
}

describe("the stall listener tells a stall in the job's log", () => {
  it("a worker killed in stage 3: BullMQ's stall check moves the job back, and its Bull Board log says so once", async () => {
    const statusStore = new RedisJobStore({ connection: ctx.redis, prefix: ctx.prefix });
    const queues = Object.fromEntries(
      JOB_TYPES.map((type) => [type, ctx.manage('queue', new Queue(jobCatalog[type].queueName, { connection: ctx.connection(), prefix: bullPrefix(ctx.prefix, jobCatalog[type].queueName) }))]),
    ) as Record<JobType, Queue>;
    const logger = createMemoryLogger();
    const listener = ctx.track(
      'stall listener',
      new StallListener(RedisConnectionOptionsSchema.parse(ctx.redisOptions), {
        statusStore,
        metrics: new RedisMetricsRecorder({ connection: ctx.redis, prefix: ctx.prefix, logger }),
        state: new MonitorStateStore({ connection: ctx.redis, prefix: ctx.prefix }),
        logger,
        queues,
        clock: systemClock,
      }),
    );
    await listener.start();
    const jobs = ctx.manage('client', createJobClient({ redis: ctx.redisOptions, waitPollIntervalMs: 25 }));
    const a = await worker('a');
    const { id } = await jobs.enqueue('pdf', { documentId: 'hold:tiles_generated', source: { kind: 'file', path: '/synthetic.pdf' } });
    await waitFor(async () => (await readRuns(ctx.redis, ctx.prefix)).some((run) => run.jobId === id && run.stage === 'tiles_generated'), { timeoutMs: 15_000 });
    // The stage has run long enough for its start to be on the board (written shortly after it).
    await waitFor(async () => (await queues.pdf.getJobLogs(id)).logs.some((line) => line.endsWith('stage tiles_generated started')), { timeoutMs: 5000 });
    a.child.kill('SIGKILL');
    await a.exited;
    // The dead worker's lock would expire in 30 s: gone now, as if it had.
    await ctx.redis.del(`${bullPrefix(ctx.prefix, QUEUE)}:${QUEUE}:${id}:lock`);
    await worker('b');
    await jobs.waitForResult(id, { timeoutMs: 20_000 });
    const stalledLine = /^\d{4}-\d\d-\d\dT[\d:.]+Z stalled \(stall 1\): its worker's lock expired \(the worker died or was blocked\), so BullMQ's stall check moved it back to the queue; the next worker resumes from the last checkpoint$/;
    await waitFor(async () => (await queues.pdf.getJobLogs(id)).logs.some((line) => stalledLine.test(line)), { message: 'the stall never reached the job log' });
    const lines = (await queues.pdf.getJobLogs(id)).logs;
    expect(lines.filter((line) => stalledLine.test(line))).toHaveLength(1);
    // After the dead attempt's last line; the next worker's lines tell the resume.
    expect(lines.findIndex((line) => stalledLine.test(line))).toBeGreaterThan(lines.findIndex((line) => line.endsWith('stage tiles_generated started')));
    expect(lines.some((line) => /claimed by worker b-\d+ \(attempt 2\): resumed from tiles_generated/.test(line))).toBe(true);
    expect((await statusStore.history(id)).filter((entry) => entry.event === 'stall:detected')).toHaveLength(1);
    await listener.close();
  }, 60_000);
});
