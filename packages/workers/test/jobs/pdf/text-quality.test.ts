import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CpuPool, createPdfJob, decodePageTexts, InMemoryMaterialStore, loadPdfjs, LocalFolderArtifactStore, type PageText } from '@kai-jobs/workers';
import { runStagesForTest } from '@kai-jobs/workers/testing';
import { orderRecall, TEXT_QUALITY_FIXTURES, wordRecall } from './fixtures/text-quality/index.js';

/** One thread for every document: it loads tsx and pdf.js once. */
const cpuPool = new CpuPool({ size: 1 });
afterAll(() => cpuPool.close());
const folder = mkdtempSync(join(tmpdir(), 'kai-pdf-text-quality-'));

/** Runs pdf_loaded and text_extracted on `pdfPath` in the CPU pool; the pages and both outputs. */
async function extract(name: string, pdfPath: string): Promise<{ pages: PageText[]; loaded: Record<string, unknown>; extracted: Record<string, unknown> }> {
  const artifacts = new LocalFolderArtifactStore(join(folder, `${name}-artifacts`));
  const { outputs } = await runStagesForTest(createPdfJob({ fileRoot: '/', materialStore: new InMemoryMaterialStore() }), {
    type: 'pdf',
    payload: { documentId: `doc-${name}`, source: { kind: 'file', path: pdfPath }, options: { skipTiles: true, skipMaterials: true } },
    artifacts,
    cpuPool,
  });
  const extracted = outputs.byName('text_extracted') as { text: { key: string } } & Record<string, unknown>;
  const pages = decodePageTexts((await artifacts.get(extracted.text.key)).toString());
  return { pages, loaded: outputs.byName('pdf_loaded') as Record<string, unknown>, extracted };
}

const fixture = (name: string) => TEXT_QUALITY_FIXTURES.find((entry) => entry.name === name) as (typeof TEXT_QUALITY_FIXTURES)[number];

describe('PDF text quality: the text test set through text_extracted', { timeout: 120_000 }, () => {
  for (const { name, pdfPath, expectedPages } of TEXT_QUALITY_FIXTURES) {
    it(`${name}: word recall and order recall ≥ 0.98, no control or unmapped characters`, async () => {
      const { pages } = await extract(name, pdfPath);
      expect(pages.map((page) => page.page)).toEqual(expectedPages.map((_text, index) => index + 1));
      pages.forEach((page, index) => {
        const expected = expectedPages[index] as string;
        expect(wordRecall(expected, page.text), `${name} page ${page.page}:\n${page.text}`).toBeGreaterThanOrEqual(0.98);
        expect(orderRecall(expected, page.text), `${name} page ${page.page}:\n${page.text}`).toBeGreaterThanOrEqual(0.98);
        // No control character but tab and newline, no private-use code point, no U+FFFD.
        expect(page.text).not.toMatch(/[^\P{Cc}\t\n]|\p{Co}|\uFFFD/u);
        expect(page.quality?.characters).toBe(page.text.length);
      });
    });
  }

  it('rtl: Hebrew and Arabic lines in logical order, recorded as right-to-left', async () => {
    const { pages, extracted } = await extract('rtl-lines', fixture('rtl').pdfPath);
    const lines = (pages[0] as PageText).text.split('\n').filter((line) => line !== '');
    expect(lines).toEqual(fixture('rtl').expectedPages[0]?.split('\n'));
    // The last line's Arabic contextual forms (uni0633.init…) come from glyph names: 7 recovered.
    expect(pages[0]?.quality).toMatchObject({ rightToLeftLines: 6, droppedGlyphs: 0, recoveredGlyphs: 7, order: 'position' });
    expect(['hebrew', 'arabic']).toContain(pages[0]?.quality?.script);
    expect(extracted['quality']).toMatchObject({ rightToLeftLines: 6 });
  });

  it('two-columns: left column whole, then right, then the table rows with tab-separated cells', async () => {
    const { pages } = await extract('columns-order', fixture('two-columns').pdfPath);
    const text = (pages[0] as PageText).text;
    expect(text.indexOf('for decades.')).toBeLessThan(text.indexOf('Engineered oak'));
    expect(text).toContain('Format\tThickness\tFinish\n60x60 cm\t10 mm\tpolished\n30x60 cm\t9 mm\tmatte');
    expect(pages[0]?.quality).toMatchObject({ order: 'columns', columns: 2 });
  });

  it('footnotes: body first, then notes 1, 2, 3', async () => {
    const { pages } = await extract('notes-order', fixture('footnotes').pdfPath);
    const text = (pages[0] as PageText).text;
    const at = ['1 DIN', '2 Commercial', '3 Frost'].map((note) => text.indexOf(note));
    expect(at.every((index) => index > text.indexOf('R11 or higher'))).toBe(true);
    expect(at).toEqual([...at].sort((a, b) => a - b));
  });

  it('hyphenation: page words joined without the hyphen, a compound kept with it', async () => {
    const { pages, extracted } = await extract('hyphens', fixture('hyphenation').pdfPath);
    const text = (pages[0] as PageText).text;
    expect(text).toContain('Before the installation\n');
    expect(text).toContain('The waterproofing\nmembrane');
    expect(text).toContain('the adhesive.\n');
    expect(text).toContain('Use a well-known\ncement-based');
    expect(text).not.toMatch(/-\n/);
    expect(pages[0]?.quality?.hyphenationsJoined).toBe(4);
    expect(extracted['quality']).toMatchObject({ hyphenationsJoined: 4 });
  });

  it('unmapped-glyphs: names recovered by the glyph list rules, ornaments dropped and counted', async () => {
    const { pages, extracted } = await extract('glyphs', fixture('unmapped-glyphs').pdfPath);
    expect((pages[0] as PageText).text.split('\n').filter((line) => line !== '')).toEqual(['Terrazzo floor tiles matte', 'office étage']);
    // T.sc e.sc r.sc r.sc a.sc z.sc z.sc o.sc, o_f_f, uni00E9.alt: 10 recovered; orn.017 and glyph1234 dropped.
    expect(pages[0]?.quality).toMatchObject({ droppedGlyphs: 2, recoveredGlyphs: 10, script: 'latin' });
    expect(extracted['quality']).toMatchObject({ droppedGlyphs: 2, recoveredGlyphs: 10, pagesWithDroppedGlyphs: [1] });
  });

  it('damaged-xref: pdf.js alone fails; the job rebuilds the table and reads both pages', async () => {
    const bytes = readFileSync(fixture('damaged-xref').pdfPath);
    const pdfjs = await loadPdfjs();
    await expect(pdfjs.getDocument({ data: new Uint8Array(bytes), verbosity: 0 }).promise).rejects.toMatchObject({ name: 'InvalidPDFException' });
    const { pages, loaded } = await extract('xref', fixture('damaged-xref').pdfPath);
    expect(loaded).toMatchObject({ pageCount: 2, xrefRebuilt: { objects: 8 } });
    expect(pages.map((page) => page.text)).toEqual(fixture('damaged-xref').expectedPages);
  });

  it('a damaged xref without a document catalog fails permanently, saying what is missing', async () => {
    // The damaged file with its catalog object's type renamed: nothing says where the pages are.
    const bytes = Buffer.from(readFileSync(fixture('damaged-xref').pdfPath).toString('latin1').replace('/Type /Catalog', '/Type /Katalog'), 'latin1');
    const path = join(folder, 'no-catalog.pdf');
    writeFileSync(path, bytes);
    const failure = await extract('no-catalog', path).then(
      () => null,
      (error: unknown) => error as Error & { reason?: string; retryable?: boolean },
    );
    expect(failure).toMatchObject({ name: 'PermanentJobError', reason: 'corrupt', retryable: false });
    expect(failure?.message).toMatch(/cross-reference table cannot be rebuilt \(no document catalog \(\/Type \/Catalog with \/Pages\) among the 8 objects found/);
  });
});
