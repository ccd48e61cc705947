/**
 * Keeps up to `concurrency` tasks in flight and hands their results over in input order: the
 * shape a per-page stage needs to use every CPU-pool thread while still writing its output
 * (tiles, a manifest, progress) page by page, with at most `concurrency` results held.
 */

/**
 * Runs `run(item, index)` for each item with at most `concurrency` running at once, and calls
 * `deliver(result, item, index)` for each in input order, as soon as it and every earlier one are
 * done. A new item starts only when the oldest one has been delivered, so at most `concurrency`
 * results are ever held (head-of-line waiting is the price of that bound). The first failure, of
 * a `run` or a `deliver`, stops new starts; the runs already in flight are awaited (none is left
 * unobserved) and the failure is thrown.
 */
export async function runInOrderWindow<T, R>(
  items: Iterable<T>,
  concurrency: number,
  run: (item: T, index: number) => Promise<R>,
  deliver: (result: R, item: T, index: number) => Promise<void> | void,
): Promise<void> {
  if (!(Number.isInteger(concurrency) && concurrency >= 1)) throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  const window: { item: T; index: number; result: Promise<R> }[] = [];
  const iterator = items[Symbol.iterator]();
  let index = 0;
  let exhausted = false;
  const fill = (): void => {
    while (!exhausted && window.length < concurrency) {
      const next = iterator.next();
      if (next.done === true) {
        exhausted = true;
        return;
      }
      const at = index++;
      const result = run(next.value, at);
      // Observed here so a rejection that waits behind earlier items is never "unhandled".
      result.catch(() => undefined);
      window.push({ item: next.value, index: at, result });
    }
  };
  try {
    fill();
    while (window.length > 0) {
      const head = window[0] as (typeof window)[number];
      const result = await head.result;
      window.shift();
      await deliver(result, head.item, head.index);
      fill();
    }
  } finally {
    await Promise.allSettled(window.map((entry) => entry.result));
  }
}
