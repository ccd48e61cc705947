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
 * stage started and checkpointed, completed or failed, handed back (shutdown or a monitor
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
      writer?.update({ percent: 100, detail: '' });
      writer?.writeProgress();
      writer?.log(`completed in attempt ${attempt}`);
    }),
    events.on('job:failed', ({ jobId, stage, error }) => {
      const writer = writerOf(jobId);
      writer?.writeProgress();
      writer?.log(`failed${stage === null ? '' : ` in ${stage}`}: ${error}`);
    }),
    events.on('job:handed-back', ({ jobId, reason, stage, workerId }) => {
      const writer = writerOf(jobId);
      writer?.writeProgress();
      writer?.log(
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

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
