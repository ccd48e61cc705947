import { z } from 'zod';
import { ArtifactRefSchema } from '@kai-jobs/queue';
import { defineCpuTask, taskModuleUrl } from '../../../cpu/cpu-task.js';
import { defineStage, type StageDefinition } from '../../../staged-job.js';
import type { ResolvedPdfJobOptions } from '../config.js';
import type { ExtractPageTextInput, ExtractPageTextOutput } from '../extract-page-text.js';
import { encodePageText, type PageTextQuality } from '../page-text.js';
import { forEachPageInOrder } from '../page-window.js';
import { pageThreadLimitError, PdfLimitError } from '../pdf-limits.js';
import { withLocalPdf } from './local-pdf.js';
import type { PdfLoadedStage } from './pdf-loaded.js';

/**
 * The CPU task that extracts one page's text. Declared by URL so pdf.js's parsing of page
 * content runs in the pool's threads, under their heap limit and the page time limit.
 */
export const extractPageTextTask = defineCpuTask<ExtractPageTextInput, ExtractPageTextOutput>(
  taskModuleUrl('../extract-page-text.ts', import.meta.url),
  'extractPageText',
  { countsTowardRecycling: false },
);

/** Unreadable pages listed in the checkpoint at most (the count is always exact). */
const MAX_LISTED_PAGES = 100;

/** Output of `text_extracted`. */
export const TextExtractedOutputSchema = z.object({
  /** Pages whose text was extracted (or attempted). */
  pages: z.number().int().nonnegative(),
  /** Pages with any text; a scanned PDF without OCR has none. */
  pagesWithText: z.number().int().nonnegative(),
  /** Characters over all pages. */
  characters: z.number().int().nonnegative(),
  /** Pages pdf.js could not read (their text is empty), at most the first 100. */
  unreadablePages: z.array(z.number().int().positive()).max(MAX_LISTED_PAGES),
  unreadablePageCount: z.number().int().nonnegative(),
  /** `pages.jsonl`: one `{ page, text, quality }` per line, in page order. */
  text: ArtifactRefSchema,
  /**
   * The pages' quality figures summed (each page's own are in `pages.jsonl`); absent in
   * checkpoints written before they were recorded.
   */
  quality: z
    .object({
      /** Glyphs without any Unicode mapping, left out of the text, over all pages. */
      droppedGlyphs: z.number().int().nonnegative(),
      /** Glyphs whose text was recovered from their glyph names. */
      recoveredGlyphs: z.number().int().nonnegative(),
      /** Pages that lost glyphs (at most the first 100). */
      pagesWithDroppedGlyphs: z.array(z.number().int().positive()).max(MAX_LISTED_PAGES),
      /** Lines put in logical order by the bidirectional algorithm. */
      rightToLeftLines: z.number().int().nonnegative(),
      /** Hyphenated line ends joined. */
      hyphenationsJoined: z.number().int().nonnegative(),
      /** Pages per dominant script (`latin`, `arabic`, `hebrew`…). */
      scripts: z.record(z.string(), z.number().int().nonnegative()),
      /** Pages per reading order used (`position`, `columns`, `stream`). */
      orders: z.record(z.string(), z.number().int().nonnegative()),
    })
    .optional(),
});
/** Output of `text_extracted`. */
export type TextExtractedOutput = z.infer<typeof TextExtractedOutputSchema>;

/** The `text_extracted` stage's definition type. */
export type TextExtractedStage = StageDefinition<'pdf', 'text_extracted', typeof TextExtractedOutputSchema>;

/**
 * Builds the `text_extracted` stage: pdf.js's text content of each page, in reading order, as
 * lines and paragraphs with their quality figures (see page-text.ts), into one JSON-lines artifact. Each page is a CPU task (pdf.js off the main
 * thread, bounded by the thread's heap and `limits.pageTimeoutMs`). Progress,
 * `completed_pages` and the abort check come per page. A page pdf.js cannot read is recorded
 * and left empty rather than failing a 300-page catalogue for one broken page; a page over a
 * limit (area, heap, time) fails the job with a `PdfLimitError`.
 */
export function createTextExtractedStage(options: Pick<ResolvedPdfJobOptions, 'limits' | 'pagesInFlight'>, deps: { loaded: PdfLoadedStage }): TextExtractedStage {
  const task = { ...extractPageTextTask, timeoutMs: options.limits.pageTimeoutMs };
  return defineStage({
    name: 'text_extracted',
    output: TextExtractedOutputSchema,
    weight: 2,
    async run(ctx, previous) {
      const loaded = previous.get(deps.loaded);
      const total = loaded.pagesToProcess;
      /** Each page's line of pages.jsonl, in page order. */
      const lines: string[] = [];
      const unreadable: number[] = [];
      let characters = 0;
      let pagesWithText = 0;
      const quality = { droppedGlyphs: 0, recoveredGlyphs: 0, pagesWithDroppedGlyphs: [] as number[], rightToLeftLines: 0, hyphenationsJoined: 0, scripts: {} as Record<string, number>, orders: {} as Record<string, number> };
      const addQuality = (pageNumber: number, figures: PageTextQuality): void => {
        quality.droppedGlyphs += figures.droppedGlyphs;
        quality.recoveredGlyphs += figures.recoveredGlyphs;
        if (figures.droppedGlyphs > 0 && quality.pagesWithDroppedGlyphs.length < MAX_LISTED_PAGES) quality.pagesWithDroppedGlyphs.push(pageNumber);
        quality.rightToLeftLines += figures.rightToLeftLines;
        quality.hyphenationsJoined += figures.hyphenationsJoined;
        quality.scripts[figures.script] = (quality.scripts[figures.script] ?? 0) + 1;
        quality.orders[figures.order] = (quality.orders[figures.order] ?? 0) + 1;
      };
      await withLocalPdf(ctx.artifacts, loaded.pdf, async (pdfPath) => {
        // `pagesInFlight` pages at a time: the thread starts the next page while this thread
        // records the last one and writes its progress.
        await forEachPageInOrder<ExtractPageTextOutput>({
          total,
          pagesInFlight: options.pagesInFlight,
          beforeStart: () => ctx.throwIfAborted(),
          start: (pageNumber) => {
            const input = { pdfPath, sha256: loaded.sha256, pageNumber, maxImagePixels: options.limits.maxImagePixels, maxPageAreaPt2: options.limits.maxPageAreaPt2 };
            return ctx.runInWorkerThread(task, input).catch((error: unknown) => {
              throw pageThreadLimitError(error, pageNumber, 'text extraction') ?? error;
            });
          },
          consume: async (pageNumber, result) => {
            if (!result.ok && result.limit !== undefined) throw new PdfLimitError(result.limit, result.reason);
            let text = '';
            if (result.ok) {
              text = result.text;
              lines.push(encodePageText({ page: pageNumber, text, quality: result.quality }));
              addQuality(pageNumber, result.quality);
            } else {
              unreadable.push(pageNumber);
              ctx.logger.warn('page text unreadable', { page: pageNumber, error: result.reason });
              lines.push(encodePageText({ page: pageNumber, text }));
            }
            characters += text.length;
            if (text !== '') pagesWithText++;
            await ctx.progress((pageNumber / total) * 100, `page ${pageNumber} of ${total}`);
            await ctx.setCounters({ total_pages: total, completed_pages: pageNumber });
          },
        });
      });
      const text = await ctx.artifacts.put('pages.jsonl', lines.join(''), { contentType: 'application/x-ndjson' });
      return {
        pages: total,
        pagesWithText,
        characters,
        unreadablePages: unreadable.slice(0, MAX_LISTED_PAGES),
        unreadablePageCount: unreadable.length,
        text,
        quality,
      };
    },
  });
}
