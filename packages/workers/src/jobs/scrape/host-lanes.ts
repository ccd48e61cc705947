/** A page to crawl and its link distance from the start URL. */
export interface CrawlEntry {
  url: string;
  depth: number;
}

/** The scheduled pages of one origin: FIFO, with its own concurrency and politeness delay. */
interface Lane {
  queue: CrawlEntry[];
  head: number;
  inFlight: number;
  nextStartAt: number;
  delayMs: number;
}

/** Concurrency limits of {@link HostLanes}. */
export interface LaneLimits {
  /** Requests in flight per origin at most. */
  perHost: number;
  /** Requests in flight overall at most. */
  total: number;
}

/** What {@link HostLanes.take} decided. */
export interface TakeResult {
  /** Entries to start now, each with the origin to {@link HostLanes.release} when done. */
  start: { entry: CrawlEntry; origin: string }[];
  /** When the earliest waiting lane may start its next request (ms), or null. */
  nextStartAt: number | null;
  /** True when some entry is still queued. */
  queued: boolean;
}

/**
 * The crawl's frontier split by origin. A pure scheduler: given the time, it says which
 * entries may start so that no origin has more than `perHost` requests in flight, request
 * starts on one origin are at least its delay apart, and no more than `total` run overall.
 * Lanes are served in creation order, each FIFO, so the crawl stays breadth-first.
 */
export class HostLanes {
  private readonly lanes = new Map<string, Lane>();
  private running = 0;

  constructor(private readonly limits: LaneLimits) {}

  /** Queues `entry` on `origin`'s lane; `delayMs` applies when this creates the lane. */
  push(origin: string, entry: CrawlEntry, delayMs: number): void {
    let lane = this.lanes.get(origin);
    if (lane === undefined) {
      lane = { queue: [], head: 0, inFlight: 0, nextStartAt: 0, delayMs };
      this.lanes.set(origin, lane);
    }
    lane.queue.push(entry);
  }

  /** Requests in flight. */
  get inFlight(): number {
    return this.running;
  }

  /** Takes every entry that may start at `now` (and marks it in flight). */
  take(now: number): TakeResult {
    const start: TakeResult['start'] = [];
    let nextStartAt: number | null = null;
    for (const [origin, lane] of this.lanes) {
      while (lane.head < lane.queue.length) {
        if (this.running >= this.limits.total || lane.inFlight >= this.limits.perHost) break;
        if (lane.nextStartAt > now) {
          nextStartAt = nextStartAt === null ? lane.nextStartAt : Math.min(nextStartAt, lane.nextStartAt);
          break;
        }
        const entry = lane.queue[lane.head] as CrawlEntry;
        lane.head += 1;
        if (lane.head > 1024 && lane.head * 2 > lane.queue.length) {
          // Drop the consumed head now and then, so a long crawl does not keep it alive.
          lane.queue = lane.queue.slice(lane.head);
          lane.head = 0;
        }
        lane.inFlight += 1;
        lane.nextStartAt = now + lane.delayMs;
        this.running += 1;
        start.push({ entry, origin });
      }
    }
    return { start, nextStartAt, queued: this.hasQueued() };
  }

  /** Marks one request of `origin` as finished. */
  release(origin: string): void {
    const lane = this.lanes.get(origin);
    if (lane === undefined || lane.inFlight === 0) throw new Error(`no request in flight on ${origin}`);
    lane.inFlight -= 1;
    this.running -= 1;
  }

  private hasQueued(): boolean {
    for (const lane of this.lanes.values()) if (lane.head < lane.queue.length) return true;
    return false;
  }
}
