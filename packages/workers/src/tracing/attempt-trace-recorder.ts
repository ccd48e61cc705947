import type { Clock, JobType } from '@kai-jobs/queue';
import type { RuntimeEventBus } from '../runtime/runtime-events.js';
import { AttemptOutcome, type AttemptRecord, type StageSpanRecord } from './attempt-tracing.js';

/**
 * Collects what one attempt did — its stages with their times, how it ended — from the
 * runtime's events, for one Sentry transaction per attempt. {@link finish} settles the
 * outcome the events did not (a failure BullMQ retries, a deferral) from the error the
 * attempt ended with.
 */
export class AttemptTraceRecorder {
  private attempt = 0;
  private restartCount = 0;
  private readonly startedAt: number;
  private readonly stages: StageSpanRecord[] = [];
  private open: { stage: string; startedAt: number } | null = null;
  private outcome: AttemptOutcome | null = null;
  private stage: string | null = null;
  private error: string | null = null;

  constructor(
    private readonly info: { jobId: string; type: JobType; workerId: string; drill: boolean },
    private readonly clock: Clock,
  ) {
    this.startedAt = clock.now();
  }

  /** The row was claimed: its attempt number and restarts so far. */
  claimed(attempt: number, restartCount: number): void {
    this.attempt = attempt;
    this.restartCount = restartCount;
  }

  stageStarted(stage: string): void {
    this.closeStage('aborted');
    this.open = { stage, startedAt: this.clock.now() };
    this.stage = stage;
  }

  stageCompleted(stage: string): void {
    if (this.open?.stage === stage) this.closeStage('ok');
  }

  /** An ending the runtime announced (completed, failed, handed back, restarted, lost). */
  ended(outcome: AttemptOutcome, stage: string | null, error?: string): void {
    this.outcome = outcome;
    if (stage !== null) this.stage = stage;
    if (error !== undefined) this.error = error;
  }

  /** The attempt's record; `thrown` is what it ended with, if it threw. */
  finish(thrown?: unknown): AttemptRecord {
    if (this.outcome === null) this.outcome = outcomeOfError(thrown);
    if (this.error === null && thrown instanceof Error && this.outcome !== AttemptOutcome.Completed) this.error = thrown.message;
    this.closeStage(this.outcome === AttemptOutcome.Failed || this.outcome === AttemptOutcome.Retrying ? 'error' : this.outcome === AttemptOutcome.Completed ? 'ok' : 'aborted');
    return {
      ...this.info,
      attempt: this.attempt,
      restartCount: this.restartCount,
      startedAt: this.startedAt,
      endedAt: this.clock.now(),
      outcome: this.outcome,
      stage: this.stage,
      error: this.error,
      stages: [...this.stages],
    };
  }

  private closeStage(status: StageSpanRecord['status']): void {
    if (this.open === null) return;
    this.stages.push({ stage: this.open.stage, startedAt: this.open.startedAt, endedAt: this.clock.now(), status });
    this.open = null;
  }
}

/** The outcome of an attempt no event announced, from what it threw (BullMQ's error classes, by name). */
function outcomeOfError(thrown: unknown): AttemptOutcome {
  if (thrown === undefined) return AttemptOutcome.Completed;
  const name = thrown instanceof Error ? thrown.name : '';
  if (name === 'DelayedError') return AttemptOutcome.Deferred;
  if (name === 'WaitingError') return AttemptOutcome.HandedBack;
  if (name === 'UnrecoverableError') return AttemptOutcome.Failed;
  if (name === 'LostJobError') return AttemptOutcome.Lost;
  return AttemptOutcome.Retrying;
}

/** Feeds each running attempt's recorder from the runtime's events; returns the unsubscribe function. */
export function recordAttemptTraces(events: RuntimeEventBus, recorderOf: (jobId: string) => AttemptTraceRecorder | undefined): () => void {
  const unsubscribers = [
    events.on('job:started', ({ jobId, attempt, restartCount }) => recorderOf(jobId)?.claimed(attempt, restartCount)),
    events.on('stage:started', ({ jobId, stage }) => recorderOf(jobId)?.stageStarted(stage)),
    events.on('stage:completed', ({ jobId, stage }) => recorderOf(jobId)?.stageCompleted(stage)),
    events.on('job:completed', ({ jobId }) => recorderOf(jobId)?.ended(AttemptOutcome.Completed, null)),
    events.on('job:failed', ({ jobId, stage, error }) => recorderOf(jobId)?.ended(AttemptOutcome.Failed, stage, error)),
    events.on('job:handed-back', ({ jobId, reason, stage }) =>
      recorderOf(jobId)?.ended(reason === 'restart' ? AttemptOutcome.Restarted : AttemptOutcome.HandedBack, stage),
    ),
    events.on('job:lost', ({ jobId, stage }) => recorderOf(jobId)?.ended(AttemptOutcome.Lost, stage)),
  ];
  return () => {
    for (const unsubscribe of unsubscribers) unsubscribe();
  };
}
