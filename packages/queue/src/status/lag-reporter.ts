import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { WriteLag } from './pending-writes.js';

/** What a {@link LagReporter} needs. */
export interface LagReporterDeps {
  /** The current lag. */
  lag(): WriteLag;
  /** Whether the store answered the last call. */
  answering(): boolean;
  intervalMs: number;
  clock: Clock;
  logger: Logger;
  /** The gauge: called when writes start lagging, every interval while behind, and once caught up. */
  onLag?(lag: WriteLag): void;
}

/**
 * Says how far behind the status writes are: a warning line and the `onLag` gauge when they
 * start lagging and every `intervalMs` while behind, an info line and a zero once caught up.
 */
export class LagReporter {
  private behindSince: number | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: LagReporterDeps) {}

  /** Writes are pending: starts reporting (idempotent). */
  behind(): void {
    if (this.behindSince !== null) return;
    this.behindSince = this.deps.clock.now();
    this.report();
    this.timer = setInterval(() => this.report(), this.deps.intervalMs);
    this.timer.unref();
  }

  private report(): void {
    const lag = this.deps.lag();
    this.deps.logger.warn('status writes are behind', { ...lag, storeAnswering: this.deps.answering() });
    this.deps.onLag?.(lag);
  }

  /** Nothing is pending any more: one last report, then quiet. */
  caughtUp(): void {
    if (this.behindSince === null) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.deps.logger.info('status writes caught up', { behindForMs: this.deps.clock.now() - this.behindSince });
    this.behindSince = null;
    this.deps.onLag?.({ pendingJobs: 0, oldestPendingMs: 0 });
  }
}
