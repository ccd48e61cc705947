import type { JobBoardWriter } from './job-board-writer.js';
import type { RuntimeEventBus } from './runtime-events.js';

/** What {@link tellJobStories} needs to find an attempt's writer and its job's stages. */
export interface JobStoryDeps {
  events: RuntimeEventBus;
  /** The board writer of the attempt running `jobId` in this process, if any. */
  writerOf(jobId: string): JobBoardWriter | undefined;
  /** The stage names of the attempt running `jobId`, in order. */
  stagesOf(jobId: string): readonly string[];
  /** The writers of every attempt running in this process. */
  activeWriters(): Iterable<JobBoardWriter>;
}

/**
 * Tells each job's story in its BullMQ log (Bull Board's Logs tab) and keeps its BullMQ
 * progress current, from the runtime's own events: claimed, resumed from a checkpoint,
 * stage started and checkpointed, completed or failed, an attempt failed and retried by BullMQ, handed back (shutdown or a monitor
 * restart), fenced off. The monitor writes its side (failed over, restart N of M, failed as
 * stuck) into the same log. Returns the unsubscribe function.
 */
export function tellJobStories(deps: JobStoryDeps): () => void {
  const { events, writerOf } = deps;
  const unsubscribers = [
    events.on('job:started', ({ jobId, attempt, restartCount, resumeIndex, workerId }) => {
      const writer = writerOf(jobId);
      if (writer === undefined) return;
      writer.setAttempt(attempt, restartCount);
      const stages = deps.stagesOf(jobId);
      const claimed = `claimed by worker ${workerId} (attempt ${attempt}${restartCount > 0 ? `, after ${plural(restartCount, 'restart')}` : ''})`;
      if (resumeIndex >= stages.length && stages.length > 0) {
        writer.log(`${claimed}: every stage was restored from its checkpoint; only completing the job`);
      } else if (resumeIndex > 0) {
        writer.log(`${claimed}: resumed from ${stages[resumeIndex] ?? '?'}, restored ${stages.slice(0, resumeIndex).join(', ')} from their checkpoints`);
      } else if (attempt > 1 || restartCount > 0) {
        writer.log(`${claimed}: no valid checkpoint, starting again at ${stages[0] ?? '?'}`);
      } else {
        writer.log(claimed);
      }
    }),
    events.on('stage:started', ({ jobId, stage, percent }) => {
      const writer = writerOf(jobId);
      writer?.log(`stage ${stage} started`);
      writer?.update({ stage, percent, detail: '' });
    }),
    events.on('stage:completed', ({ jobId, stage }) => writerOf(jobId)?.log(`stage ${stage} checkpointed`)),
    events.on('job:completed', ({ jobId, attempt }) => {
      const writer = writerOf(jobId);
      // Written with the attempt's last flush (the runtime settles the writer as the attempt ends).
      writer?.update({ percent: 100, detail: '' });
      writer?.log(`completed in attempt ${attempt}`);
    }),
    events.on('job:failed', ({ jobId, stage, error }) => {
      writerOf(jobId)?.log(`failed${stage === null ? '' : ` in ${stage}`}: ${error}`);
    }),
    events.on('job:retrying', ({ jobId, stage, error, attempt, attempts, delayMs }) =>
      writerOf(jobId)?.log(
        `attempt ${attempt} failed${stage === null ? '' : ` in ${stage}`}: ${error}; BullMQ retries it (attempt ${attempt + 1} of ${attempts})${delayMs === null ? '' : ` ${formatDelay(delayMs)}`}`,
      ),
    ),
    events.on('job:handed-back', ({ jobId, reason, stage, workerId }) => {
      writerOf(jobId)?.log(
        reason === 'shutdown'
          ? `handed back to the queue at shutdown by worker ${workerId}${stage === null ? '' : ` (in ${stage})`}: the next worker resumes from the last checkpoint`
          : `stopped on the monitor's request${stage === null ? '' : ` in ${stage}`}: the job restarts from its last checkpoint`,
      );
    }),
    events.on('job:lost', ({ jobId, stage, workerId }) =>
      writerOf(jobId)?.log(
        `fenced off${stage === null ? '' : ` in ${stage}`}: another attempt holds the job now; worker ${workerId} stopped this one and writes nothing more`,
      ),
    ),
    // Progress reaches BullMQ with the batched heartbeat (what changed since), not per page.
    events.on('heartbeat:written', () => {
      for (const writer of deps.activeWriters()) writer.writeProgress();
    }),
  ];
  return () => {
    for (const unsubscribe of unsubscribers) unsubscribe();
  };
}

/**
 * `at once`, `in about 850 ms`, `in about 1.5 s`, `in about 2 min 5 s`: a backoff, for a log
 * line ("about": the policy's jitter is drawn again when BullMQ computes its own delay).
 */
function formatDelay(ms: number): string {
  if (ms <= 0) return 'at once';
  if (ms < 1000) return `in about ${Math.round(ms)} ms`;
  if (ms < 60_000) return `in about ${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `in about ${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
