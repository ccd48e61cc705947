import { z } from 'zod';
import { IdSchema, SourceSchema } from './common.js';

/** The PDF pipeline's stages, in order. */
export const PdfStage = {
  PdfLoaded: 'pdf_loaded',
  TextExtracted: 'text_extracted',
  TilesGenerated: 'tiles_generated',
  EmbeddingsCreated: 'embeddings_created',
  MaterialsExtracted: 'materials_extracted',
} as const;
/** One of {@link PdfStage}. */
export type PdfStage = (typeof PdfStage)[keyof typeof PdfStage];

/** Options a producer may set for one PDF; every field has a default. */
export const PdfProcessingOptionsSchema = z
  .object({
    /** Page render scale for tiles (1 = 72 dpi). Default 1.5. */
    renderScale: z.number().positive().max(8).default(1.5),
    /** Edge length of a square tile in pixels. Default 512. */
    tileSizePx: z.number().int().min(64).max(4096).default(512),
    /** Only the first N pages are processed; unset processes all. */
    maxPages: z.number().int().positive().optional(),
    /** Target characters per text chunk for embeddings. Default 1200. */
    chunkSizeChars: z.number().int().min(100).max(20_000).default(1200),
    /** Characters shared by consecutive chunks. Default 200. */
    chunkOverlapChars: z.number().int().min(0).max(5_000).default(200),
    /** Skip tile rendering (text-only documents). Default false. */
    skipTiles: z.boolean().default(false),
    /** Skip material extraction. Default false. */
    skipMaterials: z.boolean().default(false),
    /**
     * Recovery drill only (`kai-jobs drill`): the job's first run (before any restart) hangs
     * in this stage until it is aborted, so the monitor must find and restart it. Internal:
     * accepted here so a worker can read a stored payload, but every public enqueue refuses
     * it; only `enqueueRecoveryDrill` sets it (see `internal-fields.ts`).
     */
    drill: z
      .object({ hangOnceInStage: z.enum(Object.values(PdfStage) as [PdfStage, ...PdfStage[]]) })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (value.chunkOverlapChars >= value.chunkSizeChars) {
      ctx.addIssue({
        code: 'custom',
        path: ['chunkOverlapChars'],
        message: `must be smaller than chunkSizeChars (${value.chunkSizeChars})`,
      });
    }
  });

/** The payload of a `pdf` job. */
export const PdfPayloadSchema = z
  .object({
    /** The platform's document id; materials and artifacts are keyed by it. */
    documentId: IdSchema,
    /** Where the PDF is read from. */
    source: SourceSchema,
    /** Processing options; all optional. */
    options: PdfProcessingOptionsSchema.prefault({}),
  })
  .strict();
/** A validated `pdf` payload (defaults applied). */
export type PdfPayload = z.output<typeof PdfPayloadSchema>;
/** What a producer passes for a `pdf` job (defaults optional). */
export type PdfPayloadInput = z.input<typeof PdfPayloadSchema>;

/** One entry of an artifact manifest: where a large output is stored and its hash. */
export const ArtifactRefSchema = z.object({
  key: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().nonnegative(),
  contentType: z.string().optional(),
});
/** A reference to a stored artifact. */
export type ArtifactRef = z.infer<typeof ArtifactRefSchema>;

/** The result of a completed `pdf` job. */
export const PdfResultSchema = z.object({
  documentId: IdSchema,
  pages: z.number().int().nonnegative(),
  chunks: z.number().int().nonnegative(),
  tiles: z.number().int().nonnegative(),
  materials: z.number().int().nonnegative(),
  artifacts: z.array(ArtifactRefSchema),
});
/** The result of a completed `pdf` job. */
export type PdfResult = z.infer<typeof PdfResultSchema>;
