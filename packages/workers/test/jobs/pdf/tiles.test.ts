import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createCanvas } from '@napi-rs/canvas';
import {
  CpuPool,
  createPdfJob,
  InMemoryMaterialStore,
  LocalFolderArtifactStore,
  loadPdfjs,
  renderPageTilesTask,
  TileManifestSchema,
} from '@kai-jobs/workers';
import { runStagesForTest } from '@kai-jobs/workers/testing';
import { countDarkPixels } from './fixtures/images.js';
import { makePdf, MARBLE_LINE } from './fixtures/pdfs.js';

const pool = new CpuPool({ size: 2 });
afterAll(() => pool.close());
const folder = mkdtempSync(join(tmpdir(), 'kai-pdf-tiles-'));

describe('tiles_generated', () => {
  it('renders text in the worker thread: the tiles of a page with text are not blank, those of a blank page are', { timeout: 30_000 }, async () => {
    const path = join(folder, 'text-and-blank.pdf');
    writeFileSync(path, await makePdf([[[MARBLE_LINE, 'Second line of text on the first page.']], []]));
    const artifacts = new LocalFolderArtifactStore(mkdtempSync(join(tmpdir(), 'kai-pdf-tiles-artifacts-')));
    const { outputs } = await runStagesForTest(createPdfJob({ fileRoot: tmpdir(), materialStore: new InMemoryMaterialStore() }), {
      type: 'pdf',
      payload: { documentId: 'doc-tiles', source: { kind: 'file', path }, options: { renderScale: 2, tileSizePx: 256, skipMaterials: true } },
      artifacts,
      cpuPool: pool,
    });
    const { manifest } = outputs.byName('tiles_generated') as { manifest: { key: string } };
    const tiles = TileManifestSchema.parse(JSON.parse((await artifacts.get(manifest.key)).toString())).tiles;
    // 595 × 842 pt at scale 2 = 1190 × 1684 px → 5 × 7 tiles of 256 px per page.
    expect(tiles.filter((tile) => tile.page === 1)).toHaveLength(35);
    const darkByPage = new Map<number, number>();
    for (const tile of tiles) {
      const { dark, width, height } = await countDarkPixels(await artifacts.get(tile.key));
      expect([width, height]).toEqual([tile.width, tile.height]);
      darkByPage.set(tile.page, (darkByPage.get(tile.page) ?? 0) + dark);
    }
    // Two lines of 11 pt Helvetica at scale 2 ink a few thousand pixels; a blank page none.
    expect(darkByPage.get(1)).toBeGreaterThan(1500);
    expect(darkByPage.get(2)).toBe(0);
    // The text sits top-left: the first tile carries ink.
    const first = tiles.find((tile) => tile.page === 1 && tile.x === 0 && tile.y === 0);
    expect(first).toBeDefined();
    expect((await countDarkPixels(await artifacts.get((first as { key: string }).key))).dark).toBeGreaterThan(100);
  });

  it('renders a page at a lower scale when it would exceed maxPagePixels', { timeout: 30_000 }, async () => {
    const bytes = await makePdf([[['small budget']]]);
    const path = join(folder, 'budget.pdf');
    writeFileSync(path, bytes);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const output = await pool.run(renderPageTilesTask, { pdfPath: path, sha256, pageNumber: 1, scale: 4, tileSizePx: 512, maxPagePixels: 100_000, maxImagePixels: 40_000_000, maxPageAreaPt2: 14_400 * 14_400 });
    expect(output).toMatchObject({ ok: true });
    const rendered = output as { width: number; height: number; scale: number };
    expect(rendered.width * rendered.height).toBeLessThanOrEqual(100_000 * 1.01);
    expect(rendered.scale).toBeLessThan(1);
  });

  it('reports a page number past the end as a page that cannot be read, not a crash', { timeout: 30_000 }, async () => {
    const bytes = await makePdf([[['one page']]]);
    const path = join(folder, 'one.pdf');
    writeFileSync(path, bytes);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const output = await pool.run(renderPageTilesTask, { pdfPath: path, sha256, pageNumber: 2, scale: 1, tileSizePx: 512, maxPagePixels: 1_000_000, maxImagePixels: 40_000_000, maxPageAreaPt2: 14_400 * 14_400 });
    expect(output).toMatchObject({ ok: false, pageNumber: 2 });
    expect((output as { reason: string }).reason).toMatch(/cannot be read/);
  });
});

describe('a long-lived render thread', () => {
  it('renders 100 pages of 3 documents on one thread that is never replaced, the same page to the same tiles every time', { timeout: 120_000 }, async () => {
    // Threads are kept for good by default now (maxTasksPerThread: Infinity); said here so the
    // test keeps meaning "one thread" if the default changes again.
    const single = new CpuPool({ size: 1, maxTasksPerThread: Number.POSITIVE_INFINITY });
    try {
      const documents = await Promise.all(
        [0, 1, 2].map(async (index) => {
          const bytes = await makePdf([[[`Document ${index}, page 1`, MARBLE_LINE]], [[`Document ${index}, page 2`]], []]);
          const path = join(folder, `long-lived-${index}.pdf`);
          writeFileSync(path, bytes);
          return { path, sha256: createHash('sha256').update(bytes).digest('hex') };
        }),
      );
      const tilesByPage = new Map<string, string>();
      for (let render = 0; render < 100; render++) {
        // Runs of 5 renders per document, so the thread both reuses its open document and switches.
        const document = documents[Math.floor(render / 5) % documents.length] as { path: string; sha256: string };
        const pageNumber = (render % 3) + 1;
        const output = await single.run(renderPageTilesTask, { pdfPath: document.path, sha256: document.sha256, pageNumber, scale: 0.5, tileSizePx: 128, maxPagePixels: 1_000_000, maxImagePixels: 40_000_000, maxPageAreaPt2: 14_400 * 14_400 });
        expect(output).toMatchObject({ ok: true, pageNumber });
        const { tiles } = output as { tiles: { png: Uint8Array }[] };
        // 595 × 842 pt at scale 0.5 → 298 × 421 px → 3 × 4 tiles of 128 px (edge tiles smaller).
        expect(tiles).toHaveLength(12);
        const digest = createHash('sha256');
        for (const tile of tiles) digest.update(tile.png);
        const key = `${document.sha256}:${pageNumber}`;
        const seen = tilesByPage.get(key);
        if (seen === undefined) tilesByPage.set(key, digest.digest('hex'));
        else expect(digest.digest('hex')).toBe(seen);
      }
      expect(single.threadsStarted).toBe(1);
      expect(tilesByPage.size).toBe(9);
    } finally {
      await single.close();
    }
  });
});

describe('why the transferToFixedLength polyfill exists (Node 20)', () => {
  it('without the method pdf.js renders a text page blank and reports nothing; with it the text is there', async () => {
    // pdf.js as the job loads it: the polyfill first, built-ins kept native.
    const pdfjs = await loadPdfjs();
    const standardFontDataUrl = join(dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json')), 'standard_fonts') + '/';
    const render = async (text: string): Promise<number> => {
      // A new document each time: pdf.js caches a document's fonts once loaded.
      const document = await pdfjs.getDocument({ data: new Uint8Array(await makePdf([[[text]]])), standardFontDataUrl, verbosity: 0 }).promise;
      try {
        const page = await document.getPage(1);
        const viewport = page.getViewport({ scale: 1 });
        const canvas = createCanvas(Math.ceil(viewport.width), Math.ceil(viewport.height));
        const context = canvas.getContext('2d');
        context.fillStyle = '#ffffff';
        context.fillRect(0, 0, canvas.width, canvas.height);
        await page.render({ canvas: canvas as never, canvasContext: context as never, viewport }).promise;
        return (await countDarkPixels(await canvas.encode('png'))).dark;
      } finally {
        await document.destroy();
      }
    };
    expect(await render('Polished granite, with the polyfill')).toBeGreaterThan(200);
    const prototype = ArrayBuffer.prototype as { transferToFixedLength?: unknown };
    const installed = Object.getOwnPropertyDescriptor(prototype, 'transferToFixedLength');
    expect(installed).toBeDefined(); // the polyfill's on Node 20, the native one from Node 22
    delete prototype.transferToFixedLength;
    try {
      expect(await render('Honed limestone, without the polyfill')).toBe(0);
    } finally {
      Object.defineProperty(prototype, 'transferToFixedLength', installed as PropertyDescriptor);
    }
    expect(await render('Matt porcelain, with the polyfill again')).toBeGreaterThan(200);
  });
});
