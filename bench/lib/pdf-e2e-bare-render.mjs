/**
 * A render thread of the bare side of `bench/pdf-e2e.bench.ts`: pdf.js and @napi-rs/canvas
 * with nothing of kai-jobs. Opens the PDF once (with the standard fonts, as rendering needs),
 * then for each `{ page }` message renders the page at `scale`, cuts it into `tileSizePx` tiles
 * and encodes each as PNG; answers `{ page, tiles: [{ name, png }] }` (the main thread writes them).
 * Plain JavaScript so the thread loads no TypeScript hooks (the kai threads avoid them for
 * pdf.js too, see pdfjs.ts).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';

// @napi-rs/canvas is a dependency of @kai-jobs/workers, not of the bench root: resolve it there.
const workersRequire = createRequire(new URL('../../packages/workers/package.json', import.meta.url));
const { createCanvas } = workersRequire('@napi-rs/canvas');
const pdfjsRoot = dirname(workersRequire.resolve('pdfjs-dist/package.json'));
const pdfjs = await import(workersRequire.resolve('pdfjs-dist/legacy/build/pdf.mjs'));

const { pdfPath, scale, tileSizePx } = workerData;
const document = await pdfjs.getDocument({
  data: new Uint8Array(readFileSync(pdfPath)),
  standardFontDataUrl: join(pdfjsRoot, 'standard_fonts') + '/',
  cMapUrl: join(pdfjsRoot, 'cmaps') + '/',
  cMapPacked: true,
  wasmUrl: join(pdfjsRoot, 'wasm') + '/',
  isEvalSupported: false,
  disableFontFace: true,
  useSystemFonts: false,
  verbosity: 0,
}).promise;

/** Renders one page and cuts it into PNG tiles (returned to the main thread, which writes them). */
async function renderPage(pageNumber) {
  const page = await document.getPage(pageNumber);
  const viewport = page.getViewport({ scale });
  const width = Math.max(1, Math.ceil(viewport.width));
  const height = Math.max(1, Math.ceil(viewport.height));
  const canvas = createCanvas(width, height);
  const context = canvas.getContext('2d');
  context.fillStyle = '#ffffff';
  context.fillRect(0, 0, width, height);
  await page.render({ canvas, canvasContext: context, viewport }).promise;
  page.cleanup();
  const tiles = [];
  for (let y = 0; y < height; y += tileSizePx) {
    for (let x = 0; x < width; x += tileSizePx) {
      const tileWidth = Math.min(tileSizePx, width - x);
      const tileHeight = Math.min(tileSizePx, height - y);
      const tile = createCanvas(tileWidth, tileHeight);
      tile.getContext('2d').drawImage(canvas, x, y, tileWidth, tileHeight, 0, 0, tileWidth, tileHeight);
      tiles.push({ name: `tile-${y / tileSizePx}-${x / tileSizePx}.png`, png: await tile.encode('png') });
    }
  }
  return tiles;
}

// One page at a time per thread, in arrival order: the main thread may queue the next page
// while this one renders (as the kai pool queues its window), so the thread never waits for it.
let queue = Promise.resolve();
parentPort.on('message', ({ page: pageNumber }) => {
  queue = queue.then(async () => {
    const tiles = await renderPage(pageNumber);
    parentPort.postMessage({ page: pageNumber, tiles });
  });
});
parentPort.postMessage({ ready: true });
