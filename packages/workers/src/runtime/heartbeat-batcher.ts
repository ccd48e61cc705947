import { toError, type Clock, type HeartbeatEntry, type JobType, type Logger, type StatusStore } from '@kai-jobs/queue';

/** What {@link HeartbeatBatcher} needs. */
export interface HeartbeatBatcherDeps {
  store: Pick<StatusStore, 'heartbeat'>;
  intervalMs: number;
  clock: Clock;
  logger: Logger;
  /** Called with the ids whose attempt lost the job (fence superseded or job finished elsewhere). */
  onRejected(ids: readonly string[]): void;
  /** Called after each write with the number of jobs written (for metrics and tests). */
  onBeat?(count: number, lagMs: number): void;
}

/**
 * One timer per process writes the heartbeat of all its active jobs in one batched store
 * write every interval. When the timer fires more than 1.2× late, the event loop was
 * blocked (CPU work on the main thread): it logs a warning with the lag.
 */
export class HeartbeatBatcher {
  private readonly active = new Map<string, HeartbeatEntry>();
  private timer: NodeJS.Timeout | undefined;
  private expectedAt = 0;
  private writing: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Recent beats' lags (store of the last 200), to report each job's longest heartbeat gap. */
  private readonly recentLags: { at: number; lagMs: number }[] = [];

  constructor(private readonly deps: HeartbeatBatcherDeps) {}

  /** Starts the timer (idempotent). */
  start(): void {
    if (this.timer !== undefined || this.stopped) return;
    this.schedule();
  }

  private schedule(): void {
    this.expectedAt = this.deps.clock.now() + this.deps.intervalMs;
    this.timer = setTimeout(() => this.beat(), this.deps.intervalMs);
    this.timer.unref();
  }

  private beat(): void {
    const lagMs = Math.max(0, this.deps.clock.now() - this.expectedAt);
    if (lagMs > this.deps.intervalMs * 0.2) {
      this.deps.logger.warn('heartbeat timer fired late: the event loop was blocked', {
        lagMs,
        intervalMs: this.deps.intervalMs,
      });
    }
    this.recentLags.push({ at: this.deps.clock.now(), lagMs });
    if (this.recentLags.length > 200) this.recentLags.shift();
    this.writing = this.writeNow(lagMs);
    void this.writing.finally(() => {
      if (!this.stopped) this.schedule();
    });
  }

  /** Writes the heartbeats of every active job now (one store call). */
  async writeNow(lagMs = 0): Promise<void> {
    const entries = [...this.active.values()];
    if (entries.length === 0) return;
    try {
      const { rejected } = await this.deps.store.heartbeat(entries);
      this.deps.onBeat?.(entries.length, lagMs);
      if (rejected.length > 0) {
        for (const id of rejected) this.active.delete(id);
        this.deps.onRejected(rejected);
      }
    } catch (error) {
      // A failed heartbeat is retried at the next interval; the job keeps running.
      this.deps.logger.warn('heartbeat write failed', { jobs: entries.length, error: toError(error).message });
    }
  }

  /** Starts heartbeating `id` for the attempt holding `fence`. */
  add(id: string, type: JobType, fence: string): void {
    this.active.set(id, { id, type, fence });
  }

  /** Stops heartbeating `id`. */
  remove(id: string): void {
    this.active.delete(id);
  }

  /** The longest gap between two heartbeats since `sinceMs` (process clock): the interval plus the worst lag. */
  maxGapSince(sinceMs: number): number {
    let worst = 0;
    for (const beat of this.recentLags) if (beat.at >= sinceMs) worst = Math.max(worst, beat.lagMs);
    return this.deps.intervalMs + worst;
  }

  /** Jobs being heartbeated. */
  get size(): number {
    return this.active.size;
  }

  /** Stops the timer and waits for a write in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.writing;
  }
}
