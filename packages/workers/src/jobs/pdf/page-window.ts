/**
 * The page loop of the per-page stages (`text_extracted`, `tiles_generated`): a sliding window
 * of pages in flight, so the CPU pool always has the next page queued while the main thread
 * stores the previous one, and never more than `pagesInFlight` pages' results exist at once —
 * memory is bounded by the window, not by the document.
 */
import { runInOrderWindow } from '../../cpu/in-order-window.js';

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
 * consumed, and `consume` strictly in page order — the CPU pool's {@link runInOrderWindow} over
 * page numbers, with the stage's abort check before each start. A page's slot is freed only once
 * it is consumed, so at most `pagesInFlight` results are held. The first failure (of a start or a
 * consume) stops new starts and rejects once the pages already started have settled.
 */
export async function forEachPageInOrder<T>(window: PageWindow<T>): Promise<void> {
  const { total } = window;
  if (!(Number.isInteger(window.pagesInFlight) && window.pagesInFlight >= 1)) throw new RangeError(`pagesInFlight must be a whole number of at least 1, got ${window.pagesInFlight}`);
  await runInOrderWindow(
    pageNumbers(total),
    window.pagesInFlight,
    (pageNumber) => {
      window.beforeStart();
      return window.start(pageNumber);
    },
    (result, pageNumber) => window.consume(pageNumber, result),
  );
}

function* pageNumbers(total: number): Generator<number> {
  for (let pageNumber = 1; pageNumber <= total; pageNumber++) yield pageNumber;
}
