import type { Job } from 'bullmq';
import {
  toError,
  writeJobBoard,
  type Clock,
  type Counters,
  type JobBoardWrite,
  type Logger,
  type ProgressUpdate,
  type RedisClient,
} from '@kai-jobs/queue';

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

/**
 * How long (ms) the attempt's first lines (claimed, its first stage started) and any line
 * between stage changes wait before they are written, so that a short attempt (claimed,
 * stage started, checkpointed, completed) goes in one write. A first stage that runs longer
 * shows its start on the board this long after it began.
 */
export const BOARD_FLUSH_DELAY_MS = 250;

/** What a {@link JobBoardWriter} needs. */
export interface JobBoardWriterDeps {
  job: Job;
  /**
   * The connection the writes go on (the runtime passes BullMQ's command connection, not its
   * blocking one). BullMQ's keys of the job are built from `job.queueQualifiedName`.
   */
  connection: RedisClient;
  workerId: string;
  clock: Clock;
  logger: Logger;
  /** Default {@link BOARD_FLUSH_DELAY_MS}. */
  flushDelayMs?: number;
}

/**
 * Writes what Bull Board shows of one attempt: the job's BullMQ progress and its log lines.
 * Cheap on purpose: progress updates only change a snapshot in memory and story lines are
 * buffered; both are written together, in one small Lua script (`writeJobBoard`), at each
 * change from one stage to the next, shortly after the attempt's first line or stage
 * ({@link BOARD_FLUSH_DELAY_MS}), with the process's batched heartbeat (when the snapshot
 * changed), and at the end of the attempt — a 1-stage job costs one write, a job of N stages
 * N, never one per page or per line. Writes go one after another (the log reads in
 * order) and never fail the job: an error is logged at debug level and dropped — the status
 * row stays the source of truth.
 */
export class JobBoardWriter {
  private readonly snapshot: BoardProgress;
  private dirty = false;
  private lines: string[] = [];
  private timer: NodeJS.Timeout | undefined;
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

  /**
   * Merges a progress update into the snapshot. A change from one stage to the next writes
   * everything buffered at once: the story so far is on the board before anything else (a
   * monitor's restart line) can follow it. The attempt's first stage is written shortly
   * ({@link BOARD_FLUSH_DELAY_MS}) with the claim, the rest of the progress with the next heartbeat.
   */
  update(update: ProgressUpdate): void {
    const previousStage = this.snapshot.stage;
    const stageChanged = update.stage !== undefined && update.stage !== previousStage;
    if (update.stage !== undefined) this.snapshot.stage = update.stage;
    if (update.percent !== undefined) this.snapshot.progress = update.percent;
    if (update.detail !== undefined) this.snapshot.detail = update.detail;
    if (update.counters !== undefined) this.snapshot.counters = { ...this.snapshot.counters, ...update.counters };
    this.dirty = true;
    if (!stageChanged) return;
    if (previousStage === null) this.scheduleFlush();
    else this.flush();
  }

  /** Writes the snapshot (if it changed since the last write) and the buffered lines now (the heartbeat calls this). */
  writeProgress(): void {
    this.flush();
  }

  /** Buffers one line of the job's story for its BullMQ log, stamped with the time; written shortly. */
  log(text: string): void {
    this.lines.push(`${new Date(this.deps.clock.now()).toISOString()} ${text}`);
    this.scheduleFlush();
  }

  /** Writes what is buffered now, then resolves once every write has been sent (or has failed). */
  settled(): Promise<void> {
    this.flush();
    return this.chain;
  }

  private scheduleFlush(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => this.flush(), this.deps.flushDelayMs ?? BOARD_FLUSH_DELAY_MS);
    // A pending board write never keeps a process alive; settled() writes it at the end.
    this.timer.unref();
  }

  /** Queues one write of the changed snapshot and the buffered lines, if there is anything to write. */
  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.dirty && this.lines.length === 0) return;
    const lines = this.lines;
    this.lines = [];
    let progressJson: string | undefined;
    if (this.dirty) {
      this.dirty = false;
      this.snapshot.updatedAt = new Date(this.deps.clock.now()).toISOString();
      progressJson = JSON.stringify(this.snapshot);
    }
    const { job, connection } = this.deps;
    const write: JobBoardWrite = {
      queueQualifiedName: job.queueQualifiedName,
      jobId: job.id as string,
      lines,
      keepLines: JOB_LOG_KEEP_LINES,
      ...(progressJson === undefined ? {} : { progressJson }),
    };
    this.chain = this.chain
      .then(() => writeJobBoard(connection, write))
      .then(
        () => undefined,
        (error: unknown) =>
          this.deps.logger.debug('a Bull Board write failed; the board shows the previous value', { lines: lines.length, error: toError(error).message }),
      );
  }
}
