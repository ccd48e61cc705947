import { afterAll, describe, expect, it } from 'vitest';
import { CpuPool, createPdfJob, InMemoryMaterialStore, PDF_LIMIT_EXCEEDED, type PdfJobOptions } from '@kai-jobs/workers';
import { runStagesForTest } from '@kai-jobs/workers/testing';
import { makeLongPdf } from './fixtures/pdfs.js';
import { deflateRepeated, makeGiantPagePdf, makeHeapHeavyPdf, makeImageHeavyPdf, makeManyPagesPdf, makeZipBombPdf } from './fixtures/hostile-pdfs.js';
import { makeStandardEncryptedPdf, STANDARD_CIPHERS, textPage } from './fixtures/encrypted-pdfs.js';

const MIB = 1024 * 1024;
// One pool for the file: a thread loads tsx and pdf.js once.
const cpuPool = new CpuPool({ size: 1 });
afterAll(() => cpuPool.close());

/** Runs the whole PDF job on `bytes` (an inline source) and returns what it threw, or its outputs. */
async function run(bytes: Buffer, limits: PdfJobOptions['limits'] = {}, payloadOptions: Record<string, unknown> = { skipMaterials: true }) {
  const job = createPdfJob({ materialStore: new InMemoryMaterialStore(), limits });
  return runStagesForTest(job, {
    type: 'pdf',
    payload: { documentId: 'doc-limits', source: { kind: 'inline', base64: bytes.toString('base64') }, options: payloadOptions },
    cpuPool,
  }).then(
    (ran) => ({ ok: true as const, ...ran }),
    (error: unknown) => ({ ok: false as const, error: error as Error & { code?: string; retryable?: boolean; limit?: string } }),
  );
}

function expectLimit(outcome: Awaited<ReturnType<typeof run>>, limit: string, message: RegExp): void {
  if (outcome.ok) throw new Error(`the job completed; expected it to fail on ${limit}`);
  expect(outcome.error).toMatchObject({ code: PDF_LIMIT_EXCEEDED, retryable: false, limit });
  expect(outcome.error.message).toMatch(new RegExp(`^PDF limit ${limit} exceeded: `));
  expect(outcome.error.message).toMatch(message);
}

describe('PDF limits', () => {
  it('refuses a zip bomb (1 GiB of decoded content in a 3 KB file) in pdf_loaded, before pdf.js opens it', { timeout: 60_000 }, async () => {
    const started = Date.now();
    const outcome = await run(await makeZipBombPdf(1024 * MIB, { doubleFlate: true }), { maxDecodedBytes: 64 * MIB });
    expectLimit(outcome, 'maxDecodedBytes', /streams decode to more than 67108864 bytes \(counting stopped at \d+ bytes in 1 streams\)/);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('refuses an encrypted zip bomb (1 GiB of zeros, empty user password) with every cipher, and reads an encrypted catalogue', { timeout: 120_000 }, async () => {
    // Deflated twice (a few KB) to fit in an inline payload; the scan tests take the 1 MiB single-Flate bomb.
    const once = await deflateRepeated(new Uint8Array([0]), 1024 * MIB);
    const bomb = await deflateRepeated(once, once.length);
    for (const cipher of STANDARD_CIPHERS) {
      const started = Date.now();
      const outcome = await run(makeStandardEncryptedPdf([{ data: bomb, filters: ['FlateDecode', 'FlateDecode'] }], { cipher }), { maxDecodedBytes: 64 * MIB });
      // Two streams: the document's XMP metadata, then the bomb.
      expectLimit(outcome, 'maxDecodedBytes', /streams decode to more than 67108864 bytes \(counting stopped at \d+ bytes in 2 streams\)/);
      expect(Date.now() - started, cipher).toBeLessThan(10_000);
    }
    // The same kind of document without a bomb is read as any other.
    const catalogue = await run(makeStandardEncryptedPdf([textPage('Carrara marble 60x60')], { cipher: 'aesv2' }), {}, { skipTiles: true, skipMaterials: true });
    if (!catalogue.ok) throw catalogue.error;
    expect(catalogue.outputs.byName('text_extracted')).toMatchObject({ pagesWithText: 1 });
  });

  it('refuses a document with more pages than maxPages', { timeout: 60_000 }, async () => {
    expectLimit(await run(await makeManyPagesPdf(6), { maxPages: 5 }), 'maxPages', /the document has 6 pages, the limit is 5/);
    // At the limit is fine.
    expect((await run(await makeLongPdf(5), { maxPages: 5 }, { skipTiles: true, skipMaterials: true })).ok).toBe(true);
  });

  it('refuses a page larger than maxPageAreaPt2', { timeout: 60_000 }, async () => {
    expectLimit(await run(await makeGiantPagePdf(1_000_000, 1_000_000)), 'maxPageAreaPt2', /page 1 is 1000000 × 1000000 pt \(1000000000000 pt²\), the limit is 207360000 pt²/);
  });

  it('stops a page that takes longer than pageTimeoutMs, in its thread', { timeout: 60_000 }, async () => {
    expectLimit(await run(await makeHeapHeavyPdf(400_000), { pageTimeoutMs: 100 }), 'pageTimeoutMs', /text extraction of page 1: extractPageText ran longer than its time limit of 100 ms/);
  });

  it('renders an image-heavy page within the limits; over the decoded budget the same page is refused', { timeout: 120_000 }, async () => {
    // 12 images of 1500 × 1500 RGB: 81 MB decoded, under the default budget.
    const heavy = await run(await makeImageHeavyPdf(12, 1500));
    expect(heavy.ok).toBe(true);
    if (heavy.ok) expect(heavy.outputs.byName('tiles_generated')).toMatchObject({ pagesRendered: 1, failedPageCount: 0 });
    // Over the decoded budget, the same document is refused.
    expectLimit(await run(await makeImageHeavyPdf(12, 1500), { maxDecodedBytes: 32 * MIB }), 'maxDecodedBytes', /more than 33554432 bytes/);
    // Images over maxImagePixels are left out by pdf.js (not decoded), not a failure.
    expect((await run(await makeImageHeavyPdf(2, 1500), { maxImagePixels: 1_000_000 })).ok).toBe(true);
  });
});
