/**
 * Tile-rendering soak: `--renders` pages (default 1,000) rendered into PNG tiles by the PDF
 * job's CPU task (`renderPageTilesTask`: pdf.js onto @napi-rs/canvas) on ONE CPU-pool thread
 * that is never recycled (`maxTasksPerThread: Infinity`), across 5 documents (text in three
 * fonts, images with soft masks, vector drawing): blocks of 50 renders of the same document
 * alternate with blocks that switch document every 5 renders, so the thread both keeps its
 * open document and opens and destroys others. Pass: no crash (on main, with recycling off,
 * this crashed the process with SIGSEGV after a few hundred renders), the thread never
 * replaced, every page rendered; and memory flat: process RSS sampled every 50 renders,
 * reported as first / last / max and as the least-squares slope in MiB per 100 renders, over
 * all samples and after the warm-up (the first 200 renders).
 *
 *   pnpm tsx bench/render-soak.bench.ts [--renders=1000] [--scale=1.5] [--tile=512] [--sample=50]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CpuPool, renderPageTilesTask } from '@kai-jobs/workers';
import { makeRenderDocuments, type RenderDocument } from './lib/render-documents.js';
import { slope } from './lib/soak-report.js';
import { arg, fmt } from './lib/stats.js';

const RENDERS = arg('renders', 1000);
const SCALE = arg('scale', 1.5);
const TILE = arg('tile', 512);
const SAMPLE = arg('sample', 50);
const WARM_UP = Math.min(200, Math.floor(RENDERS / 5));
/** Flat: RSS grows by at most this much per 100 renders after the warm-up (falling passes). */
const FLAT_MIB_PER_100 = 2;
const MiB = 2 ** 20;

const folder = mkdtempSync(join(tmpdir(), 'kai-render-soak-'));
const documents = await makeRenderDocuments(folder);
const same = documents[0] as RenderDocument;
const others = documents.slice(1);

/** Render `index`'s document and page: 50 of the same document, then 50 switching every 5. */
function pick(index: number): { document: RenderDocument; pageNumber: number } {
  const document = Math.floor(index / 50) % 2 === 0 ? same : (others[Math.floor(index / 5) % others.length] as RenderDocument);
  return { document, pageNumber: (index % document.pages) + 1 };
}

const pool = new CpuPool({ size: 1, maxTasksPerThread: Number.POSITIVE_INFINITY });
const samples: { renders: number; rssMiB: number }[] = [];
const load = [loadavg()[0] as number];
let tiles = 0;
let failed = 0;
let crash: string | null = null;
const cpuBefore = process.cpuUsage();
const started = performance.now();
try {
  for (let index = 0; index < RENDERS; index++) {
    const { document, pageNumber } = pick(index);
    const output = await pool.run(renderPageTilesTask, {
      pdfPath: document.path,
      sha256: document.sha256,
      pageNumber,
      scale: SCALE,
      tileSizePx: TILE,
      maxPagePixels: 40_000_000,
      maxImagePixels: 40_000_000,
      maxPageAreaPt2: 14_400 * 14_400,
    });
    if (output.ok) tiles += output.tiles.length;
    else failed++;
    if ((index + 1) % SAMPLE === 0) {
      samples.push({ renders: index + 1, rssMiB: process.memoryUsage().rss / MiB });
      load.push(loadavg()[0] as number);
    }
  }
} catch (error) {
  // A SIGSEGV would not get here (it kills the process: the exit code says so); a thread that
  // died of a JavaScript error would.
  crash = (error as Error).message;
}
const wallMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
const threadsStarted = pool.threadsStarted;
await pool.close();
rmSync(folder, { recursive: true, force: true });

const rss = samples.map((sample) => sample.rssMiB);
const perHundred = (points: typeof samples): number => slope(points.map((p) => ({ x: p.renders, y: p.rssMiB }))) * 100;
const slopeAll = perHundred(samples);
const slopeAfterWarmUp = perHundred(samples.filter((sample) => sample.renders > WARM_UP));
const first = rss[0] ?? 0;
const last = rss.at(-1) ?? 0;
const max = Math.max(...rss);
const renders = samples.at(-1)?.renders ?? 0;
const survived = crash === null && threadsStarted === 1 && renders === RENDERS;
// Falling is fine (the first samples hold start-up garbage); only growth fails.
const flat = slopeAfterWarmUp <= FLAT_MIB_PER_100;

const lines = [
  `${RENDERS} renders on one CPU-pool thread, recycling off (maxTasksPerThread: Infinity), scale ${SCALE}, tiles of ${TILE} px; documents: ${documents.map((d) => `${d.name}`).join(', ')}`,
  `load average (1 min) at start ${fmt(load[0] ?? 0, 2)}, max ${fmt(Math.max(...load), 2)}, end ${fmt(load.at(-1) ?? 0, 2)} on ${availableParallelism()} cores (the machine is shared)`,
  '',
  '| what | figure |',
  '|---|---:|',
  `| renders done | ${fmt(renders)} of ${fmt(RENDERS)} (${fmt(failed)} pages not rendered) |`,
  `| threads started | ${threadsStarted} |`,
  `| tiles | ${fmt(tiles)} |`,
  `| wall time | ${fmt(wallMs / 1000, 1)} s (${fmt(wallMs / RENDERS, 1)} ms per render) |`,
  `| CPU time, process (all threads) | ${fmt((cpu.user + cpu.system) / 1000 / RENDERS, 1)} ms per render |`,
  `| RSS first sample (after ${SAMPLE} renders) | ${fmt(first, 1)} MiB |`,
  `| RSS last | ${fmt(last, 1)} MiB |`,
  `| RSS max | ${fmt(max, 1)} MiB |`,
  `| RSS slope, all samples | ${fmt(slopeAll, 2)} MiB per 100 renders |`,
  `| RSS slope after the warm-up (${WARM_UP} renders) | ${fmt(slopeAfterWarmUp, 2)} MiB per 100 renders |`,
  '',
  `RSS every ${SAMPLE} renders (MiB): ${rss.map((value) => fmt(value)).join(' ')}`,
  '',
  `Verdict: ${survived ? 'no crash, one thread throughout' : `**FAILED**: ${crash ?? `${threadsStarted} threads started, ${renders} renders`}`}; memory ${flat ? `flat (slope ≤ ${FLAT_MIB_PER_100} MiB per 100 renders after the warm-up)` : '**growing**'}.`,
];
process.stdout.write(`${lines.join('\n')}\n`);
process.stdout.write(
  `${JSON.stringify({ renders: RENDERS, done: renders, failed, threadsStarted, tiles, wallMs, cpuMsPerRender: (cpu.user + cpu.system) / 1000 / RENDERS, rssMiB: { first, last, max, samples: rss }, slopeMiBPer100: { all: slopeAll, afterWarmUp: slopeAfterWarmUp }, loadAverage: load, survived, flat })}\n`,
);
if (!survived || !flat) process.exitCode = 1;
