import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPdfJob, InMemoryMaterialStore, loadPdfjs } from '@kai-jobs/workers';
import { runStagesForTest } from '@kai-jobs/workers/testing';
import { makeCataloguePdf } from './fixtures/pdfs.js';

// Captured before anything in this file loads pdf.js (the package loads it lazily).
const natives = {
  stringify: JSON.stringify,
  parse: JSON.parse,
  push: Array.prototype.push,
  toString: Function.prototype.toString,
};

describe('loading pdf.js', () => {
  it('leaves JSON, Array.prototype.push and Function.prototype.toString native for the rest of the process', { timeout: 30_000 }, async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'kai-pdf-globals-')), 'catalogue.pdf');
    writeFileSync(path, await makeCataloguePdf());
    // The stages run pdf.js in the CPU pool's threads only; whoever loads it in this thread
    // (a tool, a test) goes through loadPdfjs(), and parses a document with it here.
    const pdfjs = await loadPdfjs();
    const document = await pdfjs.getDocument({ data: new Uint8Array(await makeCataloguePdf()), isEvalSupported: false, verbosity: 0 }).promise;
    expect((await (await document.getPage(1)).getTextContent()).items.length).toBeGreaterThan(0);
    await document.destroy();
    const { outputs } = await runStagesForTest(createPdfJob({ fileRoot: tmpdir(), materialStore: new InMemoryMaterialStore() }), {
      type: 'pdf',
      payload: { documentId: 'doc-globals', source: { kind: 'file', path }, options: { skipTiles: true } },
    });
    expect(outputs.byName('text_extracted')).toMatchObject({ pages: 3, pagesWithText: 3 });
    expect(JSON.stringify).toBe(natives.stringify);
    expect(JSON.parse).toBe(natives.parse);
    expect(Array.prototype.push).toBe(natives.push);
    expect(Function.prototype.toString).toBe(natives.toString);
    // What pdf.js needs from core-js and Node 20 lacks is still there.
    expect(typeof (Promise as { withResolvers?: unknown }).withResolvers).toBe('function');
  });
});
