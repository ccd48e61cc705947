/** BullMQ's retention of finished jobs, set on the client (`KAI_RETENTION_BULLMQ_*`), reaches the jobs in Redis. */
import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { bullJobOptions, bullPrefix, createJobClient, finishedBullJobsOptions, jobCatalog, parseRetentionEnv } from '../src/index.js';
import { useRedisTestContext } from '../src/testing.js';

const ctx = useRedisTestContext(import.meta.url);

describe('finished BullMQ jobs: retention from the environment', () => {
  it('bullJobOptions keeps the defaults unless told, in whole seconds of at least one', () => {
    expect(bullJobOptions('pdf', 'a')).toMatchObject({ removeOnComplete: { age: 86_400, count: 10_000 }, removeOnFail: { age: 604_800, count: 50_000 } });
    expect(bullJobOptions('pdf', 'a', { keep: { completedMs: 1500, failedMs: 3_600_000 } })).toMatchObject({
      removeOnComplete: { age: 2, count: 10_000 },
      removeOnFail: { age: 3600, count: 50_000 },
    });
  });

  it('KAI_RETENTION_BULLMQ_* given to the client lands in the stored job options', async () => {
    const { retention, problems } = parseRetentionEnv({ KAI_RETENTION_BULLMQ_COMPLETED: '1h', KAI_RETENTION_BULLMQ_FAILED: '2d' });
    expect(problems).toEqual([]);
    const finishedJobs = finishedBullJobsOptions(retention);
    expect(finishedJobs).toEqual({ completedMs: 3_600_000, failedMs: 172_800_000 });
    expect(finishedBullJobsOptions({})).toBeUndefined();
    const jobs = ctx.manage('client', createJobClient({ redis: ctx.redisOptions, ...(finishedJobs ? { finishedJobs } : {}) }));
    const { id } = await jobs.enqueue('scrape', { sessionId: 'sess-keep', sourceUrl: 'https://example.com/' });
    const { queueName } = jobCatalog.scrape;
    const queue = ctx.manage('queue', new Queue(queueName, { connection: ctx.redis, prefix: bullPrefix(ctx.prefix, queueName) }));
    const job = await queue.getJob(id);
    expect(job?.opts.removeOnComplete).toEqual({ age: 3600, count: 10_000 });
    expect(job?.opts.removeOnFail).toEqual({ age: 172_800, count: 50_000 });
  });
});
