import { Job, type Queue } from 'bullmq';
import { queueClockMs, toError, type Clock, type Logger, type RedisClient, type StatusStore } from '@kai-jobs/queue';

/** A hung attempt asked to stop by a restart decision of this tick. */
export interface StopRequested {
  queue: Queue;
  jobId: string;
  /** The stopped attempt's lock token (its fence). */
  lockToken: string;
  /** The restart's backoff: the job may run again this long after it is taken over (ms). */
  delayMs: number;
}

/** What became of one stop request once the grace ended. */
export interface TakeoverOutcome {
  jobId: string;
  /** `stopped`: the attempt handed the job back in time; `taken_over`: the monitor moved it with the lock token; `lock_changed`: another holder, left alone. */
  outcome: 'stopped' | 'taken_over' | 'lock_changed';
}

/** What {@link takeOverUnstopped} needs. */
export interface TakeoverDeps {
  redis: RedisClient;
  statusStore: Pick<StatusStore, 'appendHistory'>;
  logger: Logger;
  clock: Clock;
  /** How long an attempt asked to stop may take to hand its job back (ms). */
  graceMs: number;
  /** How often the lock is looked at during the grace (ms). Default 50. */
  pollMs?: number;
}

async function lockOf(redis: RedisClient, queue: Queue, jobId: string): Promise<string | null> {
  return redis.get(`${queue.toKey(jobId)}:lock`);
}

/**
 * The abort grace: each attempt a restart asked to stop gets `graceMs` to hand its job back.
 * One that still holds the job's lock then (a frozen — SIGSTOP, GC pause — or partitioned
 * worker) has the job taken over, fenced as failover does: its row was already moved to
 * `pending` with a new fence by the restart's compare-and-set, so nothing the frozen attempt
 * writes when it wakes lands; BullMQ's `moveToDelayed(…, lockToken)` puts the job back in the
 * queue at once (after the restart's backoff), so it resumes within one tick plus the grace instead of after the lock expires.
 * All requests of a tick share one grace window.
 */
export async function takeOverUnstopped(requests: readonly StopRequested[], deps: TakeoverDeps): Promise<TakeoverOutcome[]> {
  if (requests.length === 0) return [];
  const pollMs = deps.pollMs ?? 50;
  const deadline = deps.clock.now() + deps.graceMs;
  const open = new Set(requests);
  const outcomes: TakeoverOutcome[] = [];
  for (;;) {
    for (const request of [...open]) {
      if ((await lockOf(deps.redis, request.queue, request.jobId)) !== request.lockToken) {
        open.delete(request);
        outcomes.push({ jobId: request.jobId, outcome: 'stopped' });
      }
    }
    if (open.size === 0 || deps.clock.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, Math.max(1, deadline - deps.clock.now()))));
  }
  for (const request of open) {
    const logger = deps.logger.child({ jobId: request.jobId, queue: request.queue.name });
    const job = await Job.fromId(request.queue, request.jobId);
    if (job === undefined) {
      outcomes.push({ jobId: request.jobId, outcome: 'lock_changed' });
      continue;
    }
    try {
      // BullMQ checks the token: if the attempt handed the job back meanwhile, this is refused.
      // Moved to delayed (as the worker's own restart hand-back does), dated by Redis's clock:
      // the delayed marker wakes idle workers at once, and the restart's backoff is kept.
      await job.moveToDelayed((await queueClockMs(deps.redis)) + request.delayMs, request.lockToken);
    } catch (error) {
      logger.info('the stopped attempt let go of the job at the last moment; nothing to take over', { error: toError(error).message });
      outcomes.push({ jobId: request.jobId, outcome: 'lock_changed' });
      continue;
    }
    // BullMQ wakes one idle worker per marker, and the frozen worker's own blocking read is
    // first in Redis's line: it swallows the marker the move added, and a live worker would
    // only look again at its block timeout (seconds). A second marker reaches a live one.
    await deps.redis.zadd(request.queue.keys['marker'] as string, 0, '0').catch(() => undefined);
    logger.warn('the attempt asked to stop did not within the abort grace (frozen or partitioned): took the job over with its lock token', { graceMs: deps.graceMs });
    await deps.statusStore
      .appendHistory(request.jobId, { event: 'recovery:taken-over', stoppedFence: request.lockToken, graceMs: deps.graceMs, why: 'the stopped attempt did not hand the job back within the abort grace' })
      .catch((error: unknown) => logger.warn('could not record the takeover in the history', { error: toError(error).message }));
    outcomes.push({ jobId: request.jobId, outcome: 'taken_over' });
  }
  return outcomes;
}
