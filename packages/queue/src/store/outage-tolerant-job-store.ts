import type { OutboxAlert, RecoverWithAlertInput, RecoverWithAlertResult } from '../recovery/outbox-types.js';
import type { JobType } from '../catalog/index.js';
import { systemClock, type Clock } from '../clock.js';
import { hasErrorCode, QueueErrorCode, toError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { parseOrThrow } from '../validation.js';
import {
  OutageTolerantJobStoreOptionsSchema,
  type OutageTolerantJobStoreOptions,
  type ResolvedOutageTolerantJobStoreOptions,
} from './outage-tolerant-job-store-options.js';
import { LagReporter } from '../status/lag-reporter.js';
import { PendingWrites, type PendingEntry, type PendingFinish, type WriteLag } from '../status/pending-writes.js';
import { applyBeats, applyEntry, isRetryable, type ReplayDeps } from '../status/write-replay.js';
import { provisionalRow, rememberRow, type RowMemory } from '../status/provisional-row.js';
import { checkpointSha256 } from './retention.js';
import type {
  CreateStatusInput,
  FailOptions,
  FindStaleQuery,
  HeartbeatEntry,
  HeartbeatResult,
  HistoryEntry,
  HistoryEntryInput,
  ListQuery,
  MarkProcessingInput,
  ProgressUpdate,
  RecoverInput,
  RecoverResult,
  StaleCandidate,
  StatusRow,
} from '../status/types.js';
import type {
  Checkpoint,
  FinalCheckpointInput,
  JobRef,
  JobStore,
  ResumeState,
  SaveCheckpointInput,
  SaveResumeStateInput,
} from './types.js';

type Settled<T> = { kind: 'value'; value: T } | { kind: 'error'; error: unknown } | { kind: 'timeout' };

/**
 * The one outage-tolerance wrapper of a {@link JobStore}: it keeps workers processing while the
 * store behind it answers with errors or not at all (a Supabase outage).
 *
 * Status writes:
 *
 * - `progress`, `heartbeat`, `appendHistory`, `complete` and `fail` are written through while
 *   the store answers. A write that fails retryably or takes longer than `writeTimeoutMs` is
 *   buffered and the caller goes on at once; so are all writes while the store is failing, and
 *   every later write of a job that has a write pending (they never overtake each other).
 * - The buffer coalesces per attempt (latest progress wins; history in order; a completion or
 *   failure is never dropped and is applied after the progress before it), is bounded by
 *   `maxPendingJobs`, and is replayed with exponential backoff until the store answers.
 * - A replayed write refused with `StaleFenceError` means that attempt lost the job: reported
 *   through `onStaleFence` and dropped. A replayed completion or failure refused with
 *   `InvalidTransitionError` had already been applied (a timed-out call that landed): done.
 * - `markProcessing` and `create` are not buffered (the attempt needs the fence and attempt
 *   number): they retry with backoff for up to `claimTimeoutMs`, then throw.
 * - Reads (`get`, `findStale`, `list`, `history`, `now`) and the monitor's and operator's
 *   transitions (`recover`, `deferCheck`, `cancel`) pass straight through.
 *
 * A buffered `complete` or `fail` resolves with a provisional row (what the row will be once
 * the write lands). {@link writeLag} says how far behind the writes are; {@link flushJob}
 * applies one job's pending writes now.
 *
 * Checkpoints are never buffered — a checkpoint is the resume point, so the next stage starts
 * only once it is saved: every checkpoint operation first lands the job's buffered status
 * writes (in order), then is retried on retryable errors with backoff for up to
 * `checkpointTimeoutMs`, counted in the write lag while it waits (a stage waiting for its
 * checkpoint is not stuck work), and then fails with the last error (the attempt fails and
 * BullMQ retries the job, which resumes from the checkpoints that were saved). A retried
 * `completeWithCheckpoint` refused because the job is already finished checks whether its own
 * first try landed, and if so is done.
 */
export class OutageTolerantJobStore implements JobStore {
  private readonly options: ResolvedOutageTolerantJobStoreOptions;
  private readonly inner: JobStore;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly pending: PendingWrites;
  private readonly rows: RowMemory = new Map();
  /** Per-job serialisation of writes and replays, so a job's writes never overtake each other. */
  private readonly jobLocks = new Map<string, Promise<void>>();
  /** Direct calls that timed out but may still land: a replay waits for them first. */
  private readonly inflight = new Map<string, Promise<unknown>>();
  private healthy = true;
  private failures = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private readonly lag: LagReporter;
  private readonly replay: ReplayDeps;
  /** Set when close() starts: no more background replays are scheduled. */
  private closing = false;
  /** Set when close() is done: writes go straight to the wrapped store. */
  private closed = false;
  /** Waits for the store outside this one ({@link trackWait}): job id → since when, per wait. */
  private readonly waits = new Map<symbol, { jobId: string; sinceMs: number }>();

  constructor(options: OutageTolerantJobStoreOptions) {
    this.options = parseOrThrow(OutageTolerantJobStoreOptionsSchema, options, 'OutageTolerantJobStore options');
    this.inner = this.options.store;
    this.logger = (this.options.logger ?? silentLogger).child({ component: 'outage-tolerant-job-store' });
    this.clock = this.options.clock ?? systemClock;
    this.pending = new PendingWrites(this.options.maxPendingJobs, this.options.maxHistoryPerJob);
    this.replay = {
      store: this.inner,
      pending: this.pending,
      logger: this.logger,
      onStaleFence: (event) => this.options.onStaleFence?.(event),
    };
    this.lag = new LagReporter({
      lag: () => this.writeLag(),
      answering: () => this.healthy,
      intervalMs: this.options.lagReportIntervalMs,
      clock: this.clock,
      logger: this.logger,
      ...(this.options.onLag === undefined ? {} : { onLag: this.options.onLag }),
    });
  }

  /** How far behind the writes are now: the buffered ones and the waits of {@link trackWait}. */
  writeLag(): WriteLag {
    return this.pending.lag(this.clock.now(), this.waits.values());
  }

  /**
   * Counts a wait for the store — a checkpoint operation retrying through an outage — as a
   * pending write of `jobId` until the returned function is called. The write lag, which the
   * monitor reads to tell an outage from stuck work, then covers a stage that waits for its
   * checkpoint after its status writes have caught up.
   */
  trackWait(jobId: string): () => void {
    const key = Symbol(jobId);
    this.waits.set(key, { jobId, sinceMs: this.clock.now() });
    this.lag.behind();
    return () => {
      if (!this.waits.delete(key)) return;
      if (this.waits.size === 0 && this.pending.isEmpty && this.flushTimer === undefined && this.flushing === undefined) this.lag.caughtUp();
    };
  }

  // ----- pass-through -------------------------------------------------------------------------

  now(): Promise<number> {
    return this.inner.now();
  }
  get(id: string): Promise<StatusRow | null> {
    return this.inner.get(id);
  }
  findStale(type: JobType, query: FindStaleQuery): Promise<StaleCandidate[]> {
    return this.inner.findStale(type, query);
  }
  deferCheck(type: JobType, ids: readonly string[]): Promise<void> {
    return this.inner.deferCheck(type, ids);
  }
  recoverWithAlert(id: string, input: RecoverWithAlertInput): Promise<RecoverWithAlertResult> {
    return this.inner.recoverWithAlert(id, input);
  }

  pendingAlerts(type: JobType, limit?: number): Promise<OutboxAlert[]> {
    return this.inner.pendingAlerts(type, limit);
  }

  markAlertSent(type: JobType, jobId: string, incident: number): Promise<boolean> {
    return this.inner.markAlertSent(type, jobId, incident);
  }

  recover(id: string, input: RecoverInput): Promise<RecoverResult> {
    return this.inner.recover(id, input);
  }
  cancel(id: string, reason: string): Promise<StatusRow | null> {
    return this.inner.cancel(id, reason);
  }
  history(id: string, limit?: number): Promise<HistoryEntry[]> {
    return this.inner.history(id, limit);
  }
  list(query: ListQuery): Promise<StatusRow[]> {
    return this.inner.list(query);
  }

  // ----- claims: retried, not buffered --------------------------------------------------------

  create(input: CreateStatusInput): Promise<{ row: StatusRow; created: boolean }> {
    // Idempotent by id and idempotency key: a retry after a call that landed finds the row.
    return this.retryClaim(`create of job ${input.id}`, () => this.inner.create(input));
  }

  createMany(inputs: readonly CreateStatusInput[]): Promise<{ row: StatusRow; created: boolean }[]> {
    return this.retryClaim(`create of ${inputs.length} jobs`, () => this.inner.createMany(inputs));
  }

  async markProcessing(id: string, input: MarkProcessingInput): Promise<StatusRow> {
    let retried = false;
    const row = await this.retryClaim(`markProcessing of job ${id}`, async () => {
      if (retried) {
        // The previous try may have landed without an answer: do not count a second attempt.
        const current = await this.inner.get(id);
        if (current !== null && current.fence === input.fence && (current.status === 'processing' || current.status === 'scraping')) {
          return current;
        }
      }
      retried = true;
      return this.inner.markProcessing(id, input);
    });
    rememberRow(this.rows, row);
    return row;
  }

  private async retryClaim<T>(what: string, call: () => Promise<T>): Promise<T> {
    const deadline = this.clock.now() + this.options.claimTimeoutMs;
    for (let retry = 1; ; retry++) {
      try {
        const value = await call();
        this.noteSuccess();
        return value;
      } catch (error) {
        const remaining = deadline - this.clock.now();
        if (!isRetryable(error) || remaining <= 0 || this.closed) throw error;
        this.noteFailure(error);
        const delay = Math.min(remaining, this.retryDelayMs(retry));
        this.logger.warn('status store unavailable; retrying', { what, retry, delayMs: delay, error: toError(error).message });
        await this.clock.sleep(delay);
      }
    }
  }

  // ----- buffered writes ----------------------------------------------------------------------

  async heartbeat(entries: readonly HeartbeatEntry[]): Promise<HeartbeatResult> {
    if (entries.length === 0) return { rejected: [] };
    if (this.closed) return this.inner.heartbeat(entries);
    if (this.healthy) {
      const outcome = await this.settle(this.inner.heartbeat(entries));
      if (outcome.kind === 'value') return outcome.value;
      if (outcome.kind === 'error' && !isRetryable(outcome.error)) throw outcome.error;
      this.noteFailure(outcome.kind === 'error' ? outcome.error : 'timed out');
    }
    // Never blocks its caller: beats are written when the store answers again.
    this.pending.addBeats(entries, this.clock.now());
    this.afterQueue();
    return { rejected: [] };
  }

  async progress(id: string, fence: string, update: ProgressUpdate): Promise<void> {
    await this.write(id, () => this.inner.progress(id, fence, update), () => this.pending.addProgress(id, fence, update, this.clock.now()));
  }

  async appendHistory(id: string, entry: HistoryEntryInput): Promise<void> {
    await this.write(id, () => this.inner.appendHistory(id, entry), () => this.pending.addHistory(id, entry, this.clock.now()));
  }

  async complete(id: string, fence: string, result: unknown): Promise<StatusRow> {
    return this.finish(id, fence, { kind: 'complete', result }, () => this.inner.complete(id, fence, result));
  }

  async fail(id: string, fence: string, error: string, stage?: string | null, options: FailOptions = {}): Promise<StatusRow> {
    // A buffered failure keeps its alert: the replay writes both in one step once the store answers.
    const finish: PendingFinish = { kind: 'fail', error, stage: stage ?? null, ...(options.alert === undefined ? {} : { alert: options.alert }) };
    return this.finish(id, fence, finish, () => this.inner.fail(id, fence, error, stage, options));
  }

  private async finish(id: string, fence: string, finish: PendingFinish, call: () => Promise<StatusRow>): Promise<StatusRow> {
    const row = await this.write(id, call, () => this.pending.addFinish(id, fence, finish, this.clock.now()));
    if (row !== undefined) {
      this.rows.delete(id);
      return row;
    }
    const provisional = provisionalRow(this.rows, id, fence, finish, this.clock.now());
    this.rows.delete(id);
    return provisional;
  }

  /**
   * Writes through when the store answers and nothing of the job is pending; otherwise queues
   * the write (`queue`) and resolves with undefined. A non-retryable error is thrown as before.
   */
  private write<T>(jobId: string, call: () => Promise<T>, queue: () => PendingEntry | null): Promise<T | undefined> {
    // After close nothing replays: write through, as the wrapped store would.
    if (this.closed) return call();
    return this.withJobLock(jobId, async () => {
      if (this.healthy && !this.pending.hasJob(jobId)) {
        const attempt = call();
        const outcome = await this.settle(attempt);
        if (outcome.kind === 'value') return outcome.value;
        if (outcome.kind === 'error' && !isRetryable(outcome.error)) throw outcome.error;
        if (outcome.kind === 'timeout') {
          // It may still land: a replay waits for it, so the two cannot cross.
          this.inflight.set(jobId, attempt.catch(() => undefined));
        }
        this.noteFailure(outcome.kind === 'error' ? outcome.error : `no answer within ${this.options.writeTimeoutMs} ms`);
      }
      const evicted = queue();
      if (evicted !== null) {
        this.logger.warn('status write buffer full: dropped the oldest pending progress', {
          jobId: evicted.jobId,
          historyEntries: evicted.history.length,
          maxPendingJobs: this.options.maxPendingJobs,
        });
      }
      this.afterQueue();
      return undefined;
    });
  }

  private async settle<T>(promise: Promise<T>): Promise<Settled<T>> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<Settled<T>>((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'timeout' }), this.options.writeTimeoutMs);
    });
    try {
      return await Promise.race([
        promise.then(
          (value): Settled<T> => ({ kind: 'value', value }),
          (error: unknown): Settled<T> => ({ kind: 'error', error }),
        ),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async withJobLock<T>(jobId: string, body: () => Promise<T>): Promise<T> {
    const previous = this.jobLocks.get(jobId) ?? Promise.resolve();
    let release!: () => void;
    const mine = previous.then(() => new Promise<void>((resolve) => (release = resolve)));
    this.jobLocks.set(jobId, mine);
    await previous;
    try {
      return await body();
    } finally {
      release();
      if (this.jobLocks.get(jobId) === mine) this.jobLocks.delete(jobId);
    }
  }

  // ----- replay -------------------------------------------------------------------------------

  /**
   * Applies the job's pending writes now, in order (one try). Resolves when nothing of the job
   * is pending; throws the store's retryable error when it still does not answer. A checkpoint
   * save calls this first, so a status row never gets a checkpoint's progress before the
   * progress written before it.
   */
  async flushJob(jobId: string): Promise<void> {
    if (!this.pending.hasJob(jobId) && !this.inflight.has(jobId)) return;
    try {
      await this.applyJob(jobId);
    } catch (error) {
      this.noteFailure(error);
      throw error;
    }
    this.noteSuccess();
  }

  private applyJob(jobId: string): Promise<void> {
    return this.withJobLock(jobId, async () => {
      const landing = this.inflight.get(jobId);
      if (landing !== undefined) {
        await landing;
        this.inflight.delete(jobId);
      }
      for (const entry of this.pending.entriesOf(jobId)) await applyEntry(this.replay, entry);
    });
  }

  /** One replay round: heartbeats, then every pending job (oldest first); stops at the first retryable failure. */
  private async flushRound(): Promise<void> {
    try {
      await applyBeats(this.replay);
      const jobs = [...new Set(this.pending.all().map((entry) => entry.jobId))];
      let next = 0;
      let failed = false;
      await Promise.all(
        Array.from({ length: Math.min(this.options.flushConcurrency, jobs.length) }, async () => {
          while (!failed && next < jobs.length) {
            try {
              await this.applyJob(jobs[next++] as string);
            } catch (error) {
              // The store is failing again: do not go on hammering it with the other jobs.
              failed = true;
              throw error;
            }
          }
        }),
      );
      this.noteSuccess();
    } catch (error) {
      this.noteFailure(error);
    }
  }

  private scheduleFlush(delayMs: number): void {
    if (this.closing || this.flushTimer !== undefined || this.flushing !== undefined) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.flushing = this.flushRound().finally(() => {
        this.flushing = undefined;
        this.afterRound();
      });
    }, delayMs);
    this.flushTimer.unref();
  }

  private afterQueue(): void {
    this.lag.behind();
    this.scheduleFlush(this.healthy ? 0 : this.retryDelayMs(Math.max(1, this.failures)));
  }

  private afterRound(): void {
    if (this.pending.isEmpty) {
      if (this.waits.size === 0) this.lag.caughtUp();
      return;
    }
    this.scheduleFlush(this.healthy ? 0 : this.retryDelayMs(Math.max(1, this.failures)));
  }

  private noteSuccess(): void {
    const wasFailing = !this.healthy;
    this.healthy = true;
    this.failures = 0;
    if (wasFailing && !this.pending.isEmpty) this.scheduleFlush(0);
  }

  private noteFailure(error: unknown): void {
    this.healthy = false;
    this.failures += 1;
    if (this.failures === 1) {
      this.logger.warn('status store unavailable: buffering status writes', { error: toError(error).message });
    }
  }

  /** `min(cap, base·2^(retry−1))`, half of it randomised away. */
  private retryDelayMs(retry: number): number {
    const exponential = Math.min(this.options.retryCapMs, this.options.retryBaseMs * 2 ** Math.min(retry - 1, 30));
    return Math.round(exponential - exponential * 0.5 * (this.options.random ?? Math.random)());
  }

  // ----- checkpoints: retried, never buffered -------------------------------------------------

  /** Runs a checkpoint operation of `job`, retrying retryable failures until `checkpointTimeoutMs`. */
  private async retryCheckpoint<T>(job: JobRef, operation: string, call: (retry: number) => Promise<T>, write: boolean): Promise<T> {
    const deadline = this.clock.now() + this.options.checkpointTimeoutMs;
    let endWait: (() => void) | undefined;
    for (let retry = 1; ; retry++) {
      try {
        // The job's buffered status writes land first, so the row never gets a checkpoint's
        // progress before the progress written before it.
        if (write) await this.flushJob(job.id);
        const value = await call(retry);
        endWait?.();
        return value;
      } catch (error) {
        const remaining = deadline - this.clock.now();
        if (!isRetryable(error) || remaining <= 0) {
          endWait?.();
          throw error;
        }
        endWait ??= this.trackWait(job.id);
        const delayMs = Math.min(remaining, this.checkpointRetryDelayMs(retry));
        this.logger.warn('job store unavailable; the stage waits for its checkpoint', {
          jobId: job.id,
          operation,
          retry,
          delayMs,
          error: toError(error).message,
        });
        try {
          await this.clock.sleep(delayMs, this.options.signalOf?.(job.id));
        } catch (aborted) {
          endWait?.();
          throw aborted;
        }
      }
    }
  }

  /** `min(cap, base·2^(retry−1))`, half of it randomised away. */
  private checkpointRetryDelayMs(retry: number): number {
    const { checkpointRetryBaseMs: base, checkpointRetryCapMs: cap } = this.options;
    const exponential = Math.min(cap, base * 2 ** Math.min(retry - 1, 30));
    return Math.round(exponential - exponential * 0.5 * (this.options.random ?? Math.random)());
  }

  saveCheckpoint(job: JobRef, input: SaveCheckpointInput): Promise<Checkpoint> {
    return this.retryCheckpoint(job, `checkpoint ${input.stage}`, () => this.inner.saveCheckpoint(job, input), true);
  }

  completeWithCheckpoint(job: JobRef, input: FinalCheckpointInput, result: unknown): Promise<void> {
    return this.retryCheckpoint(
      job,
      `completing with checkpoint ${input.stage}`,
      async (retry) => {
        try {
          await this.inner.completeWithCheckpoint(job, input, result);
        } catch (error) {
          if (retry > 1 && hasErrorCode(error, QueueErrorCode.InvalidTransition) && (await this.landed(job, input))) {
            this.logger.info('an earlier try of completeWithCheckpoint had landed', { jobId: job.id, stage: input.stage });
            return;
          }
          throw error;
        }
      },
      true,
    );
  }

  /** True when the stage's stored checkpoint is this attempt's, with this data: the atomic completion landed. */
  private async landed(job: JobRef, input: FinalCheckpointInput): Promise<boolean> {
    const sha256 = checkpointSha256(JSON.stringify(input.data ?? null));
    const stored = (await this.inner.listCheckpoints(job)).find((checkpoint) => checkpoint.stage === input.stage);
    return stored !== undefined && stored.fence === input.fence && stored.sha256 === sha256;
  }

  saveResumeState(job: JobRef, input: SaveResumeStateInput): Promise<void> {
    return this.retryCheckpoint(job, `resume state of ${input.stage}`, () => this.inner.saveResumeState(job, input), true);
  }

  loadResumeState(job: JobRef, stage: string): Promise<ResumeState | null> {
    return this.retryCheckpoint(job, 'loadResumeState', () => this.inner.loadResumeState(job, stage), false);
  }

  listCheckpoints(job: JobRef): Promise<Checkpoint[]> {
    return this.retryCheckpoint(job, 'listCheckpoints', () => this.inner.listCheckpoints(job), false);
  }

  clearCheckpoints(job: JobRef): Promise<void> {
    return this.retryCheckpoint(job, 'clearCheckpoints', () => this.inner.clearCheckpoints(job), false);
  }

  expireCheckpoints(job: JobRef): Promise<void> {
    return this.retryCheckpoint(job, 'expireCheckpoints', () => this.inner.expireCheckpoints(job), false);
  }

  /**
   * Replays what is pending for up to `closeTimeoutMs`, then stops; whatever is still pending is
   * dropped with an error log. Does not close the wrapped store (its owner does).
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    await this.flushing;
    const deadline = this.clock.now() + this.options.closeTimeoutMs;
    for (let retry = 1; !this.pending.isEmpty && this.clock.now() < deadline; retry++) {
      await this.flushRound();
      if (!this.pending.isEmpty && !this.healthy) await this.clock.sleep(Math.min(this.retryDelayMs(retry), Math.max(0, deadline - this.clock.now())));
    }
    this.closed = true;
    if (!this.pending.isEmpty) {
      const dropped = this.pending.clear();
      this.logger.error('closing with status writes still pending: they are lost', dropped);
    }
    this.lag.caughtUp();
  }
}
