import { z } from 'zod';
import { ArtifactRefSchema } from '@kai-jobs/queue';
import { defineCpuTask, taskModuleUrl } from '../../../cpu/cpu-task.js';
import { defineStage, type StageDefinition } from '../../../staged-job.js';
import type { ResolvedPdfJobOptions } from '../config.js';
import { forEachPageInOrder } from '../page-window.js';
import { pageThreadLimitError, PdfLimitError } from '../pdf-limits.js';
import type { RenderPageTilesInput, RenderPageTilesOutput } from '../render-page-tiles.js';
import { withLocalPdf } from './local-pdf.js';
import type { PdfLoadedStage } from './pdf-loaded.js';

/**
 * The CPU task that renders one page into tiles. Declared by URL so the main thread never
 * loads pdf.js's renderer or the canvas module; only the pool's threads import it.
 */
export const renderPageTilesTask = defineCpuTask<RenderPageTilesInput, RenderPageTilesOutput>(
  taskModuleUrl('../render-page-tiles.ts', import.meta.url),
  'renderPageTiles',
);

/** One entry of the tile manifest. */
export const TileManifestEntrySchema = z.object({
  page: z.number().int().positive(),
  /** Left edge on the page bitmap (px). */
  x: z.number().int().nonnegative(),
  /** Top edge on the page bitmap (px). */
  y: z.number().int().nonnegative(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  key: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().positive(),
});
/** One entry of the tile manifest. */
export type TileManifestEntry = z.infer<typeof TileManifestEntrySchema>;

/** The `manifest.json` artifact of `tiles_generated`. */
export const TileManifestSchema = z.object({
  tileSizePx: z.number().int().positive(),
  /** Each rendered page's bitmap size and the scale used (lower than asked for oversized pages). */
  pages: z.array(z.object({ page: z.number().int().positive(), width: z.number().int(), height: z.number().int(), scale: z.number() })),
  /** Pages that could not be rendered, with the reason. */
  failedPages: z.array(z.object({ page: z.number().int().positive(), reason: z.string() })),
  tiles: z.array(TileManifestEntrySchema),
});
/** The tile manifest. */
export type TileManifest = z.infer<typeof TileManifestSchema>;

/** Output of `tiles_generated`. */
export const TilesGeneratedOutputSchema = z.object({
  /** True when the payload asked for no tiles (`options.skipTiles`). */
  skipped: z.boolean(),
  tiles: z.number().int().nonnegative(),
  pagesRendered: z.number().int().nonnegative(),
  failedPageCount: z.number().int().nonnegative(),
  scale: z.number().positive(),
  tileSizePx: z.number().int().positive(),
  /** The manifest (every tile's page, position, key and sha256); null when skipped. */
  manifest: ArtifactRefSchema.nullable(),
});
/** Output of `tiles_generated`. */
export type TilesGeneratedOutput = z.infer<typeof TilesGeneratedOutputSchema>;

/** The `tiles_generated` stage's definition type. */
export type TilesGeneratedStage = StageDefinition<'pdf', 'tiles_generated', typeof TilesGeneratedOutputSchema>;

/**
 * Builds the `tiles_generated` stage: each page rendered at `renderScale` in a worker thread
 * and cut into `tileSizePx` PNG tiles (`page-<n>/tile-<row>-<col>.png`), plus a manifest.
 * `pagesInFlight` pages render at once; tiles are stored as each page comes back, in page order.
 * The thread reads the PDF from a local path: the artifact's own file when the store is on
 * disk, otherwise a temporary copy removed at the end. A page over a limit (area, the
 * thread's heap, `limits.pageTimeoutMs`) fails the job with a `PdfLimitError`; a page that
 * merely cannot be drawn is listed in the manifest.
 */
export function createTilesGeneratedStage(options: ResolvedPdfJobOptions, deps: { loaded: PdfLoadedStage }): TilesGeneratedStage {
  const task = { ...renderPageTilesTask, timeoutMs: options.limits.pageTimeoutMs };
  return defineStage({
    name: 'tiles_generated',
    output: TilesGeneratedOutputSchema,
    weight: 4,
    async run(ctx, previous) {
      const loaded = previous.get(deps.loaded);
      const { renderScale: scale, tileSizePx, skipTiles } = ctx.payload.options;
      if (skipTiles) {
        await ctx.progress(100, 'tiles skipped');
        return { skipped: true, tiles: 0, pagesRendered: 0, failedPageCount: 0, scale, tileSizePx, manifest: null };
      }
      const total = loaded.pagesToProcess;
      const manifest: TileManifest = { tileSizePx, pages: [], failedPages: [], tiles: [] };
      // The thread checks the file's sha256 against the checkpoint when it opens it.
      await withLocalPdf(ctx.artifacts, loaded.pdf, async (pdfPath) => {
        // Pages render `pagesInFlight` at a time (the pool's threads in parallel) and their tiles
        // are written in page order as each page comes back, so at most that many pages' tiles
        // are in memory; the manifest keeps only each tile's small entry.
        await forEachPageInOrder<RenderPageTilesOutput>({
          total,
          pagesInFlight: options.pagesInFlight,
          beforeStart: () => ctx.throwIfAborted(),
          start: (pageNumber) =>
            ctx
              .runInWorkerThread(task, {
                pdfPath,
                sha256: loaded.sha256,
                pageNumber,
                scale,
                tileSizePx,
                maxPagePixels: options.maxPagePixels,
                maxImagePixels: options.limits.maxImagePixels,
                maxPageAreaPt2: options.limits.maxPageAreaPt2,
              })
              .catch((error: unknown) => {
                throw pageThreadLimitError(error, pageNumber, 'rendering') ?? error;
              }),
          consume: async (pageNumber, rendered) => {
            if (rendered.ok) {
              manifest.pages.push({ page: pageNumber, width: rendered.width, height: rendered.height, scale: rendered.scale });
              for (const tile of rendered.tiles) {
                const row = Math.floor(tile.y / tileSizePx);
                const column = Math.floor(tile.x / tileSizePx);
                const ref = await ctx.artifacts.put(`page-${pageNumber}/tile-${row}-${column}.png`, tile.png, { contentType: 'image/png' });
                manifest.tiles.push({ page: pageNumber, x: tile.x, y: tile.y, width: tile.width, height: tile.height, key: ref.key, sha256: ref.sha256, bytes: ref.bytes });
              }
            } else if (rendered.limit !== undefined) {
              throw new PdfLimitError(rendered.limit, rendered.reason);
            } else {
              manifest.failedPages.push({ page: pageNumber, reason: rendered.reason });
              ctx.logger.warn('page not rendered', { page: pageNumber, reason: rendered.reason });
            }
            await ctx.progress((pageNumber / total) * 100, `page ${pageNumber} of ${total}`);
          },
        });
      });
      const manifestRef = await ctx.artifacts.put('manifest.json', JSON.stringify(manifest), { contentType: 'application/json' });
      return {
        skipped: false,
        tiles: manifest.tiles.length,
        pagesRendered: manifest.pages.length,
        failedPageCount: manifest.failedPages.length,
        scale,
        tileSizePx,
        manifest: manifestRef,
      };
    },
  });
}
