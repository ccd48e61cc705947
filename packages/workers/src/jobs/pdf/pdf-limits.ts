import { z } from 'zod';
import { PermanentJobError } from '../../errors.js';

const MIB = 1024 * 1024;

/**
 * Bounds on what one untrusted PDF may cost a worker. Every limit fails the job at once, not
 * retried (retrying the same bytes fails the same way), with a {@link PdfLimitError} whose
 * message names the limit, its value and what the document needed.
 */
export const PdfLimitsSchema = z
  .object({
    /**
     * Largest total of decoded stream bytes over the whole document (bytes), measured before
     * pdf.js opens it by decoding every lossless stream (Flate, LZW, RunLength, ASCIIHex,
     * ASCII85, chains of them) with this budget and stopping as soon as it is spent. Image
     * codecs (DCT, JPX, JBIG2, CCITT) are bounded by `maxImagePixels` instead. Default 512 MiB:
     * a 2,000-page text-and-vector catalogue decodes to tens of MiB; a 1 MB "zip bomb" decodes to
     * 1 GiB. Env `PDF_MAX_DECODED_BYTES`.
     */
    maxDecodedBytes: z.number().int().min(MIB).default(512 * MIB),
    /** Most pages a document may have (its page tree's count). Default 2,000. Env `PDF_MAX_PAGES`. */
    maxPages: z.number().int().min(1).default(2000),
    /**
     * Largest page area at scale 1 (square points, 1/72 in). Default 14,400 × 14,400 pt² (200 × 200
     * in, the largest page the PDF specification allows without `UserUnit`). Env `PDF_MAX_PAGE_AREA_PT2`.
     */
    maxPageAreaPt2: z.number().int().min(10_000).default(14_400 * 14_400),
    /**
     * Largest image pdf.js decodes (pixels, width × height); larger images are skipped by pdf.js,
     * not drawn. Default 40 million (160 MB as RGBA). Env `PDF_MAX_IMAGE_PIXELS`.
     */
    maxImagePixels: z.number().int().min(10_000).default(40_000_000),
    /**
     * Longest one page's text extraction, or its render into tiles, may take (ms); past it the
     * page's thread is stopped. Default 60,000 (a dense catalogue page renders in well under 5 s).
     * Env `PDF_PAGE_TIMEOUT_MS`.
     */
    pageTimeoutMs: z.number().int().min(100).default(60_000),
  })
  .strict();
/** What callers pass as `limits`. */
export type PdfLimitsInput = z.input<typeof PdfLimitsSchema>;
/** Resolved PDF limits. */
export type PdfLimits = z.output<typeof PdfLimitsSchema>;

/** The names of the limits, as they appear in a {@link PdfLimitError}'s message and `limit`. */
export const PdfLimit = {
  DecodedBytes: 'maxDecodedBytes',
  Pages: 'maxPages',
  PageArea: 'maxPageAreaPt2',
  PageTimeout: 'pageTimeoutMs',
  /** The rendering thread's heap (the CPU pool's `maxOldGenerationSizeMb`, env `CPU_THREAD_HEAP_MB`). */
  ThreadHeap: 'cpuThreadHeapMb',
} as const;
/** One of {@link PdfLimit}. */
export type PdfLimit = (typeof PdfLimit)[keyof typeof PdfLimit];

/** Stable code of {@link PdfLimitError}. */
export const PDF_LIMIT_EXCEEDED = 'PDF_LIMIT_EXCEEDED';

/**
 * A document went over one of the {@link PdfLimitsSchema} limits: permanent (the job fails at
 * once through BullMQ's UnrecoverableError). The message starts with
 * `PDF limit <name> exceeded:` so an operator (and a test) reads which limit from the job's
 * `failedReason` alone.
 */
export class PdfLimitError extends PermanentJobError {
  override readonly code = PDF_LIMIT_EXCEEDED;
  constructor(
    readonly limit: PdfLimit,
    detail: string,
    options: { cause?: unknown } = {},
  ) {
    super(`PDF limit ${limit} exceeded: ${detail}`, options);
  }
}

/** @throws PdfLimitError when the document has more pages than `maxPages`. */
export function checkPageCount(pageCount: number, limits: Pick<PdfLimits, 'maxPages'>): void {
  if (pageCount > limits.maxPages) {
    throw new PdfLimitError(PdfLimit.Pages, `the document has ${pageCount} pages, the limit is ${limits.maxPages}`);
  }
}

/**
 * Why page `pageNumber` is too large, or `undefined`. `width` and `height` are its size at
 * scale 1 (points, `UserUnit` applied), as pdf.js's viewport gives them.
 */
export function pageAreaProblem(pageNumber: number, width: number, height: number, limits: Pick<PdfLimits, 'maxPageAreaPt2'>): string | undefined {
  const area = Math.abs(width * height);
  // NaN or Infinity from a broken MediaBox is as unrenderable as a huge one.
  if (Number.isFinite(area) && area <= limits.maxPageAreaPt2) return undefined;
  return `page ${pageNumber} is ${Math.round(width)} × ${Math.round(height)} pt (${Number.isFinite(area) ? Math.round(area) : area} pt²), the limit is ${limits.maxPageAreaPt2} pt²`;
}

/** @throws PdfLimitError when the page's area is over `maxPageAreaPt2`. */
export function checkPageArea(pageNumber: number, width: number, height: number, limits: Pick<PdfLimits, 'maxPageAreaPt2'>): void {
  const problem = pageAreaProblem(pageNumber, width, height, limits);
  if (problem !== undefined) throw new PdfLimitError(PdfLimit.PageArea, problem);
}

/**
 * The job-failing error for a page whose thread went over its heap or time limit (the CPU
 * pool's `CpuThreadLimitError`, recognised by name as it may come from another copy of the
 * package), or `undefined` for any other error.
 */
export function pageThreadLimitError(error: unknown, pageNumber: number, what: string): PdfLimitError | undefined {
  const candidate = error as { name?: unknown; limit?: unknown; message?: unknown } | null;
  if (candidate?.name !== 'CpuThreadLimitError') return undefined;
  const limit = candidate.limit === 'heap' ? PdfLimit.ThreadHeap : PdfLimit.PageTimeout;
  return new PdfLimitError(limit, `${what} of page ${pageNumber}: ${String(candidate.message)}`, { cause: error });
}
