import type { Clock } from '@kai-jobs/queue';

/**
 * Decides when a throttled write is due: after `everyItems` items or `everyMs` milliseconds
 * since the last one, whichever comes first. Counters and resume states use it so a crawl or
 * an import writes a handful of times per second at most, never once per link or record.
 */
export class Throttle {
  private items = 0;
  private last: number;

  constructor(
    private readonly everyItems: number,
    private readonly everyMs: number,
    private readonly clock: Clock,
  ) {
    this.last = clock.now();
  }

  /** Counts `count` items; true when a write is due (call {@link done} after writing). */
  tick(count = 1): boolean {
    this.items += count;
    return this.items >= this.everyItems || this.clock.now() - this.last >= this.everyMs;
  }

  /** True when items are pending and a write is due by time alone. */
  dueByTime(): boolean {
    return this.items > 0 && this.clock.now() - this.last >= this.everyMs;
  }

  /** Records that the write happened. */
  done(): void {
    this.items = 0;
    this.last = this.clock.now();
  }
}
