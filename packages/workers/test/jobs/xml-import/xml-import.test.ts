import { tmpdir } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createXmlImportJob, LocalFolderBlobReader, MemoryProductStore, type ImportedProduct } from '@kai-jobs/workers';
import { runStagesForTest } from '@kai-jobs/workers/testing';
import { feedText, PRODUCT_MAPPING, SkuCountingStore, tempDir, writeTempFeed } from './fixtures/feeds.js';
import { runFeedFetched, runProductsImported, tempArtifacts } from './helpers.js';

const SOURCE = 'tiles-supplier';

describe('xml-import job', () => {
  it('imports a good feed in batches, with counters and a resume state per batch', async () => {
    const store = new MemoryProductStore();
    const job = createXmlImportJob({ fileRoot: tmpdir(), productStore: store });
    const path = writeTempFeed(feedText(5));
    const { result, outputs, recordings } = await runStagesForTest(job, {
      type: 'xml-import',
      payload: { importJobId: 'imp-1', sourceName: SOURCE, source: { kind: 'file', path }, fieldMapping: PRODUCT_MAPPING, batchSize: 2 },
    });
    expect(result).toEqual({ importJobId: 'imp-1', totalProducts: 5, processedProducts: 5, failedProducts: 0, batches: 3, failures: [] });
    expect(await store.count(SOURCE)).toBe(5);
    expect(await store.get(SOURCE, 'SKU-3')).toEqual({
      sku: 'SKU-3',
      name: 'Porcelain tile model 3 & trim',
      price: 3.5,
      currency: 'EUR',
      externalId: 'ext-3',
      description: 'Matt finish <b>60x60</b> tile, rectified edges, frost resistant.',
      images: ['https://cdn.example/p/3/a.jpg', 'https://cdn.example/p/3/b.jpg'],
    } satisfies ImportedProduct);

    const fetched = outputs.byName('feed_fetched') as { bytes: number; sha256: string; encoding: string; parts: unknown[] };
    expect(fetched.bytes).toBe(Buffer.byteLength(feedText(5)));
    expect(fetched.encoding).toBe('utf-8');
    const recording = recordings.get('products_imported');
    expect(recording?.counters).toEqual([
      { total_products: 2, processed_products: 2, failed_products: 0 },
      { total_products: 4, processed_products: 4, failed_products: 0 },
      { total_products: 5, processed_products: 5, failed_products: 0 },
      { total_products: 5, processed_products: 5, failed_products: 0 },
    ]);
    expect(recording?.resumeStates.map((state) => (state as { recordsConsumed: number }).recordsConsumed)).toEqual([2, 4, 5]);
    expect(recording?.resumeStates[0]).toMatchObject({ batches: 1, counts: { total: 2, processed: 2, failed: 0 }, firstFailures: [], feedSha256: fetched.sha256 });
  });

  it('counts invalid products with their errors and keeps importing the rest', async () => {
    const store = new MemoryProductStore();
    const job = createXmlImportJob({ fileRoot: tmpdir(), productStore: store });
    const feed = `<?xml version="1.0"?>
<catalog>
  <item><code>A-1</code><title>Oak plank</title><cost>19.90</cost><curr>eur</curr></item>
  <item><title>No code</title></item>
  <item><code>A-3</code><title>Marble</title><cost>12,50</cost></item>
  <item><code>A-4</code><title>  </title></item>
  <item><code>A-5</code><title>Slate</title><curr>EURO</curr><link>ftp://x</link></item>
  <item><code>A-6</code><title>Granite</title><cost></cost></item>
</catalog>`;
    const { result } = await runStagesForTest(job, {
      type: 'xml-import',
      payload: {
        importJobId: 'imp-2',
        sourceName: SOURCE,
        source: { kind: 'file', path: writeTempFeed(feed) },
        recordElement: 'item',
        fieldMapping: { sku: 'code', name: 'title', price: 'cost', currency: 'curr', url: 'link' },
      },
    });
    expect(result).toMatchObject({ totalProducts: 6, processedProducts: 2, failedProducts: 4, batches: 1 });
    expect((result as { failures: unknown[] }).failures).toEqual([
      { record: 2, error: 'sku: missing (no SKU in the record)' },
      { record: 3, sku: 'A-3', error: 'price: expected a non-negative number like 12.50 (got "12,50")' },
      { record: 4, sku: 'A-4', error: 'name: must not be empty' },
      {
        record: 5,
        sku: 'A-5',
        error: 'currency: expected a 3-letter ISO 4217 code like EUR (got "EURO"); url: expected an http(s) URL (got "ftp://x")',
      },
    ]);
    expect(await store.get(SOURCE, 'A-1')).toEqual({ sku: 'A-1', name: 'Oak plank', price: 19.9, currency: 'EUR' });
    // An empty optional element means "not given".
    expect(await store.get(SOURCE, 'A-6')).toEqual({ sku: 'A-6', name: 'Granite' });
  });

  it('keeps only the first 100 failures but counts them all', async () => {
    const store = new MemoryProductStore();
    const job = createXmlImportJob({ fileRoot: tmpdir(), productStore: store });
    const { result } = await runStagesForTest(job, {
      type: 'xml-import',
      payload: { importJobId: 'imp-3', sourceName: SOURCE, source: { kind: 'file', path: writeTempFeed(feedText(300, 2)) }, fieldMapping: PRODUCT_MAPPING },
    });
    expect(result).toMatchObject({ totalProducts: 300, processedProducts: 150, failedProducts: 150 });
    const failures = (result as { failures: { record: number }[] }).failures;
    expect(failures).toHaveLength(100);
    expect(failures[0]).toMatchObject({ record: 2, sku: 'SKU-2' });
    expect(failures[99]?.record).toBe(200);
  });

  it('fails malformed XML permanently with line and column; batches committed before stay', async () => {
    const store = new MemoryProductStore();
    const job = createXmlImportJob({ fileRoot: tmpdir(), productStore: store });
    const artifacts = tempArtifacts();
    const feed = '<products>\n<product><sku>1</sku><name>a</name></product>\n<product><sku>2</sku><name>b</name></product>\n<product><sku>3</sku><name>c</nam></product>\n</products>';
    const payload = { importJobId: 'imp-4', sourceName: SOURCE, source: { kind: 'file' as const, path: writeTempFeed(feed) }, batchSize: 1 };
    const { output } = await runFeedFetched(job, payload, artifacts);
    let counters: unknown[] = [];
    const failure = runProductsImported(job, payload, artifacts, output, { prepare: (ctx) => void (counters = ctx.recording.counters) });
    await expect(failure).rejects.toMatchObject({ name: 'PermanentJobError', retryable: false });
    await expect(failure).rejects.toThrow(/^malformed XML at line 4, column 34: unexpected close tag/);
    // All in the slice that failed: nothing was committed.
    expect(await store.count(SOURCE)).toBe(0);
    expect(counters).toEqual([]);

    // A feed broken after 1000 good products keeps the batches committed before the error.
    const broken = feedText(1000).replace('</products>', '<product><sku>X</sku><name>x</nam></product></products>');
    const lines = broken.split('\n').length;
    const longPayload = { ...payload, source: { kind: 'file' as const, path: writeTempFeed(broken) }, batchSize: 100 };
    const { output: longFeed } = await runFeedFetched(job, longPayload, artifacts, 'import-job-2');
    const longFailure = runProductsImported(job, longPayload, artifacts, longFeed, { jobId: 'import-job-2', prepare: (ctx) => void (counters = ctx.recording.counters) });
    await expect(longFailure).rejects.toThrow(new RegExp(`^malformed XML at line ${lines - 1}, column 34: unexpected close tag`));
    const committed = await store.count(SOURCE);
    expect(committed).toBeGreaterThanOrEqual(100);
    expect(committed % 100).toBe(0);
    expect(counters.at(-1)).toEqual({ total_products: committed, processed_products: committed, failed_products: 0 });
  });

  it.each([
    ['an entity bomb', '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">\n]>\n<products><product><sku>1</sku><name>&lol3;</name></product></products>'],
    ['an external entity', '<?xml version="1.0"?>\n<!DOCTYPE products [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<products><product><sku>1</sku><name>&xxe;</name></product></products>'],
    ['a parameter entity', '<!DOCTYPE products [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]><products/>'],
  ])('refuses %s in feed_fetched and writes nothing', async (_label, feed) => {
    const store = new MemoryProductStore();
    const job = createXmlImportJob({ fileRoot: tmpdir(), productStore: store });
    const artifacts = tempArtifacts();
    const payload = { importJobId: 'imp-5', sourceName: SOURCE, source: { kind: 'file' as const, path: writeTempFeed(feed) } };
    const failure = runFeedFetched(job, payload, artifacts);
    await expect(failure).rejects.toMatchObject({ name: 'PermanentJobError' });
    await expect(failure).rejects.toThrow(/declares entities in its DOCTYPE/);
    expect(await artifacts.list('import-job')).toEqual([]);
    expect(await store.count(SOURCE)).toBe(0);
  });

  it('never resolves entities of an external DTD: their use is a parse error', async () => {
    const job = createXmlImportJob({ fileRoot: tmpdir(), productStore: new MemoryProductStore() });
    const artifacts = tempArtifacts();
    const feed = '<?xml version="1.0"?>\n<!DOCTYPE products SYSTEM "http://127.0.0.1:9/products.dtd">\n<products><product><sku>1</sku><name>&xxe;</name></product></products>';
    const payload = { importJobId: 'imp-6', sourceName: SOURCE, source: { kind: 'file' as const, path: writeTempFeed(feed) } };
    const { output } = await runFeedFetched(job, payload, artifacts);
    expect(output.doctype).toBe('products');
    await expect(runProductsImported(job, payload, artifacts, output)).rejects.toThrow(/^malformed XML at line 3, column \d+: undefined entity/);
  });

  it('enforces the depth and size limits', async () => {
    const deep = `<products>${'<a>'.repeat(30)}${'</a>'.repeat(30)}</products>`;
    const job = createXmlImportJob({ fileRoot: tmpdir(), productStore: new MemoryProductStore(), maxElementDepth: 20, maxFeedBytes: 2000 });
    const artifacts = tempArtifacts();
    const payload = { importJobId: 'imp-7', sourceName: SOURCE, source: { kind: 'file' as const, path: writeTempFeed(deep) } };
    const { output } = await runFeedFetched(job, payload, artifacts);
    await expect(runProductsImported(job, payload, artifacts, output)).rejects.toThrow(/nests elements deeper than 20 levels \(at line 1, element <a>\)/);

    const big = { ...payload, source: { kind: 'file' as const, path: writeTempFeed(feedText(20)) } };
    await expect(runFeedFetched(job, big, tempArtifacts())).rejects.toThrow(/is \d+ bytes, over the limit of 2000/);
  });

  it('reads ISO-8859-1 feeds by their declaration and UTF-16 by its byte order mark; refuses UTF-32', async () => {
    const store = new MemoryProductStore();
    const job = createXmlImportJob({ fileRoot: tmpdir(), productStore: store });
    const latin1 = Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><products><product><sku>C1</sku><name>Café crème</name></product></products>', 'latin1');
    await runStagesForTest(job, { type: 'xml-import', payload: { importJobId: 'imp-8', sourceName: SOURCE, source: { kind: 'file', path: writeTempFeed(latin1) } } });
    expect((await store.get(SOURCE, 'C1'))?.name).toBe('Café crème');

    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<products/>', 'utf16le')]);
    const payload = { importJobId: 'imp-9', sourceName: SOURCE, source: { kind: 'file' as const, path: writeTempFeed(utf16) } };
    expect((await runFeedFetched(job, payload, tempArtifacts())).output.encoding).toBe('utf-16le');
    const utf32 = Buffer.concat([Buffer.from([0xff, 0xfe, 0, 0]), Buffer.from('<\0\0\0', 'latin1')]);
    const refused = runFeedFetched(job, { ...payload, source: { kind: 'file' as const, path: writeTempFeed(utf32) } }, tempArtifacts());
    await expect(refused).rejects.toMatchObject({ name: 'PermanentJobError', retryable: false });
    await expect(refused).rejects.toThrow(/UTF-32 encoded, which is not supported/);
  });

  it('fails permanently on a missing file, a file outside fileRoot, an empty feed and an unconfigured blob store', async () => {
    const root = tempDir();
    const job = createXmlImportJob({ productStore: new MemoryProductStore(), fileRoot: root });
    const base = { importJobId: 'imp-10', sourceName: SOURCE };
    await expect(runFeedFetched(job, { ...base, source: { kind: 'file', path: 'missing.xml' } }, tempArtifacts())).rejects.toThrow(/does not exist/);
    await expect(runFeedFetched(job, { ...base, source: { kind: 'file', path: '../../etc/passwd' } }, tempArtifacts())).rejects.toThrow(/is outside FILE_ROOT/);
    writeFileSync(join(root, 'empty.xml'), '');
    await expect(runFeedFetched(job, { ...base, source: { kind: 'file', path: 'empty.xml' } }, tempArtifacts())).rejects.toThrow(/is empty/);
    await expect(runFeedFetched(job, { ...base, source: { kind: 'storage', key: 'feeds/x.xml' } }, tempArtifacts())).rejects.toMatchObject({
      name: 'PermanentJobError',
      message: expect.stringMatching(/needs a blob store/),
    });
  });

  it('reads storage sources through the configured blob store, in parts', async () => {
    const blobs = tempDir();
    mkdirSync(join(blobs, 'feeds'));
    writeFileSync(join(blobs, 'feeds', 'supplier.xml'), feedText(2000));
    const store = new MemoryProductStore();
    const job = createXmlImportJob({ fileRoot: tmpdir(), productStore: store, blobStore: new LocalFolderBlobReader(blobs), partBytes: 64 * 1024 });
    const artifacts = tempArtifacts();
    const payload = { importJobId: 'imp-11', sourceName: SOURCE, source: { kind: 'storage' as const, key: 'feeds/supplier.xml' }, fieldMapping: PRODUCT_MAPPING };
    const { output } = await runFeedFetched(job, payload, artifacts);
    expect(output.source).toBe('storage:feeds/supplier.xml');
    expect(output.parts.length).toBeGreaterThan(5);
    expect(output.parts.reduce((sum, part) => sum + part.bytes, 0)).toBe(output.bytes);
    const { output: imported } = await runProductsImported(job, payload, artifacts, output);
    expect(imported).toMatchObject({ totalProducts: 2000, processedProducts: 2000, failedProducts: 0, batches: 4 });
    expect(await store.count(SOURCE)).toBe(2000);
    await expect(runFeedFetched(job, { ...payload, source: { kind: 'storage', key: 'feeds/none.xml' } }, tempArtifacts())).rejects.toThrow(/no object "feeds\/none.xml"/);
  });

  it('resumes after a crash from the last resume state, skipping committed records', async () => {
    const crashing = new SkuCountingStore();
    const job = createXmlImportJob({ fileRoot: tmpdir(), productStore: crashing });
    const artifacts = tempArtifacts();
    const payload = { importJobId: 'imp-12', sourceName: SOURCE, source: { kind: 'file' as const, path: writeTempFeed(feedText(1000, 7)) }, fieldMapping: PRODUCT_MAPPING, batchSize: 100 };
    const { output: feed } = await runFeedFetched(job, payload, artifacts);
    let saved: unknown[] = [];
    const crash = runProductsImported(job, payload, artifacts, feed, {
      prepare(ctx) {
        const save = ctx.saveResumeState.bind(ctx);
        ctx.saveResumeState = async (state) => {
          await save(state);
          if (ctx.recording.resumeStates.length === 3) ctx.abort(new Error('worker crashed'));
        };
        saved = ctx.recording.resumeStates;
      },
    });
    await expect(crash).rejects.toThrow('worker crashed');
    const last = saved.at(-1) as { recordsConsumed: number; counts: { processed: number } };
    expect(last.counts.processed).toBe(300);
    const upsertedBefore = crashing.upsertedProducts;

    const { output } = await runProductsImported(job, payload, artifacts, feed, { resumeState: last });
    const valid = 1000 - Math.floor(1000 / 7);
    expect(output).toMatchObject({ totalProducts: 1000, processedProducts: valid, failedProducts: Math.floor(1000 / 7), resumedAfterRecord: last.recordsConsumed });
    // Only the records after the committed ones were upserted again.
    expect(crashing.upsertedProducts - upsertedBefore).toBe(valid - 300);
    expect(crashing.skus.size).toBe(valid);
    // A state for another feed is ignored: everything is imported again.
    const fresh = await runProductsImported(job, payload, artifacts, feed, { resumeState: { ...last, feedSha256: '0'.repeat(64) } });
    expect(fresh.output.resumedAfterRecord).toBe(0);
    expect(fresh.output.processedProducts).toBe(valid);
  });
});
