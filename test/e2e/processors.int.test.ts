import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createJobClient, type JobClient } from '@kai-jobs/queue';
import { useRedisTestContext, waitFor } from '@kai-jobs/queue/testing';
import {
  createPdfJob,
  createScrapeJob,
  createWorkerRuntime,
  createXmlImportJob,
  RedisMaterialStore,
  RedisProductStore,
  type StagedJobDefinition,
  type WorkerRuntime,
} from '@kai-jobs/workers';
import { makeCataloguePdf, makeLongPdf, makeNotAPdf } from '../../packages/workers/test/jobs/pdf/fixtures/pdfs.js';
import { feedText, PRODUCT_MAPPING, tempDir } from '../../packages/workers/test/jobs/xml-import/fixtures/feeds.js';
import { merchantRssFeed } from '../../packages/workers/test/jobs/xml-import/fixtures/real-feeds.js';
import { html, jsonLd, page, startTestSite } from '../../packages/workers/test/jobs/scrape/fixtures/test-site.js';
import { startWorkerProcess, stopWorkerProcess } from '../../packages/workers/test/fixtures/worker-process.js';
import { stores } from './helpers.js';

const ctx = useRedisTestContext(import.meta.url);
const WORKER_BIN = fileURLToPath(new URL('../../packages/workers/src/bin/worker.ts', import.meta.url));

function client(): JobClient {
  return ctx.manage('client', createJobClient({ redis: ctx.redisOptions, waitPollIntervalMs: 50 }));
}

async function runtime(jobs: StagedJobDefinition[]): Promise<WorkerRuntime> {
  const started = ctx.track(
    'runtime',
    createWorkerRuntime({
      redis: ctx.redisOptions,
      jobs,
      cpuThreads: 1,
      artifactsDir: tempDir('kai-e2e-artifacts-'),
      progressThrottleMs: 50,
      heartbeatIntervalMs: 500,
    }),
  );
  await started.start();
  return started;
}

const materials = () => new RedisMaterialStore({ connection: ctx.redis, prefix: ctx.prefix });
const products = () => new RedisProductStore({ connection: ctx.redis, prefix: ctx.prefix });

describe('PDF processing through the runtime', () => {
  it('runs every stage, fills the status row and its counters, and stores the materials', async () => {
    const dir = tempDir('kai-e2e-pdf-');
    const path = join(dir, 'catalogue.pdf');
    writeFileSync(path, await makeCataloguePdf());
    const worker = await runtime([createPdfJob({ fileRoot: tmpdir(), materialStore: materials() }) as StagedJobDefinition]);
    const jobs = client();
    const { id } = await jobs.enqueue('pdf', { documentId: 'doc-cat', source: { kind: 'file', path }, options: { tileSizePx: 256 } });
    const result = await jobs.waitForResult<'pdf'>(id, { timeoutMs: 60_000 });
    expect(result).toMatchObject({ documentId: 'doc-cat', pages: 3 });
    expect(result.tiles).toBeGreaterThan(0);
    expect(result.chunks).toBeGreaterThan(0);
    expect(result.materials).toBeGreaterThanOrEqual(2);
    const row = await stores(ctx).status.get(id);
    expect(row).toMatchObject({ status: 'completed', progress: 100, counters: { total_pages: 3, completed_pages: 3 }, attempt: 1 });
    const saved = await materials().list('doc-cat');
    expect(saved.map((material) => material.name.toLowerCase()).join(' ')).toMatch(/marble/);
    await worker.close();
  }, 90_000);

  it('a file that is not a PDF fails at once: a failed row with the reason, no retries, nothing stored', async () => {
    const path = join(tempDir('kai-e2e-pdf-'), 'notes.pdf');
    writeFileSync(path, makeNotAPdf());
    const worker = await runtime([createPdfJob({ fileRoot: tmpdir(), materialStore: materials() }) as StagedJobDefinition]);
    const jobs = client();
    const { id } = await jobs.enqueue('pdf', { documentId: 'doc-bad', source: { kind: 'file', path } });
    await expect(jobs.waitForResult(id, { timeoutMs: 30_000 })).rejects.toThrow(/in stage pdf_loaded: .*not a PDF/i);
    const row = await stores(ctx).status.get(id);
    expect(row).toMatchObject({ status: 'failed', errorStage: 'pdf_loaded', attempt: 1 });
    expect((await jobs.queue('pdf').getJob(id))?.attemptsMade).toBe(1);
    expect(await materials().count('doc-bad')).toBe(0);
    expect(await stores(ctx).checkpoints.listCheckpoints({ id, type: 'pdf' })).toEqual([]);
    await worker.close();
  }, 60_000);

  it('kill -9 during tile rendering: another worker process resumes there; text is not extracted twice and no material is duplicated', async () => {
    const dir = tempDir('kai-e2e-pdf-');
    const path = join(dir, 'long.pdf');
    writeFileSync(path, await makeLongPdf(40));
    const env = { WORKER_TYPES: 'pdf', HEARTBEAT_INTERVAL_MS: '500', LOCK_DURATION_MS: '2000', STALLED_INTERVAL_MS: '1000', ARTIFACTS_DIR: join(dir, 'artifacts'), FILE_ROOT: dir };
    const first = await startWorkerProcess({ prefix: ctx.prefix, workerId: `pdf-a-${process.pid}`, script: WORKER_BIN, readyMessage: 'worker ready', env });
    const jobs = client();
    const { id } = await jobs.enqueue('pdf', { documentId: 'doc-long', source: { kind: 'file', path }, options: { renderScale: 1 } });
    const { status } = stores(ctx);
    await waitFor(async () => (await status.get(id))?.currentStage === 'tiles_generated', { timeoutMs: 60_000 });
    first.kill('SIGKILL');
    await stopWorkerProcess(first);
    const second = await startWorkerProcess({ prefix: ctx.prefix, workerId: `pdf-b-${process.pid}`, script: WORKER_BIN, readyMessage: 'worker ready', env });
    try {
      const result = await jobs.waitForResult<'pdf'>(id, { timeoutMs: 120_000 });
      expect(result.pages).toBe(40);
      const history = await status.history(id);
      expect(history.find((entry) => entry.event === 'resumed')).toMatchObject({ from: 'tiles_generated', restored: ['pdf_loaded', 'text_extracted'] });
      expect(await materials().count('doc-long')).toBe(result.materials);
    } finally {
      await stopWorkerProcess(second);
    }
  }, 180_000);
});

describe('XML import through the runtime', () => {
  it('imports a feed with invalid products: counters per batch, the first failures kept, rows correct', async () => {
    const path = join(tempDir('kai-e2e-xml-'), 'feed.xml');
    writeFileSync(path, feedText(1200, 100));
    const worker = await runtime([createXmlImportJob({ fileRoot: tmpdir(), productStore: products() }) as StagedJobDefinition]);
    const jobs = client();
    const { id } = await jobs.enqueue('xml-import', { importJobId: 'imp-1', sourceName: 'acme', source: { kind: 'file', path }, fieldMapping: PRODUCT_MAPPING, batchSize: 250 });
    const result = await jobs.waitForResult<'xml-import'>(id, { timeoutMs: 60_000 });
    expect(result).toMatchObject({ totalProducts: 1200, processedProducts: 1188, failedProducts: 12 });
    expect(result.failures).toHaveLength(12);
    expect(await stores(ctx).status.get(id)).toMatchObject({
      status: 'completed',
      counters: { total_products: 1200, processed_products: 1188, failed_products: 12 },
    });
    expect(await products().count('acme')).toBe(1188);
    await worker.close();
  }, 60_000);

  it('imports a Google Merchant feed enqueued with the preset and one added field (the worker reads the resolved mapping)', async () => {
    const path = join(tempDir('kai-e2e-merchant-'), 'merchant.xml');
    writeFileSync(path, merchantRssFeed());
    const worker = await runtime([createXmlImportJob({ fileRoot: tmpdir(), productStore: products() }) as StagedJobDefinition]);
    const jobs = client();
    const { id } = await jobs.enqueue('xml-import', { importJobId: 'imp-m', sourceName: 'merchant', source: { kind: 'file', path }, preset: 'google-merchant', fieldMapping: { colour: 'g:color' } });
    const result = await jobs.waitForResult<'xml-import'>(id, { timeoutMs: 60_000 });
    expect(result).toMatchObject({ totalProducts: 7, processedProducts: 3, failedProducts: 4 });
    expect(result.failures.map((failure) => failure.error)).toEqual([
      'price: must not be empty',
      'price: expected an amount with an ISO 4217 currency like 170.19 EUR (got "12,50 EUR")',
      'availability: expected one of: in stock, out of stock, preorder, backorder (got "maybe"); gtin: GTIN check digit is wrong (got "4006381333932")',
      'price: missing (no price in the record)',
    ]);
    expect(await products().get('merchant', 'TV-1')).toMatchObject({ price: 170.19, currency: 'EUR', colour: 'black', shippingWeightKg: 2.5 });
    await worker.close();
  }, 60_000);

  it('malformed XML fails the job with line and column, a failed row and no products', async () => {
    const path = join(tempDir('kai-e2e-xml-'), 'broken.xml');
    writeFileSync(path, '<?xml version="1.0"?>\n<products>\n  <product><sku>A1</sku><name>Tile</name></product>\n  <product><sku>A2</sku><name>Oops</nam></product>\n</products>\n');
    const worker = await runtime([createXmlImportJob({ fileRoot: tmpdir(), productStore: products() }) as StagedJobDefinition]);
    const jobs = client();
    const { id } = await jobs.enqueue('xml-import', { importJobId: 'imp-2', sourceName: 'broken', source: { kind: 'file', path } });
    await expect(jobs.waitForResult(id, { timeoutMs: 30_000 })).rejects.toThrow(/line 4/);
    expect(await stores(ctx).status.get(id)).toMatchObject({ status: 'failed', errorStage: 'products_imported' });
    expect(await products().count('broken')).toBe(0);
    await worker.close();
  }, 60_000);

  it('kill -9 in the middle of the import: a new worker skips the committed batches; no product is duplicated', async () => {
    const dir = tempDir('kai-e2e-xml-');
    const path = join(dir, 'big.xml');
    writeFileSync(path, feedText(400_000));
    const env = { WORKER_TYPES: 'xml-import', HEARTBEAT_INTERVAL_MS: '500', LOCK_DURATION_MS: '2000', STALLED_INTERVAL_MS: '1000', ARTIFACTS_DIR: join(dir, 'artifacts'), FILE_ROOT: dir };
    const first = await startWorkerProcess({ prefix: ctx.prefix, workerId: `xml-a-${process.pid}`, script: WORKER_BIN, readyMessage: 'worker ready', env });
    const jobs = client();
    const { id } = await jobs.enqueue('xml-import', { importJobId: 'imp-3', sourceName: 'big', source: { kind: 'file', path }, fieldMapping: PRODUCT_MAPPING, batchSize: 100 });
    const { status } = stores(ctx);
    await waitFor(async () => ((await status.get(id))?.counters.processed_products ?? 0) >= 2000, { timeoutMs: 60_000, intervalMs: 5 });
    first.kill('SIGKILL');
    await stopWorkerProcess(first);
    const before = await products().count('big');
    expect(before).toBeLessThan(400_000);
    const second = await startWorkerProcess({ prefix: ctx.prefix, workerId: `xml-b-${process.pid}`, script: WORKER_BIN, readyMessage: 'worker ready', env });
    try {
      const result = await jobs.waitForResult<'xml-import'>(id, { timeoutMs: 120_000 });
      expect(result).toMatchObject({ totalProducts: 400_000, processedProducts: 400_000, failedProducts: 0 });
      expect(await products().count('big')).toBe(400_000);
      expect((await status.history(id)).find((entry) => entry.event === 'resumed')).toMatchObject({ from: 'products_imported', restored: ['feed_fetched'] });
    } finally {
      await stopWorkerProcess(second);
    }
  }, 180_000);
});

describe('scraping sessions through the runtime', () => {
  it('crawls a local site: the row goes processing → scraping → completed with page counts', async () => {
    const site = await startTestSite({
      '/': html(page('Home', '<p>Tiles and slabs.</p>', ['/a', '/b', '/missing'])),
      '/a': html(page('Porcelain tile', '<p>60x60</p>', [], jsonLd({ '@type': 'Product', name: 'Porcelain tile', sku: 'P-1' }))),
      '/b': html(page('Oak plank', '<p>Oiled oak.</p>')),
    });
    try {
      const worker = await runtime([createScrapeJob({ urlGuard: { allow: ['127.0.0.1'] }, delayMs: 0 }) as StagedJobDefinition]);
      const jobs = client();
      const { status } = stores(ctx);
      const seen = new Set<string>();
      const { id } = await jobs.enqueue('scrape', { sessionId: 'sess-1', sourceUrl: `${site.origin}/`, backgroundJobId: 'bg-9' });
      await waitFor(async () => {
        const row = await status.get(id);
        if (row) seen.add(row.status);
        return row?.status === 'completed' || row?.status === 'failed';
      }, { timeoutMs: 30_000, intervalMs: 5 });
      const result = await jobs.waitForResult<'scrape'>(id);
      expect(result).toMatchObject({ sessionId: 'sess-1', completedPages: 3, failedPages: 1, products: 1 });
      expect(seen.has('scraping')).toBe(true);
      expect(await status.get(id)).toMatchObject({
        status: 'completed',
        refs: { sessionId: 'sess-1', backgroundJobId: 'bg-9' },
        counters: { total_pages: 4, completed_pages: 3, failed_pages: 1 },
      });
      // The linked background_jobs row was completed by the worker's last step (saveAndComplete).
      const completed = await status.get(id);
      expect(await status.linkedJob('bg-9')).toMatchObject({ status: 'completed', progress: 100, followsId: id, completedAt: completed?.completedAt });
      await worker.close();
    } finally {
      await site.close();
    }
  }, 60_000);

  it('a start URL the SSRF guard refuses fails the session with the reason', async () => {
    const worker = await runtime([createScrapeJob() as StagedJobDefinition]);
    const jobs = client();
    const { id } = await jobs.enqueue('scrape', { sessionId: 'sess-2', sourceUrl: 'http://127.0.0.1:9/' });
    await expect(jobs.waitForResult(id, { timeoutMs: 30_000 })).rejects.toThrow(/refused/);
    expect(await stores(ctx).status.get(id)).toMatchObject({ status: 'failed', errorStage: 'site_crawled', attempt: 1 });
    await worker.close();
  }, 60_000);
});
