/**
 * Thread side of `tiles_generated`: renders one page with pdf.js onto a @napi-rs/canvas
 * (Skia, prebuilt, no system libraries) and cuts it into PNG tiles. Runs in the CPU pool's
 * worker threads (see `renderPageTilesTask` in stages/tiles-generated.ts); the main thread
 * never imports this module, so pdf.js's rendering never blocks heartbeats.
 *
 * Every canvas call here is synchronous, on purpose. @napi-rs/canvas's async `encode()` (up to
 * 0.1.x; fixed upstream in 1.0.6, "keep skia surface alive during async encode") hands a raw
 * pointer to the canvas's Skia surface to a libuv threadpool thread and holds no reference to
 * the canvas: when nothing in JavaScript uses the canvas after `await canvas.encode()`, a
 * garbage collection during the encode frees the surface under the encoder. That was the
 * SIGSEGV the soak saw after a few hundred renders on one long-lived thread (crashing frame in
 * skia.linux-x64-gnu.node under `node::ThreadPoolWork`, see bench/render-soak.bench.ts). A
 * synchronous encode cannot race the collector, and a thread terminated mid-task (abort, page
 * time limit) leaves no native work behind that outlives its canvases.
 */
import { createCanvas, type Canvas } from '@napi-rs/canvas';
import { describePdfJsFailure, PdfPurpose } from './pdfjs.js';
import { withThreadPage, type PageOverLimit, type ThreadDocumentInput } from './thread-documents.js';

/** What the main thread sends for one page. */
export interface RenderPageTilesInput extends ThreadDocumentInput {
  /** 1-based page number. */
  pageNumber: number;
  /** Render scale (1 = 72 dpi). */
  scale: number;
  /** Edge of a square tile (px); tiles on the right and bottom edges are smaller. */
  tileSizePx: number;
  /** Largest page bitmap (pixels); a larger page is rendered at a reduced scale. */
  maxPagePixels: number;
}

/** One tile: its place on the page bitmap and its PNG bytes. */
export interface RenderedTile {
  x: number;
  y: number;
  width: number;
  height: number;
  png: Uint8Array;
}

/**
 * The page's tiles, why the page could not be rendered (a broken page, not a broken worker),
 * or the limit it went over (which fails the job).
 */
export type RenderPageTilesOutput =
  | { ok: true; pageNumber: number; scale: number; width: number; height: number; tiles: RenderedTile[] }
  | { ok: false; pageNumber: number; reason: string; limit?: undefined }
  | PageOverLimit;

/** Renders page `pageNumber` and cuts it into tiles. The CPU task `renderPageTiles`. */
export function renderPageTiles(input: RenderPageTilesInput): Promise<RenderPageTilesOutput> {
  return withThreadPage(input, PdfPurpose.Render, async (page): Promise<RenderPageTilesOutput> => {
    const unit = page.getViewport({ scale: 1 });
    const fit = Math.sqrt(input.maxPagePixels / Math.max(1, unit.width * unit.height));
    const scale = Math.min(input.scale, fit);
    const viewport = page.getViewport({ scale });
    const width = Math.max(1, Math.ceil(viewport.width));
    const height = Math.max(1, Math.ceil(viewport.height));
    const canvas = createCanvas(width, height);
    try {
      const context = canvas.getContext('2d');
      context.fillStyle = '#ffffff';
      context.fillRect(0, 0, width, height);
      try {
        // pdf.js types its canvas parameters as DOM classes; @napi-rs/canvas implements that API.
        await page.render({ canvas: canvas as never, canvasContext: context as never, viewport }).promise;
      } catch (error) {
        return { ok: false, pageNumber: input.pageNumber, reason: `page cannot be rendered (${describePdfJsFailure(error)})` };
      }
      return { ok: true, pageNumber: input.pageNumber, scale, width, height, tiles: cutTiles(canvas, input.tileSizePx) };
    } finally {
      releaseBitmap(canvas);
    }
  });
}

/**
 * Cuts `canvas` into row-major tiles of `size` px; edge tiles keep only what is left. One tile
 * canvas serves every tile of a size (cleared between tiles) rather than one per tile: fewer
 * native allocations per page, which the collector would otherwise free whenever it gets to them.
 */
function cutTiles(canvas: Canvas, size: number): RenderedTile[] {
  const tiles: RenderedTile[] = [];
  const scratch = new Map<string, Canvas>();
  try {
    for (let y = 0; y < canvas.height; y += size) {
      for (let x = 0; x < canvas.width; x += size) {
        const width = Math.min(size, canvas.width - x);
        const height = Math.min(size, canvas.height - y);
        const shape = `${width}x${height}`;
        let tile = scratch.get(shape);
        if (tile === undefined) {
          tile = createCanvas(width, height);
          scratch.set(shape, tile);
        }
        const context = tile.getContext('2d');
        context.clearRect(0, 0, width, height);
        context.drawImage(canvas, x, y, width, height, 0, 0, width, height);
        // Synchronous: see the module comment. A Buffer is a Uint8Array; posting it to the
        // main thread copies it once.
        tiles.push({ x, y, width, height, png: tile.encodeSync('png') });
      }
    }
  } finally {
    for (const tile of scratch.values()) releaseBitmap(tile);
  }
  return tiles;
}

/**
 * Frees a canvas's pixels now instead of at the collector's convenience: shrinking a
 * @napi-rs/canvas replaces its Skia surface and drops the old one at once. A page at the
 * default `maxPagePixels` is up to 160 MB of RGBA; left to the collector, a few of them pile
 * up in a thread between collections (what pdf.js's own canvas factory does on destroy, too).
 * Safe only because nothing encodes the canvas asynchronously (see the module comment).
 */
function releaseBitmap(canvas: Canvas): void {
  canvas.width = 1;
  canvas.height = 1;
}
