/**
 * Domain code never calls `Date.now()` or `setTimeout` directly: it receives a
 * {@link Clock}, so tests can control time and liveness is never judged by a
 * container's own clock (stores judge it with Redis `TIME` or Postgres `now()`).
 */
export interface Clock {
  /** Milliseconds since the epoch, by this process's clock. */
  now(): number;
  /** Resolves after `ms` milliseconds, or rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock of this process. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/**
 * A clock shifted by a fixed offset: the chaos tests use it to play a worker whose
 * clock runs ahead or behind, to show that nothing compares worker clocks.
 */
export function offsetClock(offsetMs: number, base: Clock = systemClock): Clock {
  return { now: () => base.now() + offsetMs, sleep: (ms, signal) => base.sleep(ms, signal) };
}
