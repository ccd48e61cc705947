/**
 * The bare counterparts of the XML import benchmark: the generated feed (see xml-feed.ts)
 * streamed through saxes — the parser the import uses — into the same product records the
 * import makes from {@link BENCH_MAPPING}, written in pipelined batches (one batch written
 * while the next is parsed) into Redis, into PostgreSQL, or into the PostgREST-compatible
 * endpoint. No validation framework, no mapping, no checkpoints: what a hand-written script
 * would do. Also the RSS sampler every benchmark child uses.
 */
import { createReadStream } from 'node:fs';
import { SaxesParser } from 'saxes';

/** One product as the bare script makes it: the same fields, in the same order, as the import's. */
export interface BareProduct {
  sku: string;
  name: string;
  price: number;
  currency: string;
  externalId: string;
  description: string;
  images: string[];
}

/** Bytes read from the feed at a time: the import's slice size. */
const SLICE_BYTES = 64 * 1024;

/**
 * Streams `path` through saxes and calls `onBatch` with every `batchSize` valid products (a
 * price that is not a number makes a record invalid, as the import's `money` type does). The
 * batch handed over is awaited only before the next one is handed over: one write in flight
 * while parsing goes on. With `writes` false only the records are counted (the bare parse).
 */
export async function bareImport(
  path: string,
  options: { batchSize: number; onBatch?: (products: BareProduct[]) => Promise<void>; onProgress?: (bytes: number) => void },
): Promise<{ records: number; written: number }> {
  const parser = new SaxesParser({ position: true });
  let records = 0;
  let written = 0;
  let batch: BareProduct[] = [];
  let ready: BareProduct[][] = [];
  let inRecord = false;
  let field = '';
  let text = '';
  let current: BareProduct = emptyProduct();
  parser.on('opentag', (tag) => {
    if (tag.name === 'product') {
      inRecord = true;
      current = emptyProduct();
      current.externalId = (tag.attributes['id'] as string | undefined) ?? '';
      return;
    }
    if (!inRecord) return;
    field = tag.name;
    text = '';
    if (tag.name === 'price') current.currency = ((tag.attributes['currency'] as string | undefined) ?? '').trim();
  });
  parser.on('text', (value) => {
    if (field !== '') text += value;
  });
  parser.on('cdata', (value) => {
    if (field !== '') text += value;
  });
  parser.on('closetag', (tag) => {
    if (!inRecord) return;
    if (tag.name === 'product') {
      inRecord = false;
      records += 1;
      if (!Number.isNaN(current.price)) {
        batch.push(current);
        if (batch.length >= options.batchSize) {
          ready.push(batch);
          batch = [];
        }
      }
      return;
    }
    const value = text.trim();
    if (field === 'sku') current.sku = value;
    else if (field === 'name') current.name = value;
    else if (field === 'price') current.price = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
    else if (field === 'description') current.description = value;
    else if (field === 'image') current.images.push(value);
    field = '';
  });
  let inflight: Promise<void> = Promise.resolve();
  const send = async (products: BareProduct[]): Promise<void> => {
    await inflight;
    written += products.length;
    inflight = options.onBatch === undefined ? Promise.resolve() : options.onBatch(products);
    inflight.catch(() => undefined);
  };
  const decoder = new TextDecoder('utf-8');
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: SLICE_BYTES })) {
    parser.write(decoder.decode(chunk as Buffer, { stream: true }));
    bytes += (chunk as Buffer).byteLength;
    options.onProgress?.(bytes);
    if (ready.length > 0) {
      const full = ready;
      ready = [];
      for (const products of full) await send(products);
    }
  }
  parser.write(decoder.decode());
  parser.close();
  for (const products of ready) await send(products);
  if (batch.length > 0) await send(batch);
  await inflight;
  return { records, written };
}

function emptyProduct(): BareProduct {
  return { sku: '', name: '', price: 0, currency: '', externalId: '', description: '', images: [] };
}

/** Peak RSS per quarter of the work (by the fraction done), sampled on every call and by a timer. */
export class RssSampler {
  readonly quarters = [0, 0, 0, 0];
  private fraction = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 50) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  /** Records the fraction of the work done (0–1) and samples. */
  progress(fraction: number): void {
    this.fraction = Math.min(1, Math.max(this.fraction, fraction));
    this.sample();
  }

  private sample(): void {
    const quarter = Math.min(3, Math.floor(this.fraction * 4));
    const rss = process.memoryUsage.rss();
    if (rss > (this.quarters[quarter] as number)) this.quarters[quarter] = rss;
  }

  /** Stops sampling; the peaks in MiB, and the whole process's peak (getrusage). */
  stop(): { quartersMiB: number[]; peakMiB: number } {
    this.sample();
    clearInterval(this.timer);
    return { quartersMiB: this.quarters.map((bytes) => Math.round(bytes / 1024 / 1024)), peakMiB: Math.round(process.resourceUsage().maxRSS / 1024) };
  }
}
