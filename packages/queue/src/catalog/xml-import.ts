import { z } from 'zod';
import { IdSchema, SourceSchema } from './common.js';

/** The XML import's stages, in order. */
export const XmlImportStage = {
  /** The feed is fetched to local storage and checked (size, hash, no DOCTYPE entities). */
  FeedFetched: 'feed_fetched',
  /** Products parsed, validated and upserted in batches, a checkpoint per batch. */
  ProductsImported: 'products_imported',
} as const;
/** One of {@link XmlImportStage}. */
export type XmlImportStage = (typeof XmlImportStage)[keyof typeof XmlImportStage];

/** A field path inside a record element, e.g. `sku`, `price/@currency`, `images/image`. */
const FieldPathSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z_][\w.:-]*(\/(@?[A-Za-z_][\w.:-]*))*$|^@[A-Za-z_][\w.:-]*$/, {
    message: 'expected an element path like "name", "price/@currency" or "@id"',
  });

/** The payload of an `xml-import` job. */
export const XmlImportPayloadSchema = z
  .object({
    /** The platform's `data_import_jobs` row id. */
    importJobId: IdSchema,
    /** The supplier or feed name; products are keyed by it and their SKU. */
    sourceName: z.string().min(1).max(200),
    /** Where the feed is read from. */
    source: SourceSchema,
    /** The linked `background_jobs` row, when the platform created one. */
    backgroundJobId: IdSchema.optional(),
    /** The element that holds one product. Default `product`. */
    recordElement: z.string().min(1).max(100).default('product'),
    /** Product field → path inside the record element. `sku` and `name` are required. */
    fieldMapping: z
      .record(z.string().min(1), FieldPathSchema)
      .default({ sku: 'sku', name: 'name' })
      .superRefine((mapping, ctx) => {
        for (const required of ['sku', 'name']) {
          if (!(required in mapping)) {
            ctx.addIssue({ code: 'custom', path: [required], message: `a mapping for "${required}" is required` });
          }
        }
      }),
    /** Products per upsert batch (and per checkpoint). Default 500. */
    batchSize: z.number().int().min(1).max(10_000).default(500),
  })
  .strict();
/** A validated `xml-import` payload. */
export type XmlImportPayload = z.output<typeof XmlImportPayloadSchema>;
/** What a producer passes for an `xml-import` job. */
export type XmlImportPayloadInput = z.input<typeof XmlImportPayloadSchema>;

/** One product that failed validation, kept in the result (the first 100). */
export const ProductFailureSchema = z.object({
  /** 1-based index of the record in the feed. */
  record: z.number().int().positive(),
  sku: z.string().optional(),
  error: z.string(),
});

/** The result of a completed `xml-import` job. */
export const XmlImportResultSchema = z.object({
  importJobId: IdSchema,
  totalProducts: z.number().int().nonnegative(),
  processedProducts: z.number().int().nonnegative(),
  failedProducts: z.number().int().nonnegative(),
  batches: z.number().int().nonnegative(),
  failures: z.array(ProductFailureSchema).max(100),
});
/** The result of a completed `xml-import` job. */
export type XmlImportResult = z.infer<typeof XmlImportResultSchema>;
