import { toError, type Clock, type Logger } from '@kai-jobs/queue';
import type { Queue } from 'bullmq';

/**
 * Log lines kept per BullMQ job (BullMQ's `keepLogs`); the workers keep the same number,
 * so a job restarted many times keeps its latest story.
 */
export const JOB_LOG_KEEP_LINES = 200;

/**
 * Adds one line to a job's BullMQ log — Bull Board's Logs tab — stamped with the time: the
 * monitor's side of the job's story (failed over, restart N of M and why, failed as stuck),
 * beside the lines its workers write. Never throws: a job removed meanwhile has no log to
 * write to, and the status row's history keeps the record either way.
 */
export async function appendJobLog(queue: Queue, jobId: string, text: string, deps: { clock: Clock; logger: Logger }): Promise<void> {
  try {
    await queue.addJobLog(jobId, `${new Date(deps.clock.now()).toISOString()} ${text}`, JOB_LOG_KEEP_LINES);
  } catch (error) {
    deps.logger.debug('could not add a line to the job log', { jobId, error: toError(error).message });
  }
}

/** `1.2 s` / `850 ms`, for log lines. */
export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}
