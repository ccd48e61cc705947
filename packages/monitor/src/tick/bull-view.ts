import type { Queue } from 'bullmq';
import type { RedisClient } from '@kai-jobs/queue';
import type { BullView } from './classify.js';

/** Reads BullMQ's view of one job: its state and, when active, who holds its lock. */
export async function readBullView(queue: Queue, redis: RedisClient, jobId: string): Promise<BullView> {
  const job = await queue.getJob(jobId);
  if (job === undefined || job === null) return { state: 'missing', lockHeld: false, lockToken: null, failedReason: null };
  const state = await job.getState();
  const lockToken = state === 'active' ? await redis.get(`${queue.toKey(jobId)}:lock`) : null;
  return { state, lockHeld: lockToken !== null, lockToken, failedReason: job.failedReason ?? null };
}
