import { toError, type Logger, type StatusStore } from '@kai-jobs/queue';
import { AbortCause, AttemptAbortedError } from '../errors.js';

/** A running attempt as the check sees it. */
export interface RunningAttempt {
  jobId: string;
  /** The attempt's fence: its BullMQ lock token. */
  token: string;
  controller: AbortController;
}

/** What {@link abortSupersededAttempts} reads. */
export interface SupersededAttemptsDeps {
  store: Pick<StatusStore, 'get'>;
  /** The job's BullMQ lock value (null when there is no lock). */
  readLock(jobId: string): Promise<string | null>;
  logger: Logger;
}

const RUNNING = new Set(['processing', 'scraping']);

/**
 * After the process's named connection came back from a drop: aborts every attempt whose
 * job was taken from it meanwhile — its BullMQ lock no longer holds its token (the failover
 * watcher or BullMQ's stall check moved the job), or its status row carries another fence
 * or is no longer running (a failover or a monitor restart superseded it) — unless the row
 * was completed under the attempt's own fence (its completion landed; only the reply was lost). Such an attempt
 * could write nothing anyway (the stores reject its fence, BullMQ refuses its completion);
 * aborting it stops the stage at once instead of at its next write. Resolves with the ids of
 * the aborted attempts.
 */
export async function abortSupersededAttempts(
  attempts: Iterable<RunningAttempt>,
  deps: SupersededAttemptsDeps,
): Promise<string[]> {
  const lost: string[] = [];
  await Promise.all(
    [...attempts].map(async (attempt) => {
      let stillOurs: boolean;
      try {
        const [lock, row] = await Promise.all([deps.readLock(attempt.jobId), deps.store.get(attempt.jobId)]);
        // Completed under its own fence: its completion landed just before the drop (the reply
        // was lost); it is finishing, not lost.
        const completedByIt = row !== null && row.fence === attempt.token && row.status === 'completed';
        stillOurs = completedByIt || (lock === attempt.token && row !== null && row.fence === attempt.token && RUNNING.has(row.status));
      } catch (error) {
        // Unknown: leave the attempt; its next fenced write or heartbeat tells.
        deps.logger.warn('could not check a job after reconnecting', { jobId: attempt.jobId, error: toError(error).message });
        return;
      }
      if (stillOurs || attempt.controller.signal.aborted) return;
      lost.push(attempt.jobId);
      attempt.controller.abort(
        new AttemptAbortedError(AbortCause.LostJob, 'the job was handed to another worker while this process was cut off from Redis'),
      );
    }),
  );
  if (lost.length > 0) {
    deps.logger.warn('lost jobs while cut off from Redis: they were handed to other workers; their attempts stop here', { jobs: lost });
  }
  return lost;
}
