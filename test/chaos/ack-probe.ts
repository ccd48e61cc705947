/**
 * A write probe for Redis restarts: one connection INCRs a counter, one write at a time, as
 * fast as Redis answers. Every reply must be higher than every reply before it; a reply that
 * is not means Redis came back without writes it had acknowledged (the difference is how
 * many), whatever the jobs' invariants say.
 */
import { Redis } from 'ioredis';

/** A running probe. */
export interface AckProbe {
  /** The highest value Redis acknowledged so far (= acknowledged writes). */
  readonly acknowledged: number;
  /** Acknowledged writes that a restart lost (0 when none). */
  readonly lost: number;
  /** Stops writing and closes the connection. */
  stop(): Promise<void>;
}

/** Starts INCRing `key` on the Redis at `url` every `intervalMs`; keeps going across restarts (it reconnects every 50 ms). */
export function startAckProbe(url: string, key: string, intervalMs = 2): AckProbe {
  // No offline queue and no retries: a write sent while Redis is down fails at once instead of
  // waiting, so each acknowledged value comes from the server that was running when it was sent.
  const redis = new Redis(url, { maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => 50 });
  redis.on('error', () => undefined);
  let acknowledged = 0;
  let last = 0;
  let lost = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const value = await redis.incr(key);
        // Counted once per regression: the replies after it climb from the value Redis came back with.
        if (value <= last) lost += last - value + 1;
        last = value;
        acknowledged = Math.max(acknowledged, value);
        // Paced: with appendfsync always every write is an fsync; a few hundred a second suffice.
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  })();
  return {
    get acknowledged() {
      return acknowledged;
    },
    get lost() {
      return lost;
    },
    async stop() {
      stopped = true;
      await loop;
      redis.disconnect();
    },
  };
}
