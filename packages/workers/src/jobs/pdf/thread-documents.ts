/**
 * Thread side of the PDF stages: one open pdf.js document per CPU-pool thread, reused across
 * the pages of a job. Imported only by the thread task modules (render-page-tiles.ts,
 * extract-page-text.ts), never by the main thread.
 */
import { readFile } from 'node:fs/promises';
import type { PDFDocumentProxy, PDFPageProxy } from 'pdfjs-dist';
import { sha256Hex } from '../shared/artifact-io.js';
import { pageAreaProblem, PdfLimit } from './pdf-limits.js';
import { describePdfJsFailure, openPdfDocument, type PdfPurpose } from './pdfjs.js';

/** What every thread task is told about the document. */
export interface ThreadDocumentInput {
  /** Local path of the PDF (the artifact's file, or a temporary copy). */
  pdfPath: string;
  /** sha256 of the PDF: the document cache key, and checked on open. */
  sha256: string;
  /** Images over this many pixels are not decoded (pdf.js `maxImageSize`). */
  maxImagePixels: number;
  /** Largest page area at scale 1 (pt²); a larger page is refused, not processed. */
  maxPageAreaPt2: number;
}

/** A page refused by a limit: the stage turns it into a `PdfLimitError` that fails the job. */
export interface PageOverLimit {
  ok: false;
  pageNumber: number;
  limit: PdfLimit;
  reason: string;
}

/** Closes the cached document after this long unused, so an idle thread holds no PDF (ms). */
const IDLE_CLOSE_MS = 30_000;

let cached: { key: string; document: Promise<PDFDocumentProxy> } | null = null;
let idleTimer: NodeJS.Timeout | undefined;

/**
 * One open document per thread, reused across pages: consecutive pages of a job usually land
 * on the same thread, and re-parsing a large PDF for every page would dominate the stage. Text
 * and rendering open it differently (rendering loads the standard fonts), so each is its own entry.
 */
export async function documentFor(input: ThreadDocumentInput, purpose: PdfPurpose): Promise<PDFDocumentProxy> {
  const key = `${input.sha256}:${purpose}:${input.maxImagePixels}`;
  if (cached?.key !== key) {
    const previous = cached;
    cached = {
      key,
      document: (async () => {
        const bytes = await readFile(input.pdfPath);
        const actual = sha256Hex(bytes);
        if (actual !== input.sha256) throw new Error(`${input.pdfPath} has sha256 ${actual}, expected ${input.sha256}`);
        return openPdfDocument(bytes, purpose, { maxImagePixels: input.maxImagePixels });
      })(),
    };
    // A failed open must not stay cached: the next task retries it.
    const entry = cached;
    entry.document.catch(() => {
      if (cached === entry) cached = null;
    });
    if (previous !== null) void previous.document.then((document) => document.destroy()).catch(() => undefined);
  }
  return cached.document;
}

/** Starts (again) the idle timer that closes the cached document. Call when a task ends. */
export function scheduleIdleClose(): void {
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => {
    const entry = cached;
    cached = null;
    void entry?.document.then((document) => document.destroy()).catch(() => undefined);
  }, IDLE_CLOSE_MS);
  idleTimer.unref();
}

/** The page's refusal when its area is over the limit, else null. */
export function pageOverLimit(page: PDFPageProxy, input: Pick<ThreadDocumentInput, 'maxPageAreaPt2'>): PageOverLimit | null {
  const unit = page.getViewport({ scale: 1 });
  const problem = pageAreaProblem(page.pageNumber, unit.width, unit.height, input);
  return problem === undefined ? null : { ok: false, pageNumber: page.pageNumber, limit: PdfLimit.PageArea, reason: problem };
}

/** A page that could not be read, as both thread tasks report it. */
export interface PageUnreadable {
  ok: false;
  pageNumber: number;
  reason: string;
  limit?: undefined;
}

/**
 * Runs `work` on page `input.pageNumber` of the thread's open document: the one preamble of the
 * text and render tasks. A page pdf.js cannot read, or one over the area limit, is answered
 * without calling `work`; the page is cleaned up and the document's idle close rescheduled either way.
 */
export async function withThreadPage<T>(
  input: ThreadDocumentInput & { pageNumber: number },
  purpose: PdfPurpose,
  work: (page: PDFPageProxy) => Promise<T>,
): Promise<T | PageUnreadable | PageOverLimit> {
  try {
    const document = await documentFor(input, purpose);
    let page: PDFPageProxy;
    try {
      page = await document.getPage(input.pageNumber);
    } catch (error) {
      return { ok: false, pageNumber: input.pageNumber, reason: `page cannot be read (${describePdfJsFailure(error)})` };
    }
    try {
      return pageOverLimit(page, input) ?? (await work(page));
    } finally {
      page.cleanup();
    }
  } finally {
    scheduleIdleClose();
  }
}
