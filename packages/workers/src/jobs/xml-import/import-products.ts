import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ProductFailureSchema } from '@kai-jobs/queue';
import { PermanentJobError } from '../../errors.js';
import type { StageContext } from '../../stage-context.js';
import type { XmlImportJobConfig } from './config.js';
import type { FeedFetchedOutput } from './feed-fetch.js';
import { validateProduct } from './product-schema.js';
import type { ImportedProduct } from './product-store.js';
import { FeedRecordReader, type RecordValues } from './record-reader.js';

/** Failures kept in the result. */
export const MAX_KEPT_PRODUCT_FAILURES = 100;

/** Characters handed to the parser at a time: bounds the records pending between two awaits. */
const SLICE_BYTES = 256 * 1024;

const CountsSchema = z.object({
  total: z.number().int().nonnegative(),
  processed: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
});

/**
 * Saved after each committed batch: the records up to `recordsConsumed` are done (valid ones
 * upserted, invalid ones counted), so a resumed attempt re-parses the feed but skips them.
 */
export const XmlImportResumeStateSchema = z.object({
  version: z.literal(1),
  /** The feed the state belongs to; a state for other bytes is ignored. */
  feedSha256: z.string(),
  recordsConsumed: z.number().int().nonnegative(),
  batches: z.number().int().nonnegative(),
  counts: CountsSchema,
  firstFailures: z.array(ProductFailureSchema).max(MAX_KEPT_PRODUCT_FAILURES),
});
/** A saved import state. */
export type XmlImportResumeState = z.infer<typeof XmlImportResumeStateSchema>;

/** The `products_imported` stage's output. */
export const ProductsImportedOutputSchema = z.object({
  totalProducts: z.number().int().nonnegative(),
  processedProducts: z.number().int().nonnegative(),
  failedProducts: z.number().int().nonnegative(),
  batches: z.number().int().nonnegative(),
  failures: z.array(ProductFailureSchema).max(MAX_KEPT_PRODUCT_FAILURES),
  /** Records skipped because an earlier attempt had committed them (0 on a fresh run). */
  resumedAfterRecord: z.number().int().nonnegative(),
});
/** The `products_imported` stage's output. */
export type ProductsImportedOutput = z.infer<typeof ProductsImportedOutputSchema>;

function readResumeState(ctx: StageContext<'xml-import'>, feedSha256: string): XmlImportResumeState | null {
  if (ctx.resumeState === null || ctx.resumeState === undefined) return null;
  const parsed = XmlImportResumeStateSchema.safeParse(ctx.resumeState);
  if (!parsed.success || parsed.data.feedSha256 !== feedSha256) {
    ctx.logger.warn('ignoring a resume state that does not match this feed; importing from the start');
    return null;
  }
  return parsed.data;
}

/**
 * `products_imported`: streams the stored feed through the record reader, validates each
 * record, upserts valid products in batches of `batchSize`, and after each batch writes the
 * counters and the resume state.
 */
export async function importProducts(
  ctx: StageContext<'xml-import'>,
  feed: FeedFetchedOutput,
  config: XmlImportJobConfig,
): Promise<ProductsImportedOutput> {
  const { payload } = ctx;
  const state = readResumeState(ctx, feed.sha256);
  const skip = state?.recordsConsumed ?? 0;
  const counts = { ...(state?.counts ?? { total: 0, processed: 0, failed: 0 }) };
  const failures = [...(state?.firstFailures ?? [])];
  let batches = state?.batches ?? 0;
  let recordIndex = 0;
  let committedThrough = skip;
  let batch: ImportedProduct[] = [];
  let bytesDone = 0;
  const pending: RecordValues[] = [];
  const reader = new FeedRecordReader({
    recordElement: payload.recordElement,
    fieldMapping: payload.fieldMapping,
    maxElementDepth: config.maxElementDepth,
    onRecord: (values) => pending.push(values),
  });
  if (skip > 0) ctx.logger.info('resuming import', { recordsConsumed: skip, batches });

  const commit = async (): Promise<void> => {
    ctx.throwIfAborted();
    if (batch.length > 0) {
      await config.productStore.upsertMany(payload.sourceName, batch);
      batches += 1;
      counts.processed += batch.length;
      batch = [];
    }
    committedThrough = recordIndex;
    await ctx.setCounters({ total_products: counts.total, processed_products: counts.processed, failed_products: counts.failed });
    await ctx.saveResumeState({
      version: 1,
      feedSha256: feed.sha256,
      recordsConsumed: recordIndex,
      batches,
      counts: { ...counts },
      firstFailures: [...failures],
    } satisfies XmlImportResumeState);
    await ctx.progress(Math.min(99, Math.floor((bytesDone / feed.bytes) * 100)), `${counts.total} products read`);
  };

  const drain = async (): Promise<void> => {
    for (const values of pending.splice(0)) {
      recordIndex += 1;
      if (recordIndex <= skip) continue;
      counts.total += 1;
      const outcome = validateProduct(values);
      if (outcome.ok) {
        batch.push(outcome.product);
        if (batch.length >= payload.batchSize) await commit();
      } else {
        counts.failed += 1;
        if (failures.length < MAX_KEPT_PRODUCT_FAILURES) {
          failures.push(outcome.sku === undefined ? { record: recordIndex, error: outcome.error } : { record: recordIndex, sku: outcome.sku, error: outcome.error });
        }
      }
    }
  };

  const decoder = new TextDecoder(feed.encoding, { fatal: true });
  const decode = (bytes?: Uint8Array): string => {
    try {
      return bytes === undefined ? decoder.decode() : decoder.decode(bytes, { stream: true });
    } catch (error) {
      throw new PermanentJobError(`the feed is not valid ${feed.encoding} near byte ${bytesDone}`, { cause: error });
    }
  };
  for (const part of feed.parts) {
    ctx.throwIfAborted();
    const body = await ctx.artifacts.getByKey(part.key);
    if (createHash('sha256').update(body).digest('hex') !== part.sha256) {
      throw new Error(`feed part ${part.key} does not match its checkpointed sha256; it changed after it was fetched`);
    }
    for (let offset = 0; offset < body.byteLength; offset += SLICE_BYTES) {
      ctx.throwIfAborted();
      const slice = body.subarray(offset, Math.min(offset + SLICE_BYTES, body.byteLength));
      reader.write(decode(slice));
      bytesDone += slice.byteLength;
      if (pending.length > 0) await drain();
    }
  }
  reader.write(decode());
  reader.end();
  await drain();
  if (batch.length > 0 || recordIndex > committedThrough) await commit();
  await ctx.setCounters({ total_products: counts.total, processed_products: counts.processed, failed_products: counts.failed });
  await ctx.progress(100, `${counts.total} products: ${counts.processed} imported, ${counts.failed} invalid`);
  if (counts.total === 0) ctx.logger.warn(`the feed has no <${payload.recordElement}> records`, { recordElement: payload.recordElement });
  ctx.logger.info('products imported', { ...counts, batches });
  return {
    totalProducts: counts.total,
    processedProducts: counts.processed,
    failedProducts: counts.failed,
    batches,
    failures,
    resumedAfterRecord: skip,
  };
}
