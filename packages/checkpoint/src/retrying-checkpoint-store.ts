import { z } from 'zod';
import {
  hasErrorCode,
  isKaiJobsError,
  parseOrThrow,
  QueueErrorCode,
  silentLogger,
  systemClock,
  toError,
  type Clock,
  type Logger,
} from '@kai-jobs/queue';
import { backoffDelayMs, BackoffPolicySchema } from './backoff.js';
import type {
  Checkpoint,
  CheckpointStore,
  CheckpointValidation,
  JobRef,
  ResumeState,
  SaveCheckpointInput,
  SaveResumeStateInput,
  StageSpec,
} from './types.js';
import { checkpointSha256 } from './validation.js';

const fn = <T>(what: string) => z.custom<T>((value) => typeof value === 'function', { message: `expected ${what}` });

/** Options of {@link RetryingCheckpointStore}. */
export const RetryingCheckpointStoreOptionsSchema = z
  .object({
    /** The store to retry (e.g. a `SupabaseCheckpointStore`); not closed by this one. Required. */
    store: z.custom<CheckpointStore>((value) => typeof value === 'object' && value !== null, { message: 'expected a CheckpointStore' }),
    /** How long one operation keeps retrying before its last error is thrown (ms). Default 120000. */
    timeoutMs: z.number().int().positive().default(120_000),
    /** Delays between retries: exponential from `baseMs` to `capMs`, with jitter. Default base 250 ms, cap 10 s. */
    backoff: BackoffPolicySchema.prefault({ baseMs: 250, capMs: 10_000 }),
    /**
     * Called before every try of a write, e.g. to apply the job's buffered status writes first
     * (`BufferedStatusStore.flushJob`), so the row never gets a checkpoint's progress before the
     * progress written before it. Its retryable errors are retried like the write's.
     */
    beforeWrite: fn<(job: JobRef) => Promise<void>>('a function').optional(),
    /**
     * Called when an operation for `job` starts waiting for the store (its first retryable
     * failure); the function it returns is called when that operation ends, landed or not. The
     * worker runtime counts such waits in its write lag (`BufferedStatusStore.trackWait`), so a
     * stage waiting for its checkpoint through an outage is not taken for stuck work.
     */
    onWait: fn<(job: JobRef) => () => void>('a function').optional(),
    /** The signal of the attempt writing for `job`, if any: waiting between retries stops when it aborts. */
    signalOf: fn<(job: JobRef) => AbortSignal | undefined>('a function').optional(),
    /** Structured logger. Default: silent. */
    logger: z.custom<Logger>((value) => typeof value === 'object' && value !== null).optional(),
    /** Clock for the deadline and the waits. Default the system clock. */
    clock: z.custom<Clock>((value) => typeof value === 'object' && value !== null).optional(),
  })
  .strict();
/** What callers pass to construct a {@link RetryingCheckpointStore}. */
export type RetryingCheckpointStoreOptions = z.input<typeof RetryingCheckpointStoreOptionsSchema>;

/** Retryable: the store's own retryable errors, and anything that is not a kai-jobs error (a network failure). */
function isRetryable(error: unknown): boolean {
  return isKaiJobsError(error) ? error.retryable : true;
}

/**
 * A {@link CheckpointStore} that waits out an outage of the store behind it. Checkpoints are
 * never buffered — a checkpoint is the resume point, so the next stage starts only once it is
 * saved: every operation is retried on retryable errors with exponential backoff, for up to
 * `timeoutMs`, then fails with the last error (the attempt fails and BullMQ retries the job,
 * which resumes from the checkpoints that were saved). Saves are idempotent (a stage's
 * checkpoint is replaced); a retried `saveAndComplete` refused because the job is already
 * finished checks whether its own first try landed, and if so is done.
 */
export class RetryingCheckpointStore implements CheckpointStore {
  private readonly inner: CheckpointStore;
  private readonly options: z.output<typeof RetryingCheckpointStoreOptionsSchema>;
  private readonly logger: Logger;
  private readonly clock: Clock;

  constructor(options: RetryingCheckpointStoreOptions) {
    this.options = parseOrThrow(RetryingCheckpointStoreOptionsSchema, options, 'RetryingCheckpointStore options');
    this.inner = this.options.store;
    this.logger = (this.options.logger ?? silentLogger).child({ component: 'retrying-checkpoint-store' });
    this.clock = this.options.clock ?? systemClock;
  }

  private async retry<T>(job: JobRef, operation: string, call: (retry: number) => Promise<T>, write = false): Promise<T> {
    const deadline = this.clock.now() + this.options.timeoutMs;
    let endWait: (() => void) | undefined;
    for (let retry = 1; ; retry++) {
      try {
        if (write) await this.options.beforeWrite?.(job);
        const value = await call(retry);
        endWait?.();
        return value;
      } catch (error) {
        const remaining = deadline - this.clock.now();
        if (!isRetryable(error) || remaining <= 0) {
          endWait?.();
          throw error;
        }
        endWait ??= this.options.onWait?.(job);
        const delayMs = Math.min(remaining, backoffDelayMs(this.options.backoff, retry));
        this.logger.warn('checkpoint store unavailable; the stage waits for its checkpoint', {
          jobId: job.id,
          operation,
          retry,
          delayMs,
          error: toError(error).message,
        });
        try {
          await this.clock.sleep(delayMs, this.options.signalOf?.(job));
        } catch (aborted) {
          endWait?.();
          throw aborted;
        }
      }
    }
  }

  save(job: JobRef, input: SaveCheckpointInput): Promise<Checkpoint> {
    return this.retry(job, `checkpoint ${input.stage}`, () => this.inner.save(job, input), true);
  }

  saveAndComplete(job: JobRef, input: Omit<SaveCheckpointInput, 'progress'>, result: unknown): Promise<void> {
    return this.retry(
      job,
      `completing with checkpoint ${input.stage}`,
      async (retry) => {
        try {
          await this.inner.saveAndComplete(job, input, result);
        } catch (error) {
          if (retry > 1 && hasErrorCode(error, QueueErrorCode.InvalidTransition) && (await this.landed(job, input))) {
            this.logger.info('an earlier try of saveAndComplete had landed', { jobId: job.id, stage: input.stage });
            return;
          }
          throw error;
        }
      },
      true,
    );
  }

  /** True when the stage's stored checkpoint is this attempt's, with this data: the atomic save-and-complete landed. */
  private async landed(job: JobRef, input: Omit<SaveCheckpointInput, 'progress'>): Promise<boolean> {
    const sha256 = checkpointSha256(JSON.stringify(input.data ?? null));
    const stored = (await this.inner.list(job)).find((checkpoint) => checkpoint.stage === input.stage);
    return stored !== undefined && stored.fence === input.fence && stored.sha256 === sha256;
  }

  saveResumeState(job: JobRef, input: SaveResumeStateInput): Promise<void> {
    return this.retry(job, `resume state of ${input.stage}`, () => this.inner.saveResumeState(job, input), true);
  }

  loadResumeState(job: JobRef, stage: string): Promise<ResumeState | null> {
    return this.retry(job, 'loadResumeState', () => this.inner.loadResumeState(job, stage));
  }

  list(job: JobRef): Promise<Checkpoint[]> {
    return this.retry(job, 'list', () => this.inner.list(job));
  }

  latestValid(job: JobRef, stages: readonly StageSpec[]): Promise<CheckpointValidation> {
    return this.retry(job, 'latestValid', () => this.inner.latestValid(job, stages));
  }

  clear(job: JobRef): Promise<void> {
    return this.retry(job, 'clear', () => this.inner.clear(job));
  }

  expire(job: JobRef): Promise<void> {
    return this.retry(job, 'expire', () => this.inner.expire(job));
  }

  /** Does not close the wrapped store (its owner does). */
  async close(): Promise<void> {}
}
