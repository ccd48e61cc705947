import { open } from 'node:fs/promises';
import { z } from 'zod';
import { ProductFailureSchema } from '@kai-jobs/queue';
import { PermanentJobError } from '../../errors.js';
import type { StageContext } from '../../stage-context.js';
import type { XmlImportJobConfig } from './config.js';
import type { FeedFetchedOutput } from './feed-fetch.js';
import { createProductValidator, pathsOfMapping } from './product-schema.js';
import type { ImportedProduct } from './product-store.js';
import { FeedRecordReader, type RecordValues } from './record-reader.js';

/** Failures kept in the result. */
export const MAX_KEPT_PRODUCT_FAILURES = 100;

/**
 * Bytes handed to the parser at a time; bounds the records pending between two awaits.
 * Kept small on purpose: a decoded slice of 256 KiB is a string in V8's large-object space,
 * which only a full GC frees, and the import's heap then grew by ~50 MB; at 64 KiB it
 * dies young, for the same speed.
 */
const SLICE_BYTES = 64 * 1024;

/**
 * Batches being written at once while parsing goes on. One is enough: with two, a 100 MB
 * import into Redis was no faster (the store keeps up with one), and a crash left more
 * batches written beyond the saved state.
 */
const MAX_BATCHES_IN_FLIGHT = 1;

/** Bytes read from a part at a time (two such buffers, reused, one being read ahead). */
const READ_BYTES = 1024 * 1024;

/**
 * The stored feed, slice by slice, through two reused buffers: while the parser works on one
 * block the next is being read, and reading a part from a local store allocates nothing per
 * part (whole-part buffers would pile up as garbage outside the JS heap, tens of MB, before a
 * GC frees them). A slice is only valid until the next one is requested.
 */
async function* readFeedSlices(ctx: StageContext<'xml-import'>, feed: FeedFetchedOutput): AsyncGenerator<Buffer> {
  const buffers: Buffer[] = [Buffer.allocUnsafe(READ_BYTES), Buffer.allocUnsafe(READ_BYTES)];
  for (const part of feed.parts) {
    const path = ctx.artifacts.localPathOfKey(part.key);
    if (path === null) {
      const body = await ctx.artifacts.getByKey(part.key);
      for (let offset = 0; offset < body.byteLength; offset += SLICE_BYTES) yield body.subarray(offset, offset + SLICE_BYTES);
      continue;
    }
    const handle = await open(path, 'r');
    let total = 0;
    let which = 0;
    let next: Promise<{ bytesRead: number }> = handle.read(buffers[0] as Buffer, 0, READ_BYTES, null);
    try {
      for (;;) {
        const { bytesRead } = await next;
        if (bytesRead === 0) break;
        const block = buffers[which] as Buffer;
        which ^= 1;
        next = handle.read(buffers[which] as Buffer, 0, READ_BYTES, null);
        total += bytesRead;
        for (let offset = 0; offset < bytesRead; offset += SLICE_BYTES) yield block.subarray(offset, Math.min(offset + SLICE_BYTES, bytesRead));
      }
    } finally {
      await next.catch(() => undefined);
      await handle.close();
    }
    // Parts were written atomically by feed_fetched; a size change means someone altered them.
    if (total !== part.bytes) throw new Error(`feed part ${part.key} has ${total} bytes, its checkpoint says ${part.bytes}`);
  }
}

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
 * counters and the resume state. Parsing runs on the main thread in slices of 64 KiB with
 * an await between them, so heartbeats and lock renewal are never held up for long.
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
  let recordIndex = skip;
  let committedThrough = skip;
  let batch: ImportedProduct[] = [];
  let bytesDone = 0;
  let seen = 0;
  const pending: RecordValues[] = [];
  const reader = new FeedRecordReader({
    recordElement: payload.recordElement,
    fieldMapping: pathsOfMapping(payload.fieldMapping),
    variantElement: payload.variantElement,
    maxElementDepth: config.maxElementDepth,
    onRecord: (values) => {
      // Records an earlier attempt committed are re-parsed (the parser needs them) but skipped.
      seen += 1;
      if (seen > skip) pending.push(values);
    },
  });
  const validate = createProductValidator(payload.fieldMapping);
  if (skip > 0) ctx.logger.info('resuming import', { recordsConsumed: skip, batches });

  // A batch is written while the next one is parsed (the store works in another process or
  // on another core), up to MAX_BATCHES_IN_FLIGHT. Resume states are saved strictly in order,
  // each only after its own batch and every earlier one are stored: a crash may leave a later
  // batch written too, which a resumed attempt simply writes again.
  const inflight: Promise<void>[] = [];
  let lastSave: Promise<void> = Promise.resolve();
  const commit = async (): Promise<void> => {
    ctx.throwIfAborted();
    const products = batch;
    batch = [];
    if (products.length > 0) {
      batches += 1;
      counts.processed += products.length;
    }
    committedThrough = recordIndex;
    const saved: XmlImportResumeState = {
      version: 1,
      feedSha256: feed.sha256,
      recordsConsumed: recordIndex,
      batches,
      counts: { ...counts },
      firstFailures: [...failures],
    };
    const percent = Math.min(99, Math.floor((bytesDone / feed.bytes) * 100));
    while (inflight.length >= MAX_BATCHES_IN_FLIGHT) {
      await inflight.shift();
      // The job may have been aborted while earlier batches were being written.
      ctx.throwIfAborted();
    }
    const upsert = products.length > 0 ? config.productStore.upsertMany(payload.sourceName, products) : Promise.resolve();
    upsert.catch(() => undefined);
    const previous = lastSave;
    lastSave = (async () => {
      await upsert;
      await previous;
      ctx.throwIfAborted();
      await ctx.setCounters({ total_products: saved.counts.total, processed_products: saved.counts.processed, failed_products: saved.counts.failed });
      await ctx.saveResumeState(saved);
      await ctx.progress(percent, `${saved.counts.total} products read`);
    })();
    // Awaited later (above, or at the end); never an unhandled rejection meanwhile.
    lastSave.catch(() => undefined);
    inflight.push(lastSave);
  };

  // Records arrive only while the parser runs (reader.write), never during drain's awaits, so
  // pending is walked in place and emptied after, without a copy per slice.
  const drain = async (): Promise<void> => {
    for (let index = 0; index < pending.length; index += 1) {
      const values = pending[index] as RecordValues;
      recordIndex += 1;
      counts.total += 1;
      const outcome = validate(values);
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
    pending.length = 0;
  };

  const decoder = new TextDecoder(feed.encoding, { fatal: true });
  const decode = (bytes?: Uint8Array): string => {
    try {
      return bytes === undefined ? decoder.decode() : decoder.decode(bytes, { stream: true });
    } catch (error) {
      throw new PermanentJobError(`the feed is not valid ${feed.encoding} near byte ${bytesDone}`, { cause: error });
    }
  };
  try {
    for await (const slice of readFeedSlices(ctx, feed)) {
      ctx.throwIfAborted();
      reader.write(decode(slice));
      bytesDone += slice.byteLength;
      if (pending.length > 0) await drain();
    }
    reader.write(decode());
    reader.end();
    await drain();
    if (batch.length > 0 || recordIndex > committedThrough) await commit();
  } finally {
    // Whatever happened, no write of this stage may outlive it.
    await lastSave.catch(() => undefined);
  }
  await lastSave;
  await ctx.setCounters({ total_products: counts.total, processed_products: counts.processed, failed_products: counts.failed });
  await ctx.progress(100, `${counts.total} products: ${counts.processed} imported, ${counts.failed} invalid`);
  if (counts.total === 0 && skip === 0) {
    const names = typeof payload.recordElement === 'string' ? [payload.recordElement] : payload.recordElement;
    ctx.logger.warn(`the feed has no ${names.map((name) => `<${name}>`).join(' or ')} records`, { recordElement: payload.recordElement });
  }
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
