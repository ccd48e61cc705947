import type { Clock } from '@kai-jobs/queue';

/** Options of {@link FailureLimiter}. */
export interface FailureLimiterOptions {
  /** Failures a client may make in a burst (bucket size). */
  capacity: number;
  /** One token comes back every this many ms. */
  refillMs: number;
  /** Clients remembered at most; the least recently seen are forgotten first. */
  maxClients: number;
  clock: Clock;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * A token bucket of failed authentication attempts per client. Each failure takes a
 * token; tokens come back one per `refillMs`; a client without a whole token is refused
 * (429) until one is back — whatever it sends, so guessing cannot go on at full speed
 * by sending the right answer among the wrong ones. No timers: buckets refill lazily.
 */
export class FailureLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly options: FailureLimiterOptions) {}

  /** 0 when `client` may try; otherwise how long it must wait for its next attempt (ms). */
  retryAfterMs(client: string): number {
    const bucket = this.buckets.get(client);
    if (bucket === undefined) return 0;
    const tokens = this.refilled(bucket);
    if (tokens >= this.options.capacity) {
      this.buckets.delete(client);
      return 0;
    }
    // The small epsilon keeps float noise (2000.0000000002 ms) from adding a millisecond.
    return tokens >= 1 ? 0 : Math.ceil((1 - tokens) * this.options.refillMs - 1e-6);
  }

  /** Records one failed attempt of `client`. */
  recordFailure(client: string): void {
    const existing = this.buckets.get(client);
    const tokens = existing === undefined ? this.options.capacity : this.refilled(existing);
    // Re-insert so the map's order is least recently seen first.
    this.buckets.delete(client);
    this.buckets.set(client, { tokens: Math.max(0, tokens - 1), updatedAt: this.options.clock.now() });
    this.evict();
  }

  /** Clients currently remembered (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  private refilled(bucket: Bucket): number {
    const elapsed = Math.max(0, this.options.clock.now() - bucket.updatedAt);
    return Math.min(this.options.capacity, bucket.tokens + elapsed / this.options.refillMs);
  }

  private evict(): void {
    while (this.buckets.size > this.options.maxClients) {
      const oldest = this.buckets.keys().next().value;
      if (oldest === undefined) return;
      this.buckets.delete(oldest);
    }
  }
}
