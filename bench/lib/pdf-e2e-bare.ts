/**
 * The bare side of `bench/pdf-e2e.bench.ts`: the work of the PDF job's five stages done by a
 * plain script with the same libraries, in one process, with the same parallelism — pdf.js text
 * page by page, rendering and tiling in `threads` worker threads with the job's window of pages
 * in flight (pdf-e2e-bare-render.mjs: pdf.js + @napi-rs/canvas; tiles written as each page
 * comes back), chunks embedded
 * with the job's default provider (`HashingEmbeddingProvider`), materials found by its default
 * extractor (`RuleBasedMaterialExtractor`) over batches of 10 pages. No Redis, no checkpoints,
 * no artifact hashing, no progress: what is left is the libraries' own cost.
 *
 *   node --import tsx bench/lib/pdf-e2e-bare.ts <pdfPath> <outDir> <threads> <scale> <tileSizePx>
 *
 * Prints one JSON line: `{ seconds, pages, tiles, chunks, materials, maxRssBytes, phases }` (peak RSS of
 * this process, its threads included).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { HashingEmbeddingProvider, RuleBasedMaterialExtractor, type Material } from '@kai-jobs/workers';

const [pdfPath, outDir, threadsArg, scaleArg, tileArg] = process.argv.slice(2) as [string, string, string, string, string];
const THREADS = Number(threadsArg);
const SCALE = Number(scaleArg);
const TILE_SIZE_PX = Number(tileArg);
const CHUNK_CHARS = 1200;
const OVERLAP_CHARS = 200;

const started = performance.now();
/** Seconds and peak RSS (MiB) of each phase, as the kai side reports its stages. */
const phases: { name: string; seconds: number; peakRssMiB: number }[] = [];
let phaseStart = started;
const phaseDone = (name: string): void => {
  const now = performance.now();
  phases.push({ name, seconds: (now - phaseStart) / 1000, peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) });
  phaseStart = now;
};
mkdirSync(outDir, { recursive: true });
const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
const bytes = readFileSync(pdfPath);

// 1. Text: pdf.js's text content, page by page, lines joined.
const document = await pdfjs.getDocument({ data: new Uint8Array(bytes), isEvalSupported: false, disableFontFace: true, useSystemFonts: false, verbosity: 0 }).promise;
const pageCount = document.numPages;
const pages: { page: number; text: string }[] = [];
for (let pageNumber = 1; pageNumber <= pageCount; pageNumber++) {
  const page = await document.getPage(pageNumber);
  const content = await page.getTextContent();
  let text = '';
  for (const item of content.items) if ('str' in item) text += item.str + (item.hasEOL ? '\n' : ' ');
  pages.push({ page: pageNumber, text });
  page.cleanup();
}
await document.destroy();
writeFileSync(join(outDir, 'pages.jsonl'), pages.map((page) => JSON.stringify(page)).join('\n'));
phaseDone('text');

// 2. Tiles: `THREADS` render threads, `WINDOW` pages in flight (the job's default `pagesInFlight`:
// the cores, at least 2), each thread's share queued in it; tiles written here as each page
// comes back, as the job's main thread stores them.
const threadUrl = new URL('./pdf-e2e-bare-render.mjs', import.meta.url);
const WINDOW = Math.max(2, availableParallelism());
let tiles = 0;
await new Promise<void>((resolve, reject) => {
  let next = 1;
  let done = 0;
  let ready = 0;
  const workers = Array.from({ length: Math.min(THREADS, pageCount) }, () => new Worker(threadUrl, { workerData: { pdfPath, scale: SCALE, tileSizePx: TILE_SIZE_PX } }));
  const outstanding = new Map<Worker, number>(workers.map((worker) => [worker, 0]));
  const feed = (): void => {
    while (next <= pageCount && next - 1 - done < WINDOW) {
      // The thread with the fewest pages queued takes the next one.
      const worker = [...outstanding.entries()].sort((a, b) => a[1] - b[1])[0]?.[0] as Worker;
      outstanding.set(worker, (outstanding.get(worker) ?? 0) + 1);
      worker.postMessage({ page: next });
      next += 1;
    }
  };
  for (const worker of workers) {
    worker.on('error', reject);
    worker.on('message', (message: { ready?: true; page?: number; tiles?: { name: string; png: Uint8Array }[] }) => {
      if (message.ready === true) {
        ready += 1;
        if (ready === workers.length) feed();
        return;
      }
      outstanding.set(worker, (outstanding.get(worker) ?? 1) - 1);
      const folder = join(outDir, 'tiles', `page-${message.page}`);
      mkdirSync(folder, { recursive: true });
      void Promise.all((message.tiles ?? []).map((tile) => writeFile(join(folder, tile.name), tile.png)))
        .then(() => {
          tiles += message.tiles?.length ?? 0;
          done += 1;
          if (done === pageCount) {
            for (const each of workers) void each.terminate();
            resolve();
          } else feed();
        })
        .catch(reject);
    });
  }
});
phaseDone('tiles');

// 3. Embeddings: paragraphs packed into chunks of at most 1,200 characters (200 of overlap), batches of 64.
const chunks: string[] = [];
for (const { text } of pages) {
  let current = '';
  for (const paragraph of text.split(/\n\s*\n|\n/)) {
    if (current.length + paragraph.length + 1 > CHUNK_CHARS && current !== '') {
      chunks.push(current);
      current = current.slice(-OVERLAP_CHARS);
    }
    current += (current === '' ? '' : '\n') + paragraph;
  }
  if (current.trim() !== '') chunks.push(current);
}
const provider = new HashingEmbeddingProvider();
const vectors = new Float32Array(chunks.length * provider.dimensions);
for (let start = 0; start < chunks.length; start += 64) {
  const embedded = await provider.embed(chunks.slice(start, start + 64), new AbortController().signal);
  embedded.forEach((vector, offset) => vectors.set(vector, (start + offset) * provider.dimensions));
}
writeFileSync(join(outDir, 'vectors.f32'), Buffer.from(vectors.buffer));
phaseDone('embeddings');

// 4. Materials: the default extractor over batches of 10 pages.
const extractor = new RuleBasedMaterialExtractor();
const materials: Material[] = [];
for (let start = 0; start < pages.length; start += 10) materials.push(...(await extractor.extract(pages.slice(start, start + 10), new AbortController().signal)));
writeFileSync(join(outDir, 'materials.json'), JSON.stringify(materials));
phaseDone('materials');

const seconds = (performance.now() - started) / 1000;
process.stdout.write(`${JSON.stringify({ seconds, pages: pageCount, tiles, chunks: chunks.length, materials: materials.length, maxRssBytes: process.resourceUsage().maxRSS * 1024, phases })}\n`);
