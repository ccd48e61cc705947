import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { useRedisTestContext } from '@kai-jobs/queue/testing';
import { createXmlImportJob, RedisProductStore, type ImportedProduct, type ProductStore } from '@kai-jobs/workers';
import { runStagesForTest } from '@kai-jobs/workers/testing';
import { feedText, PRODUCT_MAPPING, writeTempFeed } from './fixtures/feeds.js';
import { runFeedFetched, runProductsImported, tempArtifacts } from './helpers.js';

const redisContext = useRedisTestContext(import.meta.url);
const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Counts what goes through to the real Redis store. */
class CountingStore implements ProductStore {
  upserted = 0;
  constructor(
    private readonly inner: ProductStore,
    private readonly failOnBatch?: number,
  ) {}
  batches = 0;
  async upsertMany(sourceName: string, products: readonly ImportedProduct[]): Promise<void> {
    this.batches += 1;
    await this.inner.upsertMany(sourceName, products);
    this.upserted += products.length;
    // Written, then the worker dies before it can save its state: the worst moment.
    if (this.batches === this.failOnBatch) throw new Error('worker killed after the upsert');
  }
  count(sourceName: string): Promise<number> {
    return this.inner.count(sourceName);
  }
  get(sourceName: string, sku: string): Promise<ImportedProduct | null> {
    return this.inner.get(sourceName, sku);
  }
}

describe('xml-import with the Redis product store', () => {
  it('keys products under <prefix>:{xml-import}:products:<sourceName>:items and re-imports without duplicates', async () => {
    const store = new RedisProductStore({ connection: redisContext.connection(), prefix: redisContext.prefix });
    const job = createXmlImportJob({ fileRoot: tmpdir(), productStore: store });
    const payload = { importJobId: 'imp-r1', sourceName: 'acme: tiles', source: { kind: 'file' as const, path: writeTempFeed(feedText(120, 10)) }, fieldMapping: PRODUCT_MAPPING, batchSize: 50 };
    const first = await runStagesForTest(job, { type: 'xml-import', payload });
    const second = await runStagesForTest(job, { type: 'xml-import', payload });
    expect(first.result).toEqual(second.result);
    expect(first.result).toMatchObject({ totalProducts: 120, processedProducts: 108, failedProducts: 12, batches: 3 });
    expect(store.keys.items('acme: tiles')).toBe(`${redisContext.prefix}:{xml-import}:products:acme%3A%20tiles:items`);
    expect(await redisContext.redis.hlen(store.keys.items('acme: tiles'))).toBe(108);
    expect(await store.count('acme: tiles')).toBe(108);
    expect(await store.get('acme: tiles', 'SKU-11')).toMatchObject({ sku: 'SKU-11', price: 11.5, currency: 'EUR', externalId: 'ext-11' });
    expect(await store.get('acme: tiles', 'SKU-10')).toBeNull();
  });

  it('resumes a crashed import from its resume state with no duplicated products', async () => {
    const redisStore = new RedisProductStore({ connection: redisContext.connection(), prefix: redisContext.prefix });
    const artifacts = tempArtifacts();
    const payload = { importJobId: 'imp-r2', sourceName: 'supplier', source: { kind: 'file' as const, path: writeTempFeed(feedText(1000, 9)) }, fieldMapping: PRODUCT_MAPPING, batchSize: 100 };
    const valid = 1000 - Math.floor(1000 / 9);

    // Attempt 1 writes its 4th batch to Redis, then dies before saving the state for it.
    const crashing = new CountingStore(redisStore, 4);
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
    expect(states).toHaveLength(3);
    expect(await redisStore.count('supplier')).toBe(400);

    // Attempt 2 resumes after the 3rd batch: batch 4 is upserted again (same keys), nothing doubles.
    const resumed = new CountingStore(redisStore);
    const job2 = createXmlImportJob({ fileRoot: tmpdir(), productStore: resumed });
    const { output, recording } = await runProductsImported(job2, payload, artifacts, feed, { resumeState: states.at(-1) });
    expect(output).toMatchObject({ totalProducts: 1000, processedProducts: valid, failedProducts: 1000 - valid, batches: Math.ceil(valid / 100) });
    expect(resumed.upserted).toBe(valid - 300);
    expect(await redisStore.count('supplier')).toBe(valid);
    expect(recording.counters.at(-1)).toEqual({ total_products: 1000, processed_products: valid, failed_products: 1000 - valid });
  });
});

/**
 * Passes batches to the real Redis store, each held for a few turns of the event loop (a store
 * slower than the parser), and records how many upserts were running at once.
 */
class SlowStore implements ProductStore {
  active = 0;
  maxActive = 0;
  sizes: number[] = [];
  constructor(private readonly inner: ProductStore) {}
  async upsertMany(sourceName: string, products: readonly ImportedProduct[]): Promise<void> {
    this.active += 1;
    this.maxActive = Math.max(this.maxActive, this.active);
    this.sizes.push(products.length);
    try {
      for (let turn = 0; turn < 5; turn += 1) await new Promise((resolve) => setImmediate(resolve));
      await this.inner.upsertMany(sourceName, products);
    } finally {
      this.active -= 1;
    }
  }
  count(sourceName: string): Promise<number> {
    return this.inner.count(sourceName);
  }
  get(sourceName: string, sku: string): Promise<ImportedProduct | null> {
    return this.inner.get(sourceName, sku);
  }
}

describe('xml-import backpressure', () => {
  it('never has more than one batch being written while parsing goes on, however slow the store', async () => {
    // Batches of 10 and a 64 KiB parse slice of ~170 records: every slice fills many batches at
    // once, so an importer that did not wait for the batch in flight would start them together.
    const slow = new SlowStore(new RedisProductStore({ connection: redisContext.connection(), prefix: redisContext.prefix }));
    const job = createXmlImportJob({ fileRoot: tmpdir(), productStore: slow });
    const payload = { importJobId: 'imp-bp', sourceName: 'slow', source: { kind: 'file' as const, path: writeTempFeed(feedText(3000, 7)) }, fieldMapping: PRODUCT_MAPPING, batchSize: 10 };
    const valid = 3000 - Math.floor(3000 / 7);
    const { result } = await runStagesForTest(job, { type: 'xml-import', payload });
    expect(result).toMatchObject({ totalProducts: 3000, processedProducts: valid, failedProducts: 3000 - valid, batches: Math.ceil(valid / 10) });
    expect(slow.maxActive).toBe(1);
    expect(slow.sizes).toHaveLength(Math.ceil(valid / 10));
    expect(Math.max(...slow.sizes)).toBe(10);
    expect(await slow.count('slow')).toBe(valid);
  });
});

describe('xml-import from a URL', () => {
  it('downloads a gzip-encoded feed through the guard and imports it', async () => {
    const body = gzipSync(feedText(30));
    const origin = await serve((request, response) => {
      if (request.url !== '/feeds/supplier.xml') {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, { 'content-type': 'application/xml', 'content-encoding': 'gzip', 'content-length': body.byteLength });
      response.end(body);
    });
    const store = new RedisProductStore({ connection: redisContext.connection(), prefix: redisContext.prefix });
    const job = createXmlImportJob({ fileRoot: tmpdir(), productStore: store, urlGuard: { allow: ['127.0.0.1'] } });
    const { result, outputs } = await runStagesForTest(job, {
      type: 'xml-import',
      payload: { importJobId: 'imp-u1', sourceName: 'web', source: { kind: 'url', url: `${origin}/feeds/supplier.xml` }, fieldMapping: PRODUCT_MAPPING },
    });
    expect(result).toMatchObject({ totalProducts: 30, processedProducts: 30 });
    expect((outputs.byName('feed_fetched') as { bytes: number }).bytes).toBe(Buffer.byteLength(feedText(30)));
    expect(await store.count('web')).toBe(30);
  });

  it('fails permanently on 404 and refused addresses, retryably on 503 and on a stalled download', async () => {
    let stalled = 0;
    const origin = await serve((request, response) => {
      if (request.url === '/unavailable') response.writeHead(503).end();
      else if (request.url === '/stalls') {
        stalled += 1;
        response.writeHead(200, { 'content-type': 'application/xml' });
        response.write('<products>');
      } else response.writeHead(404).end();
    });
    const store = new RedisProductStore({ connection: redisContext.connection(), prefix: redisContext.prefix });
    const allowed = createXmlImportJob({ fileRoot: tmpdir(), productStore: store, urlGuard: { allow: ['127.0.0.1'] }, idleTimeoutMs: 300 });
    const payload = (path: string) => ({ importJobId: 'imp-u2', sourceName: 'web', source: { kind: 'url' as const, url: `${origin}${path}` } });
    await expect(runFeedFetched(allowed, payload('/missing'), tempArtifacts())).rejects.toMatchObject({ name: 'PermanentJobError', message: expect.stringMatching(/answered HTTP 404/) });
    await expect(runFeedFetched(allowed, payload('/unavailable'), tempArtifacts())).rejects.toMatchObject({ name: 'FeedUnavailableError', retryable: true });
    await expect(runFeedFetched(allowed, payload('/stalls'), tempArtifacts())).rejects.toMatchObject({
      name: 'HttpFetchError',
      reason: 'timeout',
      retryable: true,
      message: expect.stringMatching(/sent nothing for 300 ms/),
    });
    expect(stalled).toBe(1);

    const guarded = createXmlImportJob({ fileRoot: tmpdir(), productStore: store });
    await expect(runFeedFetched(guarded, payload('/feed.xml'), tempArtifacts())).rejects.toMatchObject({
      name: 'PermanentJobError',
      message: expect.stringMatching(/refused .*127\.0\.0\.1 is loopback/),
    });
  });
});
