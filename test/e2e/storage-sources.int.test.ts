/**
 * `storage` sources in a real worker process (`packages/workers/src/bin/worker.ts`), configured
 * from its environment (`STORAGE_S3_*`) like a deployment, reading from a real S3-compatible
 * server (s3rver) on loopback: a PDF and an XML feed from the bucket, a missing object, and
 * wrong credentials. With `ARTIFACT_STORE=s3` the job's artifacts land in the same bucket.
 */
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bullPrefix, jobCatalog, type JobType } from '@kai-jobs/queue';
import { useRedisTestContext, waitFor } from '@kai-jobs/queue/testing';
import { prefixFolderName, S3BlobStore } from '@kai-jobs/workers';
import { makeCataloguePdf } from '../../packages/workers/test/jobs/pdf/fixtures/pdfs.js';
import { feedText, PRODUCT_MAPPING, tempDir } from '../../packages/workers/test/jobs/xml-import/fixtures/feeds.js';
import { startLocalS3, type LocalS3Server } from '../../packages/workers/test/fixtures/s3-server.js';
import { startWorkerProcess, stopWorkerProcess, type WorkerProcess } from '../../packages/workers/test/fixtures/worker-process.js';
import { client, stores } from './helpers.js';

const ctx = useRedisTestContext(import.meta.url);
const WORKER_BIN = fileURLToPath(new URL('../../packages/workers/src/bin/worker.ts', import.meta.url));

let s3: LocalS3Server;
let bucket: S3BlobStore;
let worker: WorkerProcess | undefined;

beforeAll(async () => {
  s3 = await startLocalS3('kai-sources');
  bucket = new S3BlobStore(s3.storeOptions);
  await bucket.put('catalogues/spring.pdf', await makeCataloguePdf(), { contentType: 'application/pdf' });
  await bucket.put('feeds/acme.xml', feedText(120, 40), { contentType: 'application/xml' });
});

afterAll(async () => {
  bucket?.close();
  await s3?.close();
});

afterEach(async () => {
  if (worker !== undefined) await stopWorkerProcess(worker);
  worker = undefined;
});

async function startWorker(env: Record<string, string>): Promise<void> {
  worker = await startWorkerProcess({
    prefix: ctx.prefix,
    workerId: `storage-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    script: WORKER_BIN,
    readyMessage: 'worker ready',
    env: { WORKER_TYPES: 'pdf,xml-import', ARTIFACTS_DIR: tempDir('kai-storage-artifacts-'), LOG_LEVEL: 'info', ...env },
  });
}

/** Waits for the job to fail; returns its reason and how many attempts BullMQ made. */
async function failureOf(type: JobType, id: string): Promise<{ reason: string; attempts: number }> {
  const jobs = client(ctx);
  await expect(jobs.waitForResult(id, { timeoutMs: 60_000 })).rejects.toThrow();
  await waitFor(async () => (await jobs.getStatus(id))?.bullmq.state === 'failed', { timeoutMs: 10_000 });
  const view = await jobs.getStatus(id);
  expect(view?.row.status).toBe('failed');
  return { reason: `${view?.bullmq.failedReason ?? ''} | ${view?.row.error ?? ''}`, attempts: view?.bullmq.attemptsMade ?? -1 };
}

describe('storage sources from an S3-compatible bucket, in a real worker', () => {
  it('processes a PDF and imports an XML feed read from the bucket; with ARTIFACT_STORE=s3 the artifacts go there too', async () => {
    await startWorker({ ...s3.env, ARTIFACT_STORE: 's3' });
    const jobs = client(ctx);
    const pdf = await jobs.enqueue('pdf', { documentId: 'doc-storage', source: { kind: 'storage', key: 'catalogues/spring.pdf' } });
    const feed = await jobs.enqueue('xml-import', { importJobId: 'imp-storage', sourceName: 'acme', source: { kind: 'storage', key: 'feeds/acme.xml' }, fieldMapping: PRODUCT_MAPPING });
    const pdfResult = await jobs.waitForResult<'pdf'>(pdf.id, { timeoutMs: 90_000 });
    expect(pdfResult).toMatchObject({ documentId: 'doc-storage', pages: 3 });
    expect(pdfResult.chunks).toBeGreaterThan(0);
    const feedResult = await jobs.waitForResult<'xml-import'>(feed.id, { timeoutMs: 60_000 });
    expect(feedResult).toMatchObject({ totalProducts: 120, processedProducts: 117, failedProducts: 3 });
    // The artifacts of both jobs are in the bucket, under artifacts/<prefix>/<jobId>/.
    const artifacts = new S3BlobStore({ ...s3.storeOptions, keyPrefix: `artifacts/${prefixFolderName(ctx.prefix)}` });
    try {
      expect((await artifacts.list(pdf.id)).some((key) => key.startsWith(`${pdf.id}/pdf_loaded/`))).toBe(true);
      expect((await artifacts.list(feed.id)).some((key) => key.startsWith(`${feed.id}/feed_fetched/`))).toBe(true);
    } finally {
      artifacts.close();
    }
  }, 120_000);

  it('a missing object fails the job at once, naming bucket and key', async () => {
    await startWorker(s3.env);
    const jobs = client(ctx);
    const pdf = await jobs.enqueue('pdf', { documentId: 'doc-missing', source: { kind: 'storage', key: 'catalogues/absent.pdf' } });
    const feed = await jobs.enqueue('xml-import', { importJobId: 'imp-missing', sourceName: 'acme', source: { kind: 'storage', key: 'feeds/absent.xml' } });
    for (const [type, id, key] of [['pdf', pdf.id, 'catalogues/absent.pdf'], ['xml-import', feed.id, 'feeds/absent.xml']] as const) {
      const { reason, attempts } = await failureOf(type, id);
      expect(reason, type).toContain(`no object "${key}" in bucket "kai-sources"`);
      expect(attempts, type).toBe(1);
    }
  }, 120_000);

  it('wrong credentials fail the job at once, naming the variables to check and never the secret', async () => {
    await startWorker({ ...s3.env, STORAGE_S3_ACCESS_KEY_ID: 'NOT-A-KEY' });
    const jobs = client(ctx);
    const pdf = await jobs.enqueue('pdf', { documentId: 'doc-denied', source: { kind: 'storage', key: 'catalogues/spring.pdf' } });
    const feed = await jobs.enqueue('xml-import', { importJobId: 'imp-denied', sourceName: 'acme', source: { kind: 'storage', key: 'feeds/acme.xml' } });
    for (const [type, id] of [['pdf', pdf.id], ['xml-import', feed.id]] as const) {
      const { reason, attempts } = await failureOf(type, id);
      expect(reason, type).toMatch(/refused access to "[^"]+" in bucket "kai-sources" \(InvalidAccessKeyId\): check STORAGE_S3_ACCESS_KEY_ID, STORAGE_S3_SECRET_ACCESS_KEY/);
      // s3rver's secret is "S3RVER"; the worker was given the right secret with a wrong key id.
      expect(reason).not.toContain(s3.storeOptions.secretAccessKey);
      expect(attempts, type).toBe(1);
    }
    // The row's history records the failure like any other (no retry was scheduled).
    expect((await stores(ctx).status.history(pdf.id)).some((entry) => entry.event === 'failed')).toBe(true);
  }, 120_000);

  it('without STORAGE_S3_* a storage source is refused with the variables to set', async () => {
    await startWorker({});
    const jobs = client(ctx);
    const pdf = await jobs.enqueue('pdf', { documentId: 'doc-nostore', source: { kind: 'storage', key: 'catalogues/spring.pdf' } });
    const { reason, attempts } = await failureOf('pdf', pdf.id);
    expect(reason).toMatch(/no blob store configured .*STORAGE_S3_\*/);
    expect(attempts).toBe(1);
    const queue = ctx.manage('queue', new Queue(jobCatalog.pdf.queueName, { connection: ctx.redis, prefix: bullPrefix(ctx.prefix, jobCatalog.pdf.queueName) }));
    expect(await queue.getJobCounts('failed')).toEqual({ failed: 1 });
  }, 120_000);
});
