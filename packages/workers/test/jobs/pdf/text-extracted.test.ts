import { createRequire } from 'node:module';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  CpuPool,
  createPdfJob,
  decodePageTexts,
  InMemoryMaterialStore,
  loadPdfjs,
  LocalFolderArtifactStore,
  pageTextFromRuns,
  type TextRun,
} from '@kai-jobs/workers';
import { runStagesForTest } from '@kai-jobs/workers/testing';
import { makeCataloguePdf, makeLongPdf } from './fixtures/pdfs.js';

describe('text_extracted', () => {
  it('gives the same text as pdf.js with the standard font files loaded (it skips them for speed)', { timeout: 60_000 }, async () => {
    // One pool for both documents: a thread loads tsx and pdf.js once.
    const cpuPool = new CpuPool({ size: 1 });
    onTestFinished(() => cpuPool.close());
    const folder = mkdtempSync(join(tmpdir(), 'kai-pdf-text-'));
    for (const [name, bytes] of [
      ['catalogue.pdf', await makeCataloguePdf()],
      ['long.pdf', await makeLongPdf(4)],
    ] as const) {
      const path = join(folder, name);
      writeFileSync(path, bytes);
      const artifacts = new LocalFolderArtifactStore(join(folder, `${name}-artifacts`));
      const { outputs } = await runStagesForTest(createPdfJob({ fileRoot: tmpdir(), materialStore: new InMemoryMaterialStore() }), {
        type: 'pdf',
        payload: { documentId: 'doc-text', source: { kind: 'file', path }, options: { skipTiles: true, skipMaterials: true } },
        artifacts,
        cpuPool,
      });
      const { text } = outputs.byName('text_extracted') as { text: { key: string } };
      const fromStage = decodePageTexts((await artifacts.get(text.key)).toString());

      const pdfjs = await loadPdfjs();
      const standardFontDataUrl = join(dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json')), 'standard_fonts') + '/';
      const document = await pdfjs.getDocument({ data: new Uint8Array(bytes), standardFontDataUrl, verbosity: 0 }).promise;
      const withFonts: string[] = [];
      for (let page = 1; page <= document.numPages; page++) {
        withFonts.push(pageTextFromRuns((await (await document.getPage(page)).getTextContent()).items as TextRun[]));
      }
      await document.destroy();
      expect(fromStage.map((page) => page.text)).toEqual(withFonts);
      expect(withFonts.join('').length).toBeGreaterThan(100);
    }
  });
});
