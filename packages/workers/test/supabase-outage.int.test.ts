import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobClient, createMemoryLogger, SupabaseJobStore, WriteLagRegistry, type StatusRow } from '@kai-jobs/queue';
import {
  startRestartableEndpoint,
  startSupabaseTestStack,
  useRedisTestContext,
  waitFor,
  type RestartableEndpoint,
  type SupabaseTestStack,
} from '@kai-jobs/queue/testing';
import { createWorkerRuntime } from '../src/index.js';
import { createProgressLoopJob } from './fixtures/progress-loop-job.js';
import { readRuns, redisSyntheticHooks, syntheticKeys } from './fixtures/synthetic-hooks.js';
import { createSyntheticJob } from './fixtures/synthetic-job.js';

// A Supabase outage in the middle of a run of real jobs: the worker runtime writes status rows
// and checkpoints through supabase-js to a PostgREST-compatible endpoint, which is stopped
// (connections refused) while jobs run and started again on the same port.
const ctx = useRedisTestContext(import.meta.url);
let stack: SupabaseTestStack;

beforeAll(async () => {
  stack = await startSupabaseTestStack();
});
afterAll(async () => {
  await stack?.close();
});

const JOBS = 12;
const STAGES = ['pdf_loaded', 'text_extracted', 'tiles_generated', 'embeddings_created', 'materials_extracted'];

describe('a Supabase outage during a run of jobs', () => {
  it('keeps workers processing; every job completes, no checkpoint is lost, every row ends correct', { timeout: 90_000 }, async () => {
    const schema = await stack.createSchema('outage');
    const endpoint: RestartableEndpoint = await startRestartableEndpoint((port) =>
      stack.startEndpoint({ schemas: [schema], ...(port === undefined ? {} : { port }) }),
    );
    const connection = { url: endpoint.url, serviceRoleKey: stack.serviceRoleKey, schema, requestTimeoutMs: 1000 };
    // The worker's stores go through the endpoint that fails; the test reads through the stack's own.
    const store = new SupabaseJobStore(connection);
    const control = {
      status: new SupabaseJobStore({ url: stack.url, serviceRoleKey: stack.serviceRoleKey, schema }),
      checkpoints: new SupabaseJobStore({ url: stack.url, serviceRoleKey: stack.serviceRoleKey, schema }),
    };
    const registry = new WriteLagRegistry({ connection: ctx.connection(), prefix: ctx.prefix });
    const logger = createMemoryLogger();
    const workerId = 'outage-worker';
    const runtime = ctx.track(
      'runtime',
      createWorkerRuntime({
        redis: { url: ctx.redisUrl, prefix: ctx.prefix },
        jobs: [createSyntheticJob(redisSyntheticHooks(ctx.redis, ctx.prefix, workerId))],
        workerId,
        concurrency: { pdf: 4 },
        lockDurationMs: 5000,
        stalledIntervalMs: 2000,
        heartbeatIntervalMs: 200,
        progressThrottleMs: 0,
        cpuThreads: 1,
        backoff: { baseMs: 50, capMs: 200 },
        store,
        logger,
        // Short timeouts and backoffs so the test is fast; the claim and checkpoint budgets
        // are far longer than the outage, so no attempt fails.
        outageTolerance: {
          writeTimeoutMs: 500,
          retryBaseMs: 50,
          retryCapMs: 300,
          claimTimeoutMs: 60_000,
          checkpointTimeoutMs: 60_000,
          checkpointRetryBaseMs: 50,
          checkpointRetryCapMs: 300,
          lagReportIntervalMs: 200,
        },
      }),
    );
    const completedStages: string[] = [];
    const completedJobs: string[] = [];
    runtime.on('stage:completed', ({ jobId, stage }) => completedStages.push(`${jobId}/${stage}`));
    runtime.on('job:completed', ({ jobId }) => completedJobs.push(jobId));
    const jobs = ctx.manage('client', createJobClient({ redis: { url: ctx.redisUrl, prefix: ctx.prefix }, statusStore: control.status }));
    try {
      const ids: string[] = [];
      for (let i = 0; i < JOBS; i++) {
        ids.push((await jobs.enqueue('pdf', { documentId: `outage-${i};sleep:60`, source: { kind: 'file', path: '/synthetic.pdf' } })).id);
      }
      await runtime.start();

      // The outage starts while jobs are half-way.
      await waitFor(() => completedStages.length >= 8, { timeoutMs: 20_000, message: 'no stage completed before the outage' });
      await endpoint.stop();
      const stagesAtStop = completedStages.length;
      const jobsAtStop = completedJobs.length;

      // Down: the worker reports a write backlog (what the monitor reads to defer its verdict)
      // and keeps running the stages it can — those that do not wait for a checkpoint.
      await waitFor(async () => (await registry.read()).some((lag) => lag.workerId === workerId && lag.pendingJobs > 0 && lag.oldestPendingMs >= 1500), {
        timeoutMs: 20_000,
        message: 'the worker never reported a write backlog',
      });
      expect(await registry.isBehind(workerId, 10_000)).toBe(true);
      expect(logger.lines.some((line) => line.level === 'warn' && line.message === 'status writes are behind')).toBe(true);
      expect(logger.lines.some((line) => line.message === 'job store unavailable; the stage waits for its checkpoint')).toBe(true);
      expect(completedJobs.length).toBeLessThan(JOBS);
      const stagesDuringOutage = completedStages.length - stagesAtStop;

      await endpoint.start();
      await waitFor(async () => (await Promise.all(ids.map((id) => control.status.get(id)))).every((row) => row?.status === 'completed'), {
        timeoutMs: 45_000,
        intervalMs: 100,
        message: 'not every job completed after the outage',
      });

      // Every row ends correct.
      const rows = (await Promise.all(ids.map((id) => control.status.get(id)))) as StatusRow[];
      for (const row of rows) {
        expect(row, row.id).toMatchObject({
          status: 'completed',
          progress: 100,
          attempt: 1,
          workerId,
          counters: { total_pages: 5, completed_pages: 5 },
          result: { documentId: expect.stringMatching(/^outage-/), pages: 5 },
          error: null,
        });
        expect(row.lastHeartbeat).not.toBeNull();
      }
      // No checkpoint is lost: every stage of every job has its checkpoint.
      for (const id of ids) {
        expect((await control.checkpoints.listCheckpoints({ id, type: 'pdf' })).map((checkpoint) => checkpoint.stage), id).toEqual(STAGES);
      }
      // Each stage ran once: no attempt failed, nothing was redone.
      const runs = (await readRuns(ctx.redis, ctx.prefix)).map((run) => `${run.jobId}/${run.stage}#${run.attempt}`);
      expect(runs).toHaveLength(JOBS * STAGES.length);
      expect(new Set(runs).size).toBe(JOBS * STAGES.length);
      expect(runs.every((run) => run.endsWith('#1'))).toBe(true);
      // The outage really fell in the middle of the run.
      expect(jobsAtStop).toBeLessThan(JOBS);
      expect(stagesDuringOutage).toBeLessThan(JOBS * STAGES.length - stagesAtStop);
      // The writes caught up and the backlog report is cleared.
      await waitFor(async () => !(await registry.isBehind(workerId, 60_000)), { message: 'the worker still reports a backlog' });
      expect(logger.lines.some((line) => line.message === 'status writes caught up')).toBe(true);
      expect(endpoint.calls.filter((call) => call.fn === 'kai_save_checkpoint_and_complete' && call.status === 200)).toHaveLength(JOBS);
    } finally {
      await runtime.close();
      await endpoint.close();
      await Promise.all([store.close(), control.status.close(), control.checkpoints.close()]);
      await stack.dropSchema(schema);
    }
  });

  it('keeps the worker reported behind while a stage waits for its checkpoint, after its status writes caught up', { timeout: 60_000 }, async () => {
    // Found by the chaos suite's Supabase outage: once a worker's buffered status writes had
    // landed it reported no lag, while a stage still waited (retry backoff) to save the checkpoint
    // that carries its progress; the monitor saw a row without progress for the outage's length
    // and a worker not behind, and restarted a healthy job.
    const schema = await stack.createSchema('outage_wait');
    const endpoint = await startRestartableEndpoint((port) => stack.startEndpoint({ schemas: [schema], ...(port === undefined ? {} : { port }) }));
    const connection = { url: endpoint.url, serviceRoleKey: stack.serviceRoleKey, schema, requestTimeoutMs: 1000 };
    const store = new SupabaseJobStore(connection);
    const control = {
      status: new SupabaseJobStore({ url: stack.url, serviceRoleKey: stack.serviceRoleKey, schema }),
      checkpoints: new SupabaseJobStore({ url: stack.url, serviceRoleKey: stack.serviceRoleKey, schema }),
    };
    const registry = new WriteLagRegistry({ connection: ctx.connection(), prefix: ctx.prefix });
    const logger = createMemoryLogger();
    const workerId = 'waiting-worker';
    const runtime = ctx.track(
      'runtime',
      createWorkerRuntime({
        redis: { url: ctx.redisUrl, prefix: ctx.prefix },
        jobs: [createSyntheticJob(redisSyntheticHooks(ctx.redis, ctx.prefix, workerId))],
        workerId,
        lockDurationMs: 5000,
        stalledIntervalMs: 2000,
        heartbeatIntervalMs: 200,
        progressThrottleMs: 0,
        cpuThreads: 1,
        store,
        logger,
        // Status writes replay within ~300 ms of the store coming back; a checkpoint retry waits 2–4 s.
        outageTolerance: { writeTimeoutMs: 500, retryBaseMs: 50, retryCapMs: 300, lagReportIntervalMs: 200, checkpointRetryBaseMs: 4000, checkpointRetryCapMs: 4000 },
      }),
    );
    const jobs = ctx.manage('client', createJobClient({ redis: { url: ctx.redisUrl, prefix: ctx.prefix }, statusStore: control.status }));
    try {
      const { id } = await jobs.enqueue('pdf', { documentId: 'waits;sleep:600', source: { kind: 'file', path: '/synthetic.pdf' } });
      await runtime.start();
      await waitFor(async () => (await readRuns(ctx.redis, ctx.prefix)).some((run) => run.stage === 'pdf_loaded'), { message: 'the job never started' });
      await endpoint.stop();
      // The stage ends during the outage: its checkpoint save fails and waits for its next try.
      await waitFor(() => logger.lines.some((line) => line.message === 'job store unavailable; the stage waits for its checkpoint'), { message: 'the checkpoint never waited' });
      await endpoint.start();
      // Until the checkpoint lands, the worker must say it is behind (read first: a later "landed" cannot excuse it).
      const notBehindWhileWaiting: number[] = [];
      await waitFor(
        async () => {
          const behind = await registry.isBehind(workerId, 60_000);
          const saved = (await control.checkpoints.listCheckpoints({ id, type: 'pdf' })).some((checkpoint) => checkpoint.stage === 'pdf_loaded');
          if (!saved && !behind) notBehindWhileWaiting.push(Date.now());
          return saved;
        },
        { timeoutMs: 20_000, intervalMs: 50, message: 'the checkpoint never landed' },
      );
      expect(logger.lines.some((line) => line.message === 'status writes caught up' || line.message === 'status writes are behind')).toBe(true);
      expect(notBehindWhileWaiting).toEqual([]);
      await jobs.waitForResult(id, { timeoutMs: 20_000 });
      await waitFor(async () => !(await registry.isBehind(workerId, 60_000)), { message: 'the worker still reports a backlog' });
    } finally {
      await runtime.close();
      await endpoint.close();
      await Promise.all([store.close(), control.status.close(), control.checkpoints.close()]);
      await stack.dropSchema(schema);
    }
  });

  it('stops an attempt whose buffered writes are fenced off once the store is back (the monitor restarted the job meanwhile)', { timeout: 60_000 }, async () => {
    const schema = await stack.createSchema('outage_fence');
    const endpoint = await startRestartableEndpoint((port) => stack.startEndpoint({ schemas: [schema], ...(port === undefined ? {} : { port }) }));
    const connection = { url: endpoint.url, serviceRoleKey: stack.serviceRoleKey, schema, requestTimeoutMs: 1000 };
    const store = new SupabaseJobStore(connection);
    const control = new SupabaseJobStore({ url: stack.url, serviceRoleKey: stack.serviceRoleKey, schema });
    const registry = new WriteLagRegistry({ connection: ctx.connection(), prefix: ctx.prefix });
    const logger = createMemoryLogger();
    const workerId = 'fenced-worker';
    const runtime = ctx.track(
      'runtime',
      createWorkerRuntime({
        redis: { url: ctx.redisUrl, prefix: ctx.prefix },
        jobs: [createProgressLoopJob(redisSyntheticHooks(ctx.redis, ctx.prefix, workerId))],
        workerId,
        lockDurationMs: 5000,
        stalledIntervalMs: 2000,
        // No heartbeat in this test: the fenced-off write is the stage's progress.
        heartbeatIntervalMs: 5 * 60_000,
        progressThrottleMs: 0,
        cpuThreads: 1,
        backoff: { baseMs: 50, capMs: 200 },
        store,
        logger,
        outageTolerance: { writeTimeoutMs: 500, retryBaseMs: 50, retryCapMs: 300, lagReportIntervalMs: 200, checkpointRetryBaseMs: 50, checkpointRetryCapMs: 300 },
      }),
    );
    const lost: string[] = [];
    runtime.on('job:lost', ({ jobId }) => lost.push(jobId));
    const jobs = ctx.manage('client', createJobClient({ redis: { url: ctx.redisUrl, prefix: ctx.prefix }, statusStore: control }));
    try {
      const { id } = await jobs.enqueue('pdf', { documentId: 'fenced', source: { kind: 'file', path: '/synthetic.pdf' } });
      await runtime.start();
      await waitFor(async () => ((await control.get(id))?.progress ?? 0) > 0, { message: 'the stage never reported progress' });
      await endpoint.stop();
      await waitFor(async () => (await registry.read()).some((lag) => lag.workerId === workerId && lag.pendingJobs > 0));
      // The monitor, which still reaches Supabase, restarts the job: the running attempt's fence is void.
      const row = (await control.get(id)) as StatusRow;
      const recovered = await control.recover(id, {
        expectedFence: row.fence,
        expectedRestartCount: 0,
        action: 'restart',
        history: { event: 'recovery:restarted', reason: 'test' },
      });
      expect(recovered.applied).toBe(true);
      await endpoint.start();
      await waitFor(() => lost.includes(id), { message: 'the fenced-off attempt was not stopped' });
      expect(logger.lines.some((line) => line.message === 'a buffered status write was fenced off: the attempt lost the job')).toBe(true);
      expect((await control.get(id))?.restartCount).toBe(1);

      // BullMQ retries the job; the next attempt runs it to the end.
      await ctx.redis.set(syntheticKeys(ctx.prefix).released(id), '1');
      await waitFor(async () => (await control.get(id))?.status === 'completed', { timeoutMs: 30_000, message: 'the job never completed' });
      expect(await control.get(id)).toMatchObject({ status: 'completed', progress: 100, restartCount: 1, attempt: 2 });
    } finally {
      await runtime.close();
      await endpoint.close();
      await Promise.all([store.close(), control.close()]);
      await stack.dropSchema(schema);
    }
  });
});
