import type { Queue } from 'bullmq';
import type { RedisClient } from '@kai-jobs/queue';
import type { BullView } from './classify.js';

/** Reads BullMQ's view of one job: its state and whether its lock is held. */
export async function readBullView(queue: Queue, redis: RedisClient, jobId: string): Promise<BullView> {
  const job = await queue.getJob(jobId);
  if (job === undefined || job === null) return { state: 'missing', lockHeld: false, failedReason: null };
  const state = await job.getState();
  const lockHeld = state === 'active' ? (await redis.exists(`${queue.toKey(jobId)}:lock`)) === 1 : false;
  return { state, lockHeld, failedReason: job.failedReason ?? null };
}
