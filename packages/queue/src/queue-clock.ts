import type { RedisClient } from './connection.js';

/**
 * The queue's clock: Redis `TIME`, in ms. BullMQ dates a delayed job with the `Date.now()` of
 * the process that delays it, and each worker promotes delayed jobs by its own `Date.now()`.
 * kai-jobs schedules its restarts on this clock instead (`bullJobOptions`' `queueNowMs`, the
 * worker's restart hand-back), so a process whose clock drifted cannot push a job out of the
 * reach of every worker whose clock is right.
 */
export async function queueClockMs(redis: RedisClient): Promise<number> {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}
