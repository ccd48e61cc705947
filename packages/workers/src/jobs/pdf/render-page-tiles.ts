/**
 * Thread side of `tiles_generated`: renders one page with pdf.js onto a @napi-rs/canvas
 * (Skia, prebuilt, no system libraries) and cuts it into PNG tiles. Runs in the CPU pool's
 * worker threads (see `renderPageTilesTask` in stages/tiles-generated.ts); the main thread
 * never imports this module, so pdf.js's rendering never blocks heartbeats.
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
    const context = canvas.getContext('2d');
    context.fillStyle = '#ffffff';
    context.fillRect(0, 0, width, height);
    try {
      // pdf.js types its canvas parameters as DOM classes; @napi-rs/canvas implements that API.
      await page.render({ canvas: canvas as never, canvasContext: context as never, viewport }).promise;
    } catch (error) {
      return { ok: false, pageNumber: input.pageNumber, reason: `page cannot be rendered (${describePdfJsFailure(error)})` };
    }
    return { ok: true, pageNumber: input.pageNumber, scale, width, height, tiles: await cutTiles(canvas, input.tileSizePx) };
  });
}

/** Cuts `canvas` into row-major tiles of `size` px; edge tiles keep only what is left. */
async function cutTiles(canvas: Canvas, size: number): Promise<RenderedTile[]> {
  const tiles: RenderedTile[] = [];
  for (let y = 0; y < canvas.height; y += size) {
    for (let x = 0; x < canvas.width; x += size) {
      const width = Math.min(size, canvas.width - x);
      const height = Math.min(size, canvas.height - y);
      const tile = createCanvas(width, height);
      tile.getContext('2d').drawImage(canvas, x, y, width, height, 0, 0, width, height);
      // A Buffer is a Uint8Array; posting it to the main thread copies it once.
      tiles.push({ x, y, width, height, png: await tile.encode('png') });
    }
  }
  return tiles;
}
