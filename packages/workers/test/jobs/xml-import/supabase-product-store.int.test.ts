import { tmpdir } from 'node:os';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSupabaseTestStack, type SupabaseTestStack } from '@kai-jobs/queue/testing';
import { createXmlImportJob, SupabaseProductStore, type ImportedProduct, type ProductStore } from '@kai-jobs/workers';
import { runStagesForTest } from '@kai-jobs/workers/testing';
import { feedText, PRODUCT_MAPPING, writeTempFeed } from './fixtures/feeds.js';
import { merchantRssFeed } from './fixtures/real-feeds.js';
import { runFeedFetched, runProductsImported, tempArtifacts } from './helpers.js';

// The product store through the real supabase-js client, over HTTP, to the PostgREST-compatible
// endpoint, into PostgreSQL: a fresh migrated schema per test.
let stack: SupabaseTestStack;
let schema: string;
let stores: SupabaseProductStore[] = [];

beforeAll(async () => {
  stack = await startSupabaseTestStack();
});
afterAll(async () => {
  await stack?.close();
});
beforeEach(async () => {
  schema = await stack.createSchema('products');
});
afterEach(async () => {
  await Promise.all(stores.map((store) => store.close()));
  stores = [];
  await stack.dropSchema(schema);
});

function productStore(productsPerCall?: number): SupabaseProductStore {
  const store = new SupabaseProductStore({ url: stack.url, serviceRoleKey: stack.serviceRoleKey, schema, ...(productsPerCall ? { productsPerCall } : {}) });
  stores.push(store);
  return store;
}

async function rowsOf(sourceName: string): Promise<number> {
  const { rows } = await stack.admin.query<{ n: number }>(`select count(*)::int as n from "${schema}".imported_products where source_name = $1`, [sourceName]);
  return rows[0]?.n ?? -1;
}

/** Passes batches to the Supabase store; throws after writing batch `failOnBatch` (the worker dies before saving its state). */
class CrashingStore implements ProductStore {
  batches = 0;
  upserted = 0;
  constructor(
    private readonly inner: ProductStore,
    private readonly failOnBatch?: number,
  ) {}
  async upsertMany(sourceName: string, products: readonly ImportedProduct[]): Promise<void> {
    this.batches += 1;
    await this.inner.upsertMany(sourceName, products);
    this.upserted += products.length;
    if (this.batches === this.failOnBatch) throw new Error('worker killed after the upsert');
  }
  count(sourceName: string): Promise<number> {
    return this.inner.count(sourceName);
  }
  get(sourceName: string, sku: string): Promise<ImportedProduct | null> {
    return this.inner.get(sourceName, sku);
  }
}

describe('SupabaseProductStore', () => {
  it('upserts by (source, sku): the same batch twice leaves one row per product, the last of a repeated SKU wins', async () => {
    const store = productStore(2);
    const batch: ImportedProduct[] = [
      { sku: 'A', name: 'Tile A', price: 1.5, currency: 'EUR', images: ['a.jpg', 'b.jpg'] },
      { sku: 'B', name: 'Tile B' },
      { sku: 'C', name: 'Tile C', stock: 4 },
    ];
    await store.upsertMany('feed: one', batch);
    await store.upsertMany('feed: one', batch);
    expect(await store.count('feed: one')).toBe(3);
    expect(await rowsOf('feed: one')).toBe(3);
    await store.upsertMany('feed: one', [{ sku: 'B', name: 'Tile B v2' }, { sku: 'B', name: 'Tile B v3', price: 9 }]);
    expect(await store.count('feed: one')).toBe(3);
    expect(await store.get('feed: one', 'B')).toEqual({ sku: 'B', name: 'Tile B v3', price: 9 });
    expect(await store.get('feed: one', 'A')).toEqual(batch[0]);
    expect(await store.get('feed: one', 'missing')).toBeNull();
    expect(await store.count('other feed')).toBe(0);
    await store.upsertMany('other feed', []);
    expect(await store.count('other feed')).toBe(0);
  });

  it('writes nothing from a call with an invalid product, and says why', async () => {
    const store = productStore();
    const error = await store.upsertMany('feed', [{ sku: 'A', name: 'ok' }, { sku: '', name: 'no sku' }]).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'ValidationError' });
    expect((error as Error).message).toMatch(/imported_products_sku_not_empty/);
    expect(await store.count('feed')).toBe(0);
  });

  it('is refused with a wrong key', async () => {
    const store = new SupabaseProductStore({ url: stack.url, serviceRoleKey: stack.anonKey, schema });
    stores.push(store);
    await expect(store.upsertMany('feed', [{ sku: 'A', name: 'A' }])).rejects.toMatchObject({ name: 'StoreError', retryable: false });
    expect(await rowsOf('feed')).toBe(0);
  });
});

describe('xml-import with the Supabase product store', () => {
  it('imports a feed twice without duplicates', async () => {
    const store = productStore();
    const job = createXmlImportJob({ fileRoot: tmpdir(), productStore: store });
    const payload = { importJobId: 'imp-s1', sourceName: 'acme', source: { kind: 'file' as const, path: writeTempFeed(feedText(120, 10)) }, fieldMapping: PRODUCT_MAPPING, batchSize: 50 };
    const first = await runStagesForTest(job, { type: 'xml-import', payload });
    const second = await runStagesForTest(job, { type: 'xml-import', payload });
    expect(first.result).toEqual(second.result);
    expect(first.result).toMatchObject({ totalProducts: 120, processedProducts: 108, failedProducts: 12 });
    expect(await rowsOf('acme')).toBe(108);
    expect(await store.get('acme', 'SKU-11')).toMatchObject({ sku: 'SKU-11', price: 11.5, currency: 'EUR', externalId: 'ext-11' });
  });

  it('stores a Google Merchant feed\'s typed fields (amounts, currencies, lists, weights) in the fields column', async () => {
    const store = productStore();
    const job = createXmlImportJob({ fileRoot: tmpdir(), productStore: store });
    const payload = { importJobId: 'imp-s3', sourceName: 'merchant', source: { kind: 'file' as const, path: writeTempFeed(merchantRssFeed()) }, preset: 'google-merchant' as const };
    const { result } = await runStagesForTest(job, { type: 'xml-import', payload });
    expect(result).toMatchObject({ totalProducts: 7, processedProducts: 3, failedProducts: 4 });
    expect(await rowsOf('merchant')).toBe(3);
    const { rows } = await stack.admin.query<{ name: string; fields: Record<string, unknown> }>(
      `select name, fields from "${schema}".imported_products where source_name = $1 and sku = $2`,
      ['merchant', 'TV-1'],
    );
    expect(rows[0]?.name).toBe('LG 22LB4510 TV');
    expect(rows[0]?.fields).toMatchObject({
      price: 170.19,
      currency: 'EUR',
      salePrice: 149,
      salePriceCurrency: 'EUR',
      additionalImageLinks: ['https://img.example/tv-1b.jpg', 'https://img.example/tv-1c.jpg'],
      gtin: '4006381333931',
      shippingWeightKg: 2.5,
      availability: 'in stock',
    });
    expect(await store.get('merchant', 'TV-2')).toMatchObject({ price: 99, currency: 'USD', shippingWeightKg: 0.34019428 });
  });

  it('resumes a crashed import from its resume state with no duplicated products', async () => {
    const store = productStore();
    const artifacts = tempArtifacts();
    const payload = { importJobId: 'imp-s2', sourceName: 'supplier', source: { kind: 'file' as const, path: writeTempFeed(feedText(1000, 9)) }, fieldMapping: PRODUCT_MAPPING, batchSize: 100 };
    const valid = 1000 - Math.floor(1000 / 9);
    const crashing = new CrashingStore(store, 4);
    const job1 = createXmlImportJob({ fileRoot: tmpdir(), productStore: crashing });
    const { output: feed } = await runFeedFetched(job1, payload, artifacts);
    let states: unknown[] = [];
    await expect(
      runProductsImported(job1, payload, artifacts, feed, {
        prepare: (ctx) => {
          states = ctx.recording.resumeStates;
        },
      }),
    ).rejects.toThrow('worker killed after the upsert');
    expect(await rowsOf('supplier')).toBe(400);

    const resumed = new CrashingStore(store);
    const job2 = createXmlImportJob({ fileRoot: tmpdir(), productStore: resumed });
    const { output } = await runProductsImported(job2, payload, artifacts, feed, { resumeState: states.at(-1) });
    expect(output).toMatchObject({ totalProducts: 1000, processedProducts: valid });
    expect(resumed.upserted).toBe(valid - 300);
    expect(await rowsOf('supplier')).toBe(valid);
  });
});
