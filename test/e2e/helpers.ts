/**
 * Shared set-up of the end-to-end suites: they combine packages that may not import each
 * other (workers and monitor), so they live outside the packages.
 */
import { UnrecoverableError, Worker } from 'bullmq';
import { bullPrefix, createJobClient, jobCatalog, RedisJobStore, statusKeys, type JobClient, type JobType, type RedisClient } from '@kai-jobs/queue';
import type { RedisTestContext } from '@kai-jobs/queue/testing';
import { createWorkerRuntime, type WorkerRuntime, type WorkerRuntimeOptions } from '@kai-jobs/workers';
import { redisSyntheticHooks } from '../../packages/workers/test/fixtures/synthetic-hooks.js';
import { createSyntheticJob } from '../../packages/workers/test/fixtures/synthetic-job.js';

export { readRuns, syntheticKeys } from '../../packages/workers/test/fixtures/synthetic-hooks.js';

/** The job store of a test prefix, on the admin connection (`checkpoints` is the same store, for its checkpoint half). */
export function stores(ctx: RedisTestContext) {
  const store = new RedisJobStore({ connection: ctx.redis, prefix: ctx.prefix });
  return { status: store, checkpoints: store };
}

/** A producer client the context closes. */
export function client(ctx: RedisTestContext): JobClient {
  return ctx.manage('client', createJobClient({ redis: ctx.redisOptions, waitPollIntervalMs: 25 }));
}

/** An in-process worker runtime running the synthetic five-stage job; the test must close it. */
export async function syntheticRuntime(ctx: RedisTestContext, workerId = 'w1', options: Partial<WorkerRuntimeOptions> = {}): Promise<WorkerRuntime> {
  const runtime = ctx.track(
    `runtime ${workerId}`,
    createWorkerRuntime({
      redis: ctx.redisOptions,
      jobs: [createSyntheticJob(redisSyntheticHooks(ctx.redis, ctx.prefix, workerId))],
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
  await runtime.start();
  return runtime;
}

/** A synthetic pdf payload whose behaviour is spelled in its documentId. */
export const pdf = (documentId: string) => ({ documentId, source: { kind: 'file' as const, path: '/synthetic.pdf' } });

/** The synthetic job's output of stage `index`. */
export const syntheticOutput = (stage: string, index: number, documentId: string) => ({ stage, index, documentId });

/** Moves a row's heartbeat and/or update time into the past, indexes included (Redis store). */
export async function backdate(redis: RedisClient, prefix: string, type: JobType, id: string, change: { heartbeatMs?: number; updateMs?: number }): Promise<void> {
  const keys = statusKeys(prefix, type);
  const [heartbeat, updated] = await redis.hmget(keys.row(id), 'last_heartbeat', 'updated_at');
  if (change.heartbeatMs !== undefined && heartbeat !== null) {
    const at = Number(heartbeat) - change.heartbeatMs;
    await redis.hset(keys.row(id), 'last_heartbeat', at);
    await redis.zadd(keys.heartbeatIndex, 'XX', at, id);
  }
  if (change.updateMs !== undefined && updated !== null) {
    const at = Number(updated) - change.updateMs;
    await redis.hset(keys.row(id), 'updated_at', at);
    await redis.zadd(keys.updateIndex, 'XX', at, id);
  }
}

/**
 * Leaves a job as BullMQ leaves one that stalled too often: its row `processing` with a
 * checkpoint of the first stage, its BullMQ job failed with "stalled more than allowable limit".
 */
export async function failLikeStalledTooOften(ctx: RedisTestContext, jobs: JobClient, documentId: string): Promise<string> {
  const { status, checkpoints } = stores(ctx);
  const { id } = await jobs.enqueue('pdf', pdf(documentId));
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const worker = new Worker(
    jobCatalog.pdf.queueName,
    async (job, token) => {
      await status.markProcessing(job.id as string, { fence: token as string, workerId: 'gone-worker', stage: 'pdf_loaded' });
      await checkpoints.saveCheckpoint({ id: job.id as string, type: 'pdf' }, {
        stage: 'pdf_loaded', stageIndex: 0, data: syntheticOutput('pdf_loaded', 0, documentId), fence: token as string, schemaVersion: 1, attempt: 1,
        progress: { nextStage: 'text_extracted', percent: 20 },
      });
      throw new UnrecoverableError('job stalled more than allowable limit');
    },
    { connection: ctx.connection(), prefix: bullPrefix(ctx.prefix, jobCatalog.pdf.queueName) },
  );
  worker.on('failed', () => done());
  await finished;
  await worker.close();
  return id;
}
