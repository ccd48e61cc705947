import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { parseOrThrow } from '@kai-jobs/queue';
import { isEmbeddingProvider, type EmbeddingProvider } from './embeddings/embedding-provider.js';
import { HashingEmbeddingProvider } from './embeddings/hashing-embedding-provider.js';
import { isMaterialExtractor, type MaterialExtractor } from './materials/material-extractor.js';
import { isMaterialStore, type MaterialStore } from './materials/material-store.js';
import { RuleBasedMaterialExtractor } from './materials/rule-based-material-extractor.js';
import { UrlGuardOptionsSchema } from '../shared/url-guard.js';
import { PdfLimitsSchema } from './pdf-limits.js';
import type { BlobSource } from './source-reader.js';

const MIB = 1024 * 1024;

/** Options of {@link createPdfJob}. Per-document choices (scale, tile size, chunk size) are in the payload. */
export const PdfJobOptionsSchema = z
  .object({
    /** Where materials are saved (upsert by document and key). Required: a default that forgets would lose data. */
    materialStore: z.custom<MaterialStore>(isMaterialStore, { message: 'expected a MaterialStore (upsertMany, list, count)' }),
    /** Embeds the text chunks. Default: `HashingEmbeddingProvider` (local, lexical, 256 dimensions). */
    embeddingProvider: z
      .custom<EmbeddingProvider>(isEmbeddingProvider, { message: 'expected an EmbeddingProvider (embed, model, dimensions)' })
      .default(() => new HashingEmbeddingProvider()),
    /** Finds materials in the text. Default: `RuleBasedMaterialExtractor`. */
    materialExtractor: z
      .custom<MaterialExtractor>(isMaterialExtractor, { message: 'expected a MaterialExtractor (name, extract)' })
      .default(() => new RuleBasedMaterialExtractor()),
    /** Blob store for `storage` sources (anything with `get(key)`); without it such jobs fail permanently. Default none. */
    blobStore: z
      .custom<BlobSource>((value) => typeof (value as BlobSource | null)?.get === 'function', { message: 'expected an object with get(key)' })
      .optional(),
    /**
     * The only folder `file` sources may be read from (FILE_ROOT): paths resolve against it, and
     * the real path of the opened file (symlinks followed) must stay inside it. Default none:
     * file sources are refused.
     */
    fileRoot: z.string().min(1).optional(),
    /** The SSRF guard `url` sources go through (each redirect too). Default: loopback, private, link-local and metadata addresses refused. */
    urlGuard: UrlGuardOptionsSchema.prefault({}),
    /** Limits on reading the PDF. */
    download: z
      .object({
        /** Longest a `url` download may take, body included (ms). Default 30000. */
        timeoutMs: z.number().int().positive().default(30_000),
        /** Largest PDF accepted from any source (bytes). Default 100 MiB. */
        maxBytes: z.number().int().positive().default(100 * MIB),
        /** Redirects a `url` download follows at most, each checked by the guard. Default 5. */
        maxRedirects: z.number().int().min(0).max(20).default(5),
      })
      .strict()
      .prefault({}),
    /**
     * Largest page bitmap when rendering tiles (pixels, scale × width × height); larger pages render
     * at a lower scale, so no render allocates more than this × 4 bytes. Default 40 million (160 MB RGBA).
     * Env `PDF_MAX_PAGE_PIXELS`.
     */
    maxPagePixels: z.number().int().min(10_000).default(40_000_000),
    /** Bounds on what one document may cost (decoded bytes, pages, page area, image pixels, render time): see `PdfLimitsSchema`. */
    limits: PdfLimitsSchema.prefault({}),
    /** Chunks per `embed` call from the stage (the provider may split further); progress is reported per call. Default 64. */
    embeddingBatchSize: z.number().int().min(1).max(10_000).default(64),
    /**
     * Most pages of one job started in the CPU pool and not yet stored, in `text_extracted` and
     * `tiles_generated`: the pool always has the next page queued while the main thread stores
     * the last one, and at most this many pages' text or tiles are held in memory, whatever the
     * document's length. Default: the cores (the CPU pool's default size, cores − 1, plus one),
     * at least 2. More than the pool's threads only queues pages.
     */
    pagesInFlight: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(() => Math.max(2, availableParallelism())),
    /** Pages per `extract` call; progress is reported per call. Default 10. */
    materialPagesPerBatch: z.number().int().min(1).max(10_000).default(10),
  })
  .strict();
/** What callers pass to {@link createPdfJob}. */
export type PdfJobOptions = z.input<typeof PdfJobOptionsSchema>;
/** Resolved {@link PdfJobOptions}. */
export type ResolvedPdfJobOptions = z.output<typeof PdfJobOptionsSchema>;

/** Parses the options once; throws one `ValidationError` naming every bad field. */
export function parsePdfJobOptions(options: PdfJobOptions): ResolvedPdfJobOptions {
  return parseOrThrow(PdfJobOptionsSchema, options, 'PDF job options');
}
