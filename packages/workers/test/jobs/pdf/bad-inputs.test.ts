import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PayloadInput } from '@kai-jobs/queue';
import { createPdfJob, InMemoryMaterialStore, LocalFolderArtifactStore, stageOutputsOf, type StageDefinition } from '@kai-jobs/workers';
import { createTestStageContext } from '@kai-jobs/workers/testing';
import { makeCataloguePdf, makeCorruptPdf, makeEncryptedPdf, makeNotAPdf, makeZeroPagePdf } from './fixtures/pdfs.js';

const folder = mkdtempSync(join(tmpdir(), 'kai-pdf-bad-'));
function writeInput(name: string, bytes: Buffer): string {
  const path = join(folder, name);
  writeFileSync(path, bytes);
  return path;
}

/** Runs `pdf_loaded` alone and returns what it threw (or fails the test if it did not throw). */
async function loadFailure(source: PayloadInput<'pdf'>['source'], options: Parameters<typeof createPdfJob>[0] = { fileRoot: folder, materialStore: new InMemoryMaterialStore() }) {
  const artifacts = new LocalFolderArtifactStore(mkdtempSync(join(tmpdir(), 'kai-pdf-bad-artifacts-')));
  const stage = createPdfJob(options).stages[0] as StageDefinition<'pdf'>;
  const ctx = createTestStageContext({ type: 'pdf', stage: 'pdf_loaded', payload: { documentId: 'doc-bad', source }, artifacts });
  try {
    await stage.run(ctx, stageOutputsOf(new Map()));
  } catch (error) {
    // Nothing half-written: a refused PDF leaves no artifact and no counters behind.
    expect(await artifacts.list('test-job')).toEqual([]);
    expect(ctx.recording.counters).toEqual([]);
    return error as Error & { code?: string; retryable?: boolean; reason?: string };
  } finally {
    await ctx.close();
  }
  throw new Error('pdf_loaded accepted a bad input');
}

describe('pdf_loaded refuses bad inputs permanently, saying why', () => {
  it('a file that is not a PDF', async () => {
    const error = await loadFailure({ kind: 'file', path: writeInput('image.png', makeNotAPdf()) });
    expect(error).toMatchObject({ name: 'PermanentJobError', code: 'PERMANENT_FAILURE', retryable: false });
    expect(error.message).toMatch(/not a PDF: no %PDF- header .*it is a PNG image/);
    // The kind of content, never its bytes: a failedReason is readable through the API.
    expect(error.message).not.toMatch(/89504e47|PNG\r|IHDR/);
  });

  it('an empty file', async () => {
    const error = await loadFailure({ kind: 'file', path: writeInput('empty.pdf', Buffer.alloc(0)) });
    expect(error).toMatchObject({ name: 'PermanentJobError' });
    expect(error.message).toMatch(/not a PDF.*it is empty/);
  });

  it('an encrypted PDF that needs a password', async () => {
    const error = await loadFailure({ kind: 'file', path: writeInput('encrypted.pdf', await makeEncryptedPdf()) });
    expect(error).toMatchObject({ name: 'PermanentJobError', reason: 'encrypted', retryable: false });
    expect(error.message).toMatch(/encrypted and needs a password/);
  });

  it('a corrupt PDF', async () => {
    const error = await loadFailure({ kind: 'file', path: writeInput('corrupt.pdf', makeCorruptPdf()) });
    expect(error).toMatchObject({ name: 'PermanentJobError', reason: 'corrupt' });
    expect(error.message).toMatch(/corrupt/);
    // pdf.js's own message (which can quote the file) stays on the cause, out of the reason.
    const cause = (error as Error & { cause?: Error }).cause;
    expect(cause?.message).toBeTruthy();
    expect(error.message).not.toContain(cause?.message);
    expect(error.message).toMatch(/\(pdf\.js [A-Za-z]+\)$/);
  });

  it('a truncated PDF', async () => {
    const whole = await makeCataloguePdf();
    const error = await loadFailure({ kind: 'file', path: writeInput('truncated.pdf', whole.subarray(0, 400)) });
    expect(error).toMatchObject({ name: 'PermanentJobError' });
    expect(error.message).toMatch(/corrupt/);
  });

  it('a PDF with zero pages', async () => {
    const error = await loadFailure({ kind: 'file', path: writeInput('zero.pdf', await makeZeroPagePdf()) });
    expect(error).toMatchObject({ name: 'PermanentJobError', reason: 'no-pages' });
    expect(error.message).toMatch(/no pages/);
  });

  it('a file that does not exist, or lies outside fileRoot', async () => {
    const missing = await loadFailure({ kind: 'file', path: join(folder, 'nope.pdf') });
    expect(missing).toMatchObject({ name: 'FileSourceError', reason: 'not_found', retryable: false });
    expect(missing.message).toMatch(/nope\.pdf does not exist/);
    const outside = await loadFailure(
      { kind: 'file', path: '../etc/passwd' },
      { materialStore: new InMemoryMaterialStore(), fileRoot: folder },
    );
    expect(outside).toMatchObject({ name: 'FileSourceError', reason: 'outside_root' });
    expect(outside.message).toMatch(/is outside FILE_ROOT/);
  });

  it('a file over download.maxBytes', async () => {
    const path = writeInput('big.pdf', await makeCataloguePdf());
    const error = await loadFailure({ kind: 'file', path }, { fileRoot: folder, materialStore: new InMemoryMaterialStore(), download: { maxBytes: 1000 } });
    expect(error).toMatchObject({ name: 'PermanentJobError' });
    expect(error.message).toMatch(/over the limit of 1000 bytes/);
  });

  it('a storage source without a blob store, or with a key that is not there', async () => {
    const noStore = await loadFailure({ kind: 'storage', key: 'uploads/a.pdf' });
    expect(noStore.message).toMatch(/no blob store configured/);
    const blobStore = new LocalFolderArtifactStore(mkdtempSync(join(tmpdir(), 'kai-blobs-')));
    const missing = await loadFailure({ kind: 'storage', key: 'uploads/a.pdf' }, { materialStore: new InMemoryMaterialStore(), blobStore });
    expect(missing).toMatchObject({ name: 'PermanentJobError' });
    expect(missing.message).toMatch(/storage source uploads\/a\.pdf does not exist/);
  });
});

describe('pdf_loaded reads storage sources through the blob store', () => {
  it('loads a PDF by key', async () => {
    const blobStore = new LocalFolderArtifactStore(mkdtempSync(join(tmpdir(), 'kai-blobs-')));
    await blobStore.put('uploads/catalogue.pdf', await makeCataloguePdf());
    const stage = createPdfJob({ fileRoot: tmpdir(), materialStore: new InMemoryMaterialStore(), blobStore }).stages[0] as StageDefinition<'pdf'>;
    const ctx = createTestStageContext({
      type: 'pdf',
      stage: 'pdf_loaded',
      payload: { documentId: 'doc-storage', source: { kind: 'storage', key: 'uploads/catalogue.pdf' } },
    });
    expect(await stage.run(ctx, stageOutputsOf(new Map()))).toMatchObject({ sourceKind: 'storage', pageCount: 3 });
    await ctx.close();
  });
});
