/**
 * The page loop of the per-page stages (`text_extracted`, `tiles_generated`): a sliding window
 * of pages in flight, so the CPU pool always has the next page queued while the main thread
 * stores the previous one, and never more than `pagesInFlight` pages' results exist at once —
 * memory is bounded by the window, not by the document.
 */

/** What {@link forEachPageInOrder} needs. */
export interface PageWindow<T> {
  /** Pages 1..total are processed. */
  total: number;
  /** Most pages started and not yet consumed (≥ 1). */
  pagesInFlight: number;
  /** Called before each page is started (the stage's abort check). */
  beforeStart(): void;
  /** Starts page `pageNumber` (a CPU task); its result is consumed in page order. */
  start(pageNumber: number): Promise<T>;
  /** Consumes page `pageNumber`'s result (stores it, reports progress). Called in page order. */
  consume(pageNumber: number, result: T): Promise<void>;
}

/**
 * Runs `start` for pages 1..total with at most `pagesInFlight` pages started and not yet
 * consumed, and `consume` strictly in page order. A page's slot is freed only once it is
 * consumed, so at most `pagesInFlight` results are held. The first failure (of a start or a
 * consume) rejects; pages already started are left to settle (their rejections are handled).
 */
export async function forEachPageInOrder<T>(window: PageWindow<T>): Promise<void> {
  const { total } = window;
  if (!(window.pagesInFlight >= 1)) throw new RangeError(`pagesInFlight must be at least 1, got ${window.pagesInFlight}`);
  const started: Promise<T>[] = [];
  let next = 1;
  const fill = (): void => {
    while (next <= total && started.length < window.pagesInFlight) {
      window.beforeStart();
      const page = window.start(next);
      // Consumed in order below; until then a rejection must not count as unhandled.
      page.catch(() => undefined);
      started.push(page);
      next += 1;
    }
  };
  fill();
  for (let pageNumber = 1; pageNumber <= total; pageNumber++) {
    const result = await (started.shift() as Promise<T>);
    await window.consume(pageNumber, result);
    fill();
  }
}
