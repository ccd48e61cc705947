/**
 * Thread side of `text_extracted`: one page's text with pdf.js, in a CPU-pool thread. Text
 * extraction parses the whole content stream; on the main thread a page of 100 MiB of text
 * operators blocked the event loop for 79 s (no heartbeat, no lock renewal). In a thread it is
 * bounded by the thread's heap limit and the task's time limit, and the main thread stays free.
 */
import { pageTextFromRuns, type TextRun } from './page-text.js';
import { describePdfJsFailure, PdfPurpose } from './pdfjs.js';
import { withThreadPage, type PageOverLimit, type ThreadDocumentInput } from './thread-documents.js';

/** What the main thread sends for one page. */
export interface ExtractPageTextInput extends ThreadDocumentInput {
  /** 1-based page number. */
  pageNumber: number;
}

/** The page's text, why it could not be read (the page is left empty), or the limit it went over. */
export type ExtractPageTextOutput = { ok: true; pageNumber: number; text: string } | { ok: false; pageNumber: number; reason: string; limit?: undefined } | PageOverLimit;

/** Extracts the text of page `pageNumber`. The CPU task `extractPageText`. */
export function extractPageText(input: ExtractPageTextInput): Promise<ExtractPageTextOutput> {
  return withThreadPage(input, PdfPurpose.Text, async (page): Promise<ExtractPageTextOutput> => {
    try {
      const content = await page.getTextContent();
      return { ok: true, pageNumber: input.pageNumber, text: pageTextFromRuns(content.items as (TextRun | { type: string })[]) };
    } catch (error) {
      return { ok: false, pageNumber: input.pageNumber, reason: `page text cannot be read (${describePdfJsFailure(error)})` };
    }
  });
}
