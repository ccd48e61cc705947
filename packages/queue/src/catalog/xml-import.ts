import { z } from 'zod';
import { IdSchema, SourceSchema } from './common.js';
import {
  checkFieldMapping,
  DEFAULT_FIELD_MAPPING,
  ElementPathSchema,
  FieldNameSchema,
  FieldMappingEntrySchema,
  mergeFieldMapping,
  REQUIRED_FIELDS,
  XML_IMPORT_PRESETS,
  XmlImportPreset,
} from './xml-import-mapping.js';

/** The XML import's stages, in order. */
export const XmlImportStage = {
  /** The feed is fetched to local storage and checked (size, hash, no DOCTYPE entities). */
  FeedFetched: 'feed_fetched',
  /** Products parsed, validated and upserted in batches, a checkpoint per batch. */
  ProductsImported: 'products_imported',
} as const;
/** One of {@link XmlImportStage}. */
export type XmlImportStage = (typeof XmlImportStage)[keyof typeof XmlImportStage];

const RecordElementSchema = ElementPathSchema.refine((name) => !name.includes('/'), { message: 'expected an element name like "product" or "g:item"' });

/**
 * The payload of an `xml-import` job. The mapping starts from the preset's (or from
 * `{ sku: 'sku', name: 'name' }`) and `fieldMapping` is laid over it field by field; the
 * validated payload carries the resolved record element(s) and mapping, without `preset`,
 * so a worker reads the payload as it was enqueued even if a preset changes later.
 */
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
    /** Start from this preset's record element(s) and mapping (`google-merchant`). Default none. */
    preset: z.enum(Object.values(XmlImportPreset) as [XmlImportPreset, ...XmlImportPreset[]]).optional(),
    /** The element that holds one product, or several names (RSS `item` and Atom `entry`). Default the preset's, else `product`. */
    recordElement: z.union([RecordElementSchema, z.array(RecordElementSchema).min(1).max(10)]).optional(),
    /**
     * Nested variants: each element at this path inside a record becomes a product of its own,
     * with the record's values for the fields the variant does not have. Default none.
     */
    variantElement: ElementPathSchema.optional(),
    /**
     * Product field → a path inside the record, or a spec `{ path, type, required, … }`, laid
     * over the preset's mapping (or `{ sku: 'sku', name: 'name' }`): a bare path keeps a preset
     * field's type and options, `null` removes a field. `sku` and `name` are always required.
     */
    fieldMapping: z.record(FieldNameSchema, FieldMappingEntrySchema).optional(),
    /** Products per upsert batch (and per checkpoint). Default 500. */
    batchSize: z.number().int().min(1).max(10_000).default(500),
  })
  .strict()
  .transform((payload, ctx) => {
    const { preset, fieldMapping, recordElement, ...rest } = payload;
    const base = preset === undefined ? { recordElement: 'product', fieldMapping: DEFAULT_FIELD_MAPPING } : XML_IMPORT_PRESETS[preset];
    const mapping = mergeFieldMapping(base.fieldMapping, fieldMapping ?? {});
    for (const field of REQUIRED_FIELDS) {
      if (fieldMapping?.[field] === null) ctx.addIssue({ code: 'custom', path: ['fieldMapping', field], message: `"${field}" cannot be removed from the mapping` });
    }
    for (const issue of checkFieldMapping(mapping)) ctx.addIssue({ code: 'custom', path: ['fieldMapping', ...issue.path], message: issue.message });
    return { ...rest, recordElement: recordElement ?? base.recordElement, fieldMapping: mapping };
  });
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
