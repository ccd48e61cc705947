/**
 * Security probes: untrusted PDFs against a real worker process (the `kai-jobs-worker`
 * binary, default limits): a zip bomb, the same bomb encrypted (AES-128, empty user password), too many pages, a giant page, a page whose rendering
 * outgrows its thread's heap. Each fails at once (one attempt of three, no retry) with a reason
 * naming the limit, the worker process's memory stays bounded, and the same process then
 * completes an ordinary PDF job.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createJobClient, type JobClient } from '@kai-jobs/queue';
import { useRedisTestContext, waitFor } from '@kai-jobs/queue/testing';
import { makeCataloguePdf } from '../../packages/workers/test/jobs/pdf/fixtures/pdfs.js';
import { deflateRepeated, makeGiantPagePdf, makeHeapHeavyPdf, makeManyPagesPdf, makeZipBombPdf } from '../../packages/workers/test/jobs/pdf/fixtures/hostile-pdfs.js';
import { makeStandardEncryptedPdf } from '../../packages/workers/test/jobs/pdf/fixtures/encrypted-pdfs.js';
import { tempDir } from '../../packages/workers/test/jobs/xml-import/fixtures/feeds.js';
import { startWorkerProcess, stopWorkerProcess } from '../../packages/workers/test/fixtures/worker-process.js';

const ctx = useRedisTestContext(import.meta.url);
const WORKER_BIN = fileURLToPath(new URL('../../packages/workers/src/bin/worker.ts', import.meta.url));
const MIB = 1024 * 1024;

/** Peak resident memory of process `pid` so far (bytes), from /proc. */
function peakRss(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error(`no VmHWM for ${pid}`);
  return Number(match[1]) * 1024;
}

/** `count` zeros deflated twice, never held decoded. */
async function doubleDeflatedZeros(count: number): Promise<Buffer> {
  const once = await deflateRepeated(new Uint8Array([0]), count);
  return deflateRepeated(once, once.length);
}

const inline = (bytes: Buffer) => ({ kind: 'inline' as const, base64: bytes.toString('base64') });

describe('security: resource limits on untrusted PDFs (real worker process)', () => {
  it('a zip bomb (clear and encrypted), too many pages, a giant page and a heap-hungry render each fail at once naming the limit; the worker lives on', async () => {
    const worker = await startWorkerProcess({
      prefix: ctx.prefix,
      workerId: `pdf-limits-${process.pid}`,
      script: WORKER_BIN,
      readyMessage: 'worker ready',
      env: {
        WORKER_TYPES: 'pdf',
        WORKER_CONCURRENCY: '1',
        ARTIFACTS_DIR: join(tempDir('kai-security-pdf-'), 'artifacts'),
        // A small thread heap, so a page of 1.5 million path operators outgrows it in seconds
        // (pdf.js in a thread holds ~120 MiB); time enough that the heap, not the clock, stops it.
        CPU_THREAD_HEAP_MB: '192',
        PDF_PAGE_TIMEOUT_MS: '600000',
      },
    });
    const jobs: JobClient = ctx.manage('client', createJobClient({ redis: ctx.redisOptions, waitPollIntervalMs: 50 }));
    const pid = worker.child.pid as number;
    try {
      const probes = [
        { name: 'zip-bomb', bytes: await makeZipBombPdf(1024 * MIB, { doubleFlate: true }), stage: 'pdf_loaded', reason: /PDF limit maxDecodedBytes exceeded: the document's streams decode to more than 536870912 bytes/ },
        {
          // Ciphertext does not inflate: only a scan that decrypts (as pdf.js does) sees the 1 GiB.
          // Deflated twice (a few KB), as the clear bomb, to fit in an inline payload.
          name: 'encrypted-zip-bomb',
          bytes: makeStandardEncryptedPdf([{ data: await doubleDeflatedZeros(1024 * MIB), filters: ['FlateDecode', 'FlateDecode'] }], { cipher: 'aesv2' }),
          stage: 'pdf_loaded',
          reason: /PDF limit maxDecodedBytes exceeded: the document's streams decode to more than 536870912 bytes/,
        },
        { name: 'many-pages', bytes: await makeManyPagesPdf(2001, { blank: true }), stage: 'pdf_loaded', reason: /PDF limit maxPages exceeded: the document has 2001 pages, the limit is 2000/ },
        { name: 'giant-page', bytes: await makeGiantPagePdf(1_000_000, 1_000_000), stage: 'text_extracted', reason: /PDF limit maxPageAreaPt2 exceeded: page 1 is 1000000 × 1000000 pt/ },
        {
          name: 'heap',
          bytes: await makeHeapHeavyPdf(1_500_000),
          stage: 'tiles_generated',
          reason: /PDF limit cpuThreadHeapMb exceeded: rendering of page 1: renderPageTiles ran out of its worker thread's heap limit \(maxOldGenerationSizeMb 192 MiB\)/,
        },
      ];
      for (const probe of probes) {
        const { id } = await jobs.enqueue('pdf', { documentId: `probe-${probe.name}`, source: inline(probe.bytes), options: { skipMaterials: true } });
        const failure = await jobs.waitForResult(id, { timeoutMs: 180_000 }).then(
          () => null,
          (error: unknown) => error as Error & { stage?: string },
        );
        expect(failure, `${probe.name} completed`).not.toBeNull();
        expect(failure?.message).toMatch(probe.reason);
        expect(failure?.stage).toBe(probe.stage);
        // Not retried: BullMQ failed it after one attempt of the three a PDF job has for transient errors.
        await waitFor(async () => (await (await jobs.queue('pdf').getJob(id))?.getState()) === 'failed', { timeoutMs: 10_000, message: `${probe.name} never failed in BullMQ` });
        expect((await jobs.queue('pdf').getJob(id))?.attemptsMade, probe.name).toBe(1);
        expect((await jobs.getStatus(id))?.row).toMatchObject({ status: 'failed', attempt: 1 });
        if (probe.name === 'zip-bomb' || probe.name === 'encrypted-zip-bomb') {
          // 1 GiB of decoded content, and the process never held more than a fraction of it.
          expect(peakRss(pid)).toBeLessThan(700 * MIB);
        }
        expect(worker.child.exitCode, `the worker died on ${probe.name}`).toBeNull();
      }
      // The same process (no restart) then completes an ordinary catalogue.
      const { id } = await jobs.enqueue('pdf', { documentId: 'after-probes', source: inline(await makeCataloguePdf()) });
      const result = await jobs.waitForResult<'pdf'>(id, { timeoutMs: 180_000 });
      expect(result).toMatchObject({ documentId: 'after-probes', pages: 3 });
      expect(result.tiles).toBeGreaterThan(0);
      expect(worker.child.pid).toBe(pid);
      expect(worker.child.exitCode).toBeNull();
    } finally {
      await stopWorkerProcess(worker);
    }
  }, 600_000);
});
