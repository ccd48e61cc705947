import type { Clock, Counters, ProgressUpdate, StatusStore } from '@kai-jobs/queue';

/** What a {@link ProgressReporter} needs. */
export interface ProgressReporterDeps {
  store: Pick<StatusStore, 'progress'>;
  jobId: string;
  fence: string;
  /** Least time between two writes (ms); updates in between are merged. */
  throttleMs: number;
  clock: Clock;
  /** A scheduled write failed (e.g. the fence was superseded). */
  onError(error: unknown): void;
  /** Sees every update as reported, before throttling (Bull Board's progress snapshot). */
  onReport?(update: ProgressUpdate): void;
}

/**
 * Coalesces a job's progress, detail and counter updates into at most one status write per
 * `throttleMs` — a stage may report every page or product without a write each time. The
 * latest value of every field wins; `flush()` writes what is pending now.
 */
export class ProgressReporter {
  private pending: ProgressUpdate | null = null;
  private lastWriteAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> = Promise.resolve();
  /** Longest time between two writes of this job so far (ms), for threshold advice. */
  maxGapMs = 0;
  private previousWriteAt: number | null = null;
  /** Whether the row may show a detail of this attempt (one was written or is pending). */
  private detailShown = false;

  constructor(private readonly deps: ProgressReporterDeps) {}

  /** Merges `update` into the pending write; writes now if the throttle allows. */
  async report(update: ProgressUpdate): Promise<void> {
    if (update.detail !== undefined && update.detail !== '') this.detailShown = true;
    this.deps.onReport?.(update);
    this.pending = merge(this.pending, update);
    const now = this.deps.clock.now();
    if (now - this.lastWriteAt >= this.deps.throttleMs) {
      await this.flush();
      return;
    }
    if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush().catch((error: unknown) => this.deps.onError(error));
      }, this.deps.throttleMs - (now - this.lastWriteAt));
      this.timer.unref();
    }
  }

  /** Writes what is pending (waits for a write in flight first). */
  async flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    await this.inFlight;
    const update = this.pending;
    if (update === null) return;
    this.pending = null;
    const now = this.deps.clock.now();
    this.lastWriteAt = now;
    this.noteWrite(now);
    this.inFlight = this.deps.store.progress(this.deps.jobId, this.deps.fence, update);
    await this.inFlight;
  }

  /**
   * Clears the detail the row shows ("page 17 of 17" of a stage that is over), when the row
   * may show one: a stage that never reported a detail costs no write here.
   */
  async clearDetail(): Promise<void> {
    if (!this.detailShown) return;
    this.detailShown = false;
    await this.report({ detail: '' });
  }

  /** Records that the status row's `updated_at` moved by another write (a checkpoint save). */
  noteWrite(at: number = this.deps.clock.now()): void {
    if (this.previousWriteAt !== null) this.maxGapMs = Math.max(this.maxGapMs, at - this.previousWriteAt);
    this.previousWriteAt = at;
  }

  /** Drops anything pending and stops the timer. */
  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = null;
  }
}

function merge(current: ProgressUpdate | null, next: ProgressUpdate): ProgressUpdate {
  if (current === null) return { ...next, ...(next.counters ? { counters: { ...next.counters } } : {}) };
  const counters: Counters | undefined =
    current.counters || next.counters ? { ...current.counters, ...next.counters } : undefined;
  return { ...current, ...next, ...(counters ? { counters } : {}) };
}
