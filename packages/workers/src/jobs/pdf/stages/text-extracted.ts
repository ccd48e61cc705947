import { z } from 'zod';
import { ArtifactRefSchema } from '@kai-jobs/queue';
import { defineStage, type StageDefinition } from '../../../staged-job.js';
import { readVerifiedArtifact } from '../../shared/artifact-io.js';
import { encodePageTexts, pageTextFromRuns, type PageText, type TextRun } from '../page-text.js';
import { openPdfDocument } from '../pdfjs.js';
import type { PdfLoadedStage } from './pdf-loaded.js';

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
  /** `pages.jsonl`: one `{ page, text }` per line, in page order. */
  text: ArtifactRefSchema,
});
/** Output of `text_extracted`. */
export type TextExtractedOutput = z.infer<typeof TextExtractedOutputSchema>;

/** The `text_extracted` stage's definition type. */
export type TextExtractedStage = StageDefinition<'pdf', 'text_extracted', typeof TextExtractedOutputSchema>;

/**
 * Builds the `text_extracted` stage: pdf.js's text content of each page, as lines and
 * paragraphs, into one JSON-lines artifact. Progress, `completed_pages` and the abort check
 * come per page. A page pdf.js cannot read is recorded and left empty rather than failing a
 * 300-page catalogue for one broken page.
 */
export function createTextExtractedStage(deps: { loaded: PdfLoadedStage }): TextExtractedStage {
  return defineStage({
    name: 'text_extracted',
    output: TextExtractedOutputSchema,
    weight: 2,
    async run(ctx, previous) {
      const loaded = previous.get(deps.loaded);
      const total = loaded.pagesToProcess;
      const document = await openPdfDocument(await readVerifiedArtifact(ctx.artifacts, loaded.pdf));
      const pages: PageText[] = [];
      const unreadable: number[] = [];
      let characters = 0;
      let pagesWithText = 0;
      try {
        for (let pageNumber = 1; pageNumber <= total; pageNumber++) {
          ctx.throwIfAborted();
          let text = '';
          try {
            const page = await document.getPage(pageNumber);
            try {
              text = pageTextFromRuns((await page.getTextContent()).items as (TextRun | { type: string })[]);
            } finally {
              page.cleanup();
            }
          } catch (error) {
            unreadable.push(pageNumber);
            ctx.logger.warn('page text unreadable', { page: pageNumber, error: (error as Error).message });
          }
          pages.push({ page: pageNumber, text });
          characters += text.length;
          if (text !== '') pagesWithText++;
          await ctx.progress((pageNumber / total) * 100, `page ${pageNumber} of ${total}`);
          await ctx.setCounters({ total_pages: total, completed_pages: pageNumber });
        }
      } finally {
        await document.destroy();
      }
      const text = await ctx.artifacts.put('pages.jsonl', encodePageTexts(pages), { contentType: 'application/x-ndjson' });
      return {
        pages: total,
        pagesWithText,
        characters,
        unreadablePages: unreadable.slice(0, MAX_LISTED_PAGES),
        unreadablePageCount: unreadable.length,
        text,
      };
    },
  });
}
