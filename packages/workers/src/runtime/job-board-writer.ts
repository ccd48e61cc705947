import { Job } from 'bullmq';
import { toError, type Clock, type Counters, type Logger, type ProgressUpdate } from '@kai-jobs/queue';

/**
 * Log lines kept per BullMQ job (BullMQ's `keepLogs`): a job restarted many times keeps its
 * latest story, and the list never grows without bound.
 */
export const JOB_LOG_KEEP_LINES = 200;

/**
 * What a job's BullMQ progress holds while kai-jobs runs it — what Bull Board shows on the
 * job's card (the ring reads `progress`) and in its Progress tab.
 */
export interface BoardProgress {
  /** Overall 0–100 (the same figure as the status row's `progress`); Bull Board draws it as the job's ring. */
  progress: number;
  /** The stage running (or last run). */
  stage: string | null;
  /** The stage's own line ("page 17 of 17"); empty between stages. */
  detail: string;
  /** The job's counters (absolute values). */
  counters: Counters;
  /** The attempt writing it (the status row's `attempt`). */
  attempt: number;
  /** Restarts so far (monitor restarts and failovers). */
  restartCount: number;
  /** The worker running the attempt. */
  workerId: string;
  /** When this was written (ISO 8601, the worker's clock). */
  updatedAt: string;
}

/** What BullMQ writes a job's log through: the queue or worker object the job belongs to. */
export type JobLogQueue = Parameters<typeof Job.addJobLog>[0];

/** What a {@link JobBoardWriter} needs. */
export interface JobBoardWriterDeps {
  job: Job;
  /** The BullMQ worker running the job (its log is written through it, with {@link JOB_LOG_KEEP_LINES}). */
  queue: JobLogQueue;
  workerId: string;
  clock: Clock;
  logger: Logger;
}

/**
 * Writes what Bull Board shows of one attempt: the job's BullMQ progress and its log lines.
 * Cheap on purpose: progress updates only change a snapshot in memory; the snapshot is
 * written at a stage change and with the process's batched heartbeat (when it changed), never
 * per page. Writes go one after another (the log reads in order) and never fail the job: an
 * error is logged at debug level and dropped — the status row stays the source of truth.
 */
export class JobBoardWriter {
  private readonly snapshot: BoardProgress;
  private dirty = false;
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly deps: JobBoardWriterDeps) {
    this.snapshot = {
      progress: 0,
      stage: null,
      detail: '',
      counters: {},
      attempt: 0,
      restartCount: 0,
      workerId: deps.workerId,
      updatedAt: new Date(deps.clock.now()).toISOString(),
    };
  }

  /** The attempt and restart count, once the status row is claimed. */
  setAttempt(attempt: number, restartCount: number): void {
    this.snapshot.attempt = attempt;
    this.snapshot.restartCount = restartCount;
    this.dirty = true;
  }

  /** Merges a progress update into the snapshot; a new stage is written at once, the rest with the next heartbeat. */
  update(update: ProgressUpdate): void {
    const stageChanged = update.stage !== undefined && update.stage !== this.snapshot.stage;
    if (update.stage !== undefined) this.snapshot.stage = update.stage;
    if (update.percent !== undefined) this.snapshot.progress = update.percent;
    if (update.detail !== undefined) this.snapshot.detail = update.detail;
    if (update.counters !== undefined) this.snapshot.counters = { ...this.snapshot.counters, ...update.counters };
    this.dirty = true;
    if (stageChanged) this.writeProgress();
  }

  /** Queues a write of the snapshot if it changed since the last one (the heartbeat calls this). */
  writeProgress(): void {
    if (!this.dirty) return;
    this.dirty = false;
    this.enqueue('progress', () => {
      this.snapshot.updatedAt = new Date(this.deps.clock.now()).toISOString();
      return this.deps.job.updateProgress({ ...this.snapshot, counters: { ...this.snapshot.counters } });
    });
  }

  /** Queues one line of the job's story for its BullMQ log, stamped with the time. */
  log(text: string): void {
    const line = `${new Date(this.deps.clock.now()).toISOString()} ${text}`;
    const { job, queue } = this.deps;
    this.enqueue('log', () => Job.addJobLog(queue, job.id as string, line, JOB_LOG_KEEP_LINES));
  }

  /** Resolves once every queued write has been sent (or has failed). */
  settled(): Promise<void> {
    return this.chain;
  }

  private enqueue(what: string, write: () => Promise<unknown>): void {
    this.chain = this.chain
      .then(write)
      .then(
        () => undefined,
        (error: unknown) => this.deps.logger.debug('a Bull Board write failed; the board shows the previous value', { what, error: toError(error).message }),
      );
  }
}
