import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ArtifactRefSchema } from '@kai-jobs/queue';
import { PermanentJobError } from '../../../errors.js';
import { defineStage, type StageDefinition } from '../../../staged-job.js';
import { sha256Hex } from '../../shared/artifact-io.js';
import type { ResolvedPdfJobOptions } from '../config.js';
import { scanDecodedSize } from '../decoded-size-scan.js';
import { defineCpuTask, taskModuleUrl } from '../../../cpu/cpu-task.js';
import type { InspectPdfInput, InspectPdfOutput } from '../inspect-pdf.js';
import { checkPageCount, pageThreadLimitError, PdfLimit, PdfLimitError } from '../pdf-limits.js';
import { PdfUnreadableError } from '../pdfjs.js';
import { describeContentKind } from '../../shared/content-kind.js';
import { UrlGuard } from '../../shared/url-guard.js';
import { readSource } from '../source-reader.js';

/**
 * The CPU task that opens the PDF with pdf.js and reads its page count, first page and Info
 * dictionary (inspect-pdf.ts), so the main thread never loads pdf.js.
 */
export const inspectPdfTask = defineCpuTask<InspectPdfInput, InspectPdfOutput>(taskModuleUrl('../inspect-pdf.ts', import.meta.url), 'inspectPdf', {
  countsTowardRecycling: false,
});

/** Runs `use` with `bytes` in a temporary file, removed when `use` settles. */
async function withTemporaryFile<T>(bytes: Buffer, use: (path: string) => Promise<T>): Promise<T> {
  const folder = await mkdtemp(join(tmpdir(), 'kai-pdf-open-'));
  try {
    const path = join(folder, 'document.pdf');
    await writeFile(path, bytes);
    return await use(path);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/** Longest metadata string kept in the checkpoint (characters); producers fill these freely. */
const METADATA_CHARS = 500;

/** Document metadata from the PDF's Info dictionary (null when absent). */
export const PdfMetadataSchema = z.object({
  title: z.string().nullable(),
  author: z.string().nullable(),
  subject: z.string().nullable(),
  keywords: z.string().nullable(),
  creator: z.string().nullable(),
  producer: z.string().nullable(),
  /** As written in the PDF (`D:20240101120000Z`). */
  creationDate: z.string().nullable(),
  modificationDate: z.string().nullable(),
  /** Header version (`1.7`). */
  pdfVersion: z.string().nullable(),
  /** True for a PDF encrypted with an empty user password (readable, with permission flags). */
  encrypted: z.boolean(),
});
/** Document metadata. */
export type PdfMetadata = z.infer<typeof PdfMetadataSchema>;

/** Output of `pdf_loaded` (its checkpoint). */
export const PdfLoadedOutputSchema = z.object({
  documentId: z.string(),
  /** Which kind of source it came from (the payload holds the rest). */
  sourceKind: z.enum(['file', 'url', 'storage', 'inline', 'canary']),
  /** sha256 of the PDF bytes. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().positive(),
  /** Pages in the document. */
  pageCount: z.number().int().positive(),
  /** Pages the later stages process: `min(pageCount, options.maxPages)`. */
  pagesToProcess: z.number().int().positive(),
  metadata: PdfMetadataSchema,
  /** The PDF's bytes, copied into the artifact store so every later stage (on any worker) reads the same file. */
  pdf: ArtifactRefSchema,
  /**
   * Set when the PDF opened only after its cross-reference table and trailer were rebuilt
   * (xref-repair.ts): the objects the rebuilt table lists. Absent for an intact file.
   */
  xrefRebuilt: z.object({ objects: z.number().int().positive() }).optional(),
});
/** Output of `pdf_loaded`. */
export type PdfLoadedOutput = z.infer<typeof PdfLoadedOutputSchema>;

/** The `pdf_loaded` stage's definition type. */
export type PdfLoadedStage = StageDefinition<'pdf', 'pdf_loaded', typeof PdfLoadedOutputSchema>;

/** Offset of `%PDF-` in the first KiB, or -1; readers accept a little junk before the header. */
function pdfHeaderOffset(bytes: Buffer): number {
  return bytes.subarray(0, 1024).indexOf('%PDF-', 0, 'latin1');
}

/** The first bytes of a non-PDF, printable, for the error message. */
function describeStart(bytes: Buffer): string {
  // The kind of content only, never its bytes: this message is readable through the API.
  return `it is ${describeContentKind(bytes.subarray(0, 1024))}`;
}

function infoString(info: Record<string, string>, name: string): string | null {
  const value = info[name];
  if (typeof value !== 'string' || value.trim() === '') return null;
  return value.length > METADATA_CHARS ? value.slice(0, METADATA_CHARS) : value;
}

/**
 * Builds the `pdf_loaded` stage: read, check, measure, open, record, copy into the artifact
 * store. The document's decoded size is measured against `limits.maxDecodedBytes` before
 * pdf.js parses anything (pdf.js decodes object streams on open), and its page count checked
 * against `limits.maxPages` before any page is read; either failing is a `PdfLimitError`.
 */
export function createPdfLoadedStage(options: ResolvedPdfJobOptions): PdfLoadedStage {
  const urlGuard = new UrlGuard(options.urlGuard);
  const inspectTask = { ...inspectPdfTask, timeoutMs: options.limits.pageTimeoutMs };
  return defineStage({
    name: 'pdf_loaded',
    output: PdfLoadedOutputSchema,
    weight: 1,
    async run(ctx) {
      const { payload } = ctx;
      await ctx.progress(0, `reading ${payload.source.kind} source`);
      const bytes = await readSource(
        payload.source,
        { ...options.download, urlGuard, blobStore: options.blobStore, fileRoot: options.fileRoot },
        ctx.signal,
      );
      ctx.throwIfAborted();
      if (pdfHeaderOffset(bytes) < 0) {
        throw new PermanentJobError(`the source is not a PDF: no %PDF- header in its first 1024 bytes (${describeStart(bytes)})`);
      }
      await ctx.progress(20, 'measuring decoded stream sizes');
      const { maxDecodedBytes } = options.limits;
      const scan = await scanDecodedSize(bytes, maxDecodedBytes, ctx.signal);
      if (scan.overBudget) {
        throw new PdfLimitError(
          PdfLimit.DecodedBytes,
          `the document's streams decode to more than ${maxDecodedBytes} bytes (counting stopped at ${scan.decodedBytes} bytes in ${scan.streams} streams)`,
        );
      }
      await ctx.progress(40, 'opening the PDF');
      const sha256 = sha256Hex(bytes);
      // pdf.js opens the document in a CPU-pool thread (inspect-pdf.ts): the main thread never loads it.
      const inspected = await withTemporaryFile(bytes, (pdfPath) =>
        ctx.runInWorkerThread(inspectTask, { pdfPath, sha256, maxImagePixels: options.limits.maxImagePixels, maxPages: options.limits.maxPages }).catch((error: unknown) => {
          throw pageThreadLimitError(error, 1, 'the open and first-page read') ?? error;
        }),
      );
      if (!inspected.ok) {
        // pdf.js's error crossed the thread as name and message: rebuilt as the cause, for the log.
        const cause = inspected.cause === undefined ? undefined : Object.assign(new Error(inspected.cause.message), { name: inspected.cause.name });
        throw new PdfUnreadableError(inspected.reason, inspected.message, cause === undefined ? {} : { cause });
      }
      const { pageCount, xrefRebuilt } = inspected;
      if (xrefRebuilt !== undefined) ctx.logger.warn('PDF opened after rebuilding its cross-reference table', { objects: xrefRebuilt.objects });
      checkPageCount(pageCount, options.limits);
      if (inspected.firstPageError !== null) throw new PermanentJobError(inspected.firstPageError);
      const { info } = inspected;
      const metadata: PdfMetadata = {
        title: infoString(info, 'Title'),
        author: infoString(info, 'Author'),
        subject: infoString(info, 'Subject'),
        keywords: infoString(info, 'Keywords'),
        creator: infoString(info, 'Creator'),
        producer: infoString(info, 'Producer'),
        creationDate: infoString(info, 'CreationDate'),
        modificationDate: infoString(info, 'ModDate'),
        pdfVersion: infoString(info, 'PDFFormatVersion'),
        encrypted: typeof info['EncryptFilterName'] === 'string',
      };
      const pagesToProcess = Math.min(pageCount, payload.options.maxPages ?? pageCount);
      await ctx.progress(70, 'storing the PDF');
      const pdf = await ctx.artifacts.put('document.pdf', bytes, { contentType: 'application/pdf' });
      await ctx.setCounters({ total_pages: pagesToProcess, completed_pages: 0 });
      await ctx.progress(100, `${pageCount} pages`);
      ctx.logger.info('PDF loaded', { pageCount, pagesToProcess, bytes: bytes.byteLength, decodedBytes: scan.decodedBytes, streams: scan.streams });
      return {
        documentId: payload.documentId,
        sourceKind: payload.source.kind,
        sha256,
        bytes: bytes.byteLength,
        pageCount,
        pagesToProcess,
        metadata,
        pdf,
        ...(xrefRebuilt === undefined ? {} : { xrefRebuilt }),
      };
    },
  });
}
