/**
 * Thread side of `pdf_loaded`: opens the PDF with pdf.js in a CPU-pool thread (rebuilding a
 * damaged cross-reference table, see pdfjs.ts), reads its page count, its first page and its
 * Info dictionary. In a thread because the worker's main thread then never loads pdf.js at
 * all: under tsx that module cost the main thread about 160 MiB of RSS and seconds of CPU
 * (the threads load it by `require()`, bypassing tsx), and it stayed loaded for the life of
 * the process. The thread that opens the document is the one `text_extracted` uses next.
 */
import { readFile } from 'node:fs/promises';
import { sha256Hex } from '../shared/artifact-io.js';
import { describePdfJsFailure, openPdfDocument, PdfUnreadableError, xrefRepairOf, type PdfOpenFailure } from './pdfjs.js';

/** What the main thread sends. */
export interface InspectPdfInput {
  /** Local path of the PDF (a temporary copy of the source's bytes). */
  pdfPath: string;
  /** sha256 of the bytes the main thread measured; checked on open. */
  sha256: string;
  /** Images over this many pixels are not decoded (pdf.js `maxImageSize`). */
  maxImagePixels: number;
  /** Most pages allowed: past it the first page and the metadata are not read. */
  maxPages: number;
}

/** The Info dictionary's entries `pdf_loaded` keeps (strings as written; others dropped). */
export const INFO_FIELDS = ['Title', 'Author', 'Subject', 'Keywords', 'Creator', 'Producer', 'CreationDate', 'ModDate', 'PDFFormatVersion', 'EncryptFilterName'] as const;

/**
 * The document's facts, or why pdf.js cannot open it (a permanent failure the main thread
 * rethrows as `PdfUnreadableError`). Any other error (out of memory, a bug) is thrown, and the
 * stage is retried.
 */
export type InspectPdfOutput =
  | {
      ok: true;
      pageCount: number;
      /** Set when the cross-reference table had to be rebuilt. */
      xrefRebuilt?: { objects: number };
      /** Why page 1 cannot be read, or null; not read (null) when over `maxPages`. */
      firstPageError: string | null;
      /** The {@link INFO_FIELDS} that are strings; empty when over `maxPages`. */
      info: Record<string, string>;
    }
  | {
      ok: false;
      reason: PdfOpenFailure;
      message: string;
      /** pdf.js's own error (its message may quote the file: for the worker's log, never the job's reason). */
      cause?: { name: string; message: string };
    };

/** Opens the PDF and reads what `pdf_loaded` records. The CPU task `inspectPdf`. */
export async function inspectPdf(input: InspectPdfInput): Promise<InspectPdfOutput> {
  const bytes = await readFile(input.pdfPath);
  const actual = sha256Hex(bytes);
  if (actual !== input.sha256) throw new Error(`${input.pdfPath} has sha256 ${actual}, expected ${input.sha256}`);
  let document;
  try {
    document = await openPdfDocument(bytes, undefined, { maxImagePixels: input.maxImagePixels });
  } catch (error) {
    if (error instanceof PdfUnreadableError) {
      const cause = error.cause as { name?: unknown; message?: unknown } | undefined;
      return {
        ok: false,
        reason: error.reason,
        message: error.message,
        ...(cause === undefined ? {} : { cause: { name: String(cause.name ?? 'Error'), message: String(cause.message ?? '') } }),
      };
    }
    throw error;
  }
  try {
    const pageCount = document.numPages;
    const xrefRebuilt = xrefRepairOf(document);
    const base = { ok: true as const, pageCount, ...(xrefRebuilt === undefined ? {} : { xrefRebuilt }) };
    if (pageCount > input.maxPages) return { ...base, firstPageError: null, info: {} };
    // Page 1 must load: a file whose page tree is broken fails here, not three stages later.
    let firstPageError: string | null = null;
    await document.getPage(1).catch((error: unknown) => {
      firstPageError = `the PDF is corrupt: its first page cannot be read (${describePdfJsFailure(error)})`;
    });
    const raw = firstPageError === null ? (((await document.getMetadata()).info ?? {}) as Record<string, unknown>) : {};
    const info: Record<string, string> = {};
    for (const field of INFO_FIELDS) {
      const value = raw[field];
      if (typeof value === 'string') info[field] = value;
    }
    return { ...base, firstPageError, info };
  } finally {
    await document.destroy();
  }
}
