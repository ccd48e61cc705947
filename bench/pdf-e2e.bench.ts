/**
 * PDF end to end: pages per second through all five stages of the PDF job (`pdf_loaded`,
 * `text_extracted`, `tiles_generated`, `embeddings_created`, `materials_extracted`), run by the
 * real worker runtime in a child process of its own on a private redis-server, against a bare
 * script doing the same work with the same libraries and the same parallelism in one process
 * (bench/lib/pdf-e2e-bare.ts). Both sides get the same generated catalogue-like PDF
 * (bench/lib/pdf-e2e-document.ts: text, a vector table, swatches and a photo per page), the
 * same render scale, tile size and number of render threads. Ratio = kai pages/s ÷ bare pages/s
 * (target ≥ 0.9). Peak RSS of each process, threads included (target ≤ 600 MiB for the worker,
 * not growing with pages), is its kernel high-water mark (`VmHWM`), and RSS is sampled every
 * 250 ms to show how it moves during the run.
 *
 *   pnpm tsx bench/pdf-e2e.bench.ts [--pages=100,500] [--scale=1.5] [--tile=512] [--threads=N] [--runs=1] [--sides=bare,kai]
 *
 * `--sides=kai` (or `bare`) runs one side only, to study its memory; no ratio is given then.
 *
 * `--threads` defaults to the CPU pool's default (the available cores). Sides alternate
 * (bare, kai) per size and run; with several runs the medians are compared.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { createJobClient, createLogger } from '@kai-jobs/queue';
import { createPdfJob, createWorkerRuntime, RedisMaterialStore } from '@kai-jobs/workers';
import { makeE2ePdf } from './lib/pdf-e2e-document.js';
import { startBenchRedis } from './lib/redis-server.js';
import { median } from './lib/stats.js';
import { emitJson } from './lib/trivial-jobs.js';

const MiB = 1024 * 1024;
const RSS_TARGET_MIB = 600;
const RATIO_TARGET = 0.9;
const here = fileURLToPath(new URL('.', import.meta.url));

/** One stage of the job (or phase of the bare script): its seconds and the process's peak RSS at its end. */
interface StagePhase {
  name: string;
  seconds: number;
  peakRssMiB: number;
}

/** A line the children print for the parent, told apart from log lines. */
const MARK = '@@pdf-e2e ';

/**
 * Child mode: a worker runtime with the real PDF job (default embedding provider and material
 * extractor, materials in Redis), `threads` CPU-pool threads, one PDF job at a time. Prints
 * `ready` once started, then one line per finished job with this process's peak RSS.
 */
async function child(url: string, prefix: string, fileRoot: string, artifactsDir: string, threads: number): Promise<void> {
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const runtime = createWorkerRuntime({
    redis: { url, prefix },
    jobs: [createPdfJob({ fileRoot, materialStore: new RedisMaterialStore({ connection, prefix }) })],
    concurrency: { pdf: 1 },
    cpuThreads: threads,
    artifactsDir,
    logger: createLogger({ level: 'warn' }),
  });
  const say = (data: object): void => void process.stdout.write(`${MARK}${JSON.stringify(data)}\n`);
  // Per stage: seconds since the previous stage ended (or the job started) and the peak RSS so far.
  let stages: StagePhase[] = [];
  let mark = performance.now();
  const phase = (name: string): void => {
    const now = performance.now();
    stages.push({ name, seconds: (now - mark) / 1000, peakRssMiB: Math.round((process.resourceUsage().maxRSS * 1024) / MiB) });
    mark = now;
  };
  runtime.on('job:started', () => {
    stages = [];
    mark = performance.now();
  });
  runtime.on('stage:completed', ({ stage }) => phase(stage));
  runtime.on('job:completed', ({ jobId }) => say({ completed: jobId, maxRssBytes: process.resourceUsage().maxRSS * 1024, stages }));
  runtime.on('job:failed', ({ jobId, error, stage }) => say({ failed: jobId, stage, error }));
  process.once('SIGTERM', () => {
    void runtime.close().then(() => connection.quit()).finally(() => process.exit(0));
  });
  await runtime.start();
  say({ ready: true });
}

if (process.argv[2] === '--child') {
  const [, , , url, prefix, fileRoot, artifactsDir, threads] = process.argv as string[];
  await child(url as string, prefix as string, fileRoot as string, artifactsDir as string, Number(threads));
} else {
  await main();
}

/** RSS and its high-water mark of `pid` (bytes), from /proc; null once the process is gone. */
function procRss(pid: number): { rss: number; hwm: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
  } catch {
    return null;
  }
}

/** Samples a process's RSS every 250 ms until stopped: the samples and the highest HWM seen. */
function sampleRss(pid: number): { stop(): { samples: number[]; hwm: number } } {
  const samples: number[] = [];
  let hwm = 0;
  const take = (): void => {
    const now = procRss(pid);
    if (now === null) return;
    samples.push(now.rss);
    hwm = Math.max(hwm, now.hwm);
  };
  const timer = setInterval(take, 250);
  return {
    stop() {
      take();
      clearInterval(timer);
      return { samples, hwm };
    },
  };
}

/** Lines a child prints with {@link MARK}, as parsed objects, one at a time. */
function markedLines(process: ChildProcess): AsyncIterator<Record<string, unknown>> {
  const lines = createInterface({ input: process.stdout as NodeJS.ReadableStream });
  const iterator = lines[Symbol.asyncIterator]();
  return {
    async next() {
      for (;;) {
        const line = await iterator.next();
        if (line.done === true) return { done: true, value: undefined };
        if (line.value.startsWith(MARK)) return { done: false, value: JSON.parse(line.value.slice(MARK.length)) as Record<string, unknown> };
      }
    },
  };
}

interface SideResult {
  seconds: number;
  pagesPerSecond: number;
  /** Peak RSS (bytes): the process's own high-water mark. */
  peakRssBytes: number;
  /** RSS sampled at each eighth of the run (MiB). */
  rssTraceMiB: number[];
  /** Per stage (kai) or phase (bare): seconds and peak RSS at its end. */
  phases: StagePhase[];
}

function trace(samples: number[]): number[] {
  if (samples.length === 0) return [];
  return [0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1].map((at) => Math.round((samples[Math.min(samples.length - 1, Math.floor(at * (samples.length - 1)))] as number) / MiB));
}

async function runBare(pdfPath: string, outDir: string, threads: number, scale: number, tileSizePx: number, pages: number): Promise<SideResult> {
  const process_ = spawn(process.execPath, ['--import', 'tsx', join(here, 'lib/pdf-e2e-bare.ts'), pdfPath, outDir, String(threads), String(scale), String(tileSizePx)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const sampler = sampleRss(process_.pid as number);
  let out = '';
  process_.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => process_.once('exit', resolve));
  const { samples } = sampler.stop();
  if (code !== 0) throw new Error(`the bare script exited with ${code}`);
  const result = JSON.parse(out.trim().split('\n').at(-1) as string) as { seconds: number; pages: number; maxRssBytes: number; phases: StagePhase[] };
  if (result.pages !== pages) throw new Error(`the bare script did ${result.pages} pages, expected ${pages}`);
  return { seconds: result.seconds, pagesPerSecond: pages / result.seconds, peakRssBytes: result.maxRssBytes, rssTraceMiB: trace(samples), phases: result.phases };
}

async function runKai(
  redisUrl: string,
  pdfPath: string,
  folder: string,
  threads: number,
  scale: number,
  tileSizePx: number,
  pages: number,
  run: string,
): Promise<SideResult> {
  const prefix = `pdf-e2e-${run}`;
  const worker = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', redisUrl, prefix, folder, join(folder, `artifacts-${run}`), String(threads)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = markedLines(worker);
  const first = await lines.next();
  if (first.done === true || first.value['ready'] !== true) throw new Error('the kai worker did not start');
  const sampler = sampleRss(worker.pid as number);
  const client = createJobClient({ redis: { url: redisUrl, prefix } });
  const started = performance.now();
  await client.enqueue('pdf', { documentId: `bench-${run}`, source: { kind: 'file', path: pdfPath }, options: { renderScale: scale, tileSizePx } });
  const finished = await lines.next();
  const seconds = (performance.now() - started) / 1000;
  const { samples, hwm } = sampler.stop();
  await client.close();
  worker.kill('SIGTERM');
  await new Promise((resolve) => worker.once('exit', resolve));
  if (finished.done === true || typeof finished.value['completed'] !== 'string') throw new Error(`the PDF job did not complete: ${JSON.stringify(finished.value)}`);
  const peak = Math.max(hwm, Number(finished.value['maxRssBytes']));
  return { seconds, pagesPerSecond: pages / seconds, peakRssBytes: peak, rssTraceMiB: trace(samples), phases: finished.value['stages'] as StagePhase[] };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      pages: { type: 'string', default: '100,500' },
      scale: { type: 'string', default: '1.5' },
      tile: { type: 'string', default: '512' },
      threads: { type: 'string', default: String(availableParallelism()) },
      runs: { type: 'string', default: '1' },
      sides: { type: 'string', default: 'bare,kai' },
    },
  });
  const sizes = (values.pages as string).split(',').map(Number);
  const scale = Number(values.scale);
  const tileSizePx = Number(values.tile);
  const threads = Number(values.threads);
  const runs = Number(values.runs);
  const sides = (values.sides as string).split(',');
  const redis = await startBenchRedis();
  const folder = mkdtempSync(join(tmpdir(), 'kai-bench-pdf-e2e-'));
  const rows: Record<string, unknown>[] = [];
  try {
    console.log(`PDF end to end, render scale ${scale}, tiles ${tileSizePx} px, ${threads} render thread(s), ${runs} run(s) per size, Node ${process.version}`);
    for (const pages of sizes) {
      const pdfPath = join(folder, `catalogue-${pages}.pdf`);
      const bytes = await makeE2ePdf(pages);
      writeFileSync(pdfPath, bytes);
      const bare: SideResult[] = [];
      const kai: SideResult[] = [];
      for (let run = 0; run < runs; run++) {
        if (sides.includes('bare')) bare.push(await runBare(pdfPath, join(folder, `bare-${pages}-${run}`), threads, scale, tileSizePx, pages));
        if (sides.includes('kai')) kai.push(await runKai(redis.url, pdfPath, folder, threads, scale, tileSizePx, pages, `${pages}-${run}`));
        rmSync(join(folder, `bare-${pages}-${run}`), { recursive: true, force: true });
        rmSync(join(folder, `artifacts-${pages}-${run}`), { recursive: true, force: true });
      }
      const summary = (results: SideResult[]): { rate: number; peakMiB: number; line: string } | null => {
        if (results.length === 0) return null;
        const rate = median(results.map((side) => side.pagesPerSecond));
        const peakMiB = Math.max(...results.map((side) => side.peakRssBytes)) / MiB;
        const seconds = results.map((side) => side.seconds.toFixed(1)).join(', ');
        const lastRun = results.at(-1) as SideResult;
        const phases = lastRun.phases.map((phase) => `${phase.name} ${phase.seconds.toFixed(1)} s / ${phase.peakRssMiB}`).join(', ');
        return {
          rate,
          peakMiB,
          line: `${rate.toFixed(2).padStart(6)} pages/s (${seconds} s)  peak RSS ${peakMiB.toFixed(0)} MiB (RSS by eighths of the run: ${lastRun.rssTraceMiB.join(', ')})\n                 by stage (s / peak MiB so far): ${phases}`,
        };
      };
      const kaiSummary = summary(kai);
      const bareSummary = summary(bare);
      console.log(`  ${pages} pages (${(bytes.byteLength / MiB).toFixed(1)} MiB PDF):`);
      if (kaiSummary !== null) console.log(`    kai worker : ${kaiSummary.line}`);
      if (bareSummary !== null) console.log(`    bare script: ${bareSummary.line}`);
      const ratio = kaiSummary !== null && bareSummary !== null ? kaiSummary.rate / bareSummary.rate : null;
      if (ratio !== null) console.log(`    ratio ${ratio.toFixed(3)} (target >= ${RATIO_TARGET}: ${ratio >= RATIO_TARGET ? 'met' : 'NOT met'})`);
      if (kaiSummary !== null) console.log(`    kai peak RSS ${kaiSummary.peakMiB.toFixed(0)} MiB (target <= ${RSS_TARGET_MIB} MiB: ${kaiSummary.peakMiB <= RSS_TARGET_MIB ? 'met' : 'NOT met'})`);
      rows.push({
        pages,
        pdfBytes: bytes.byteLength,
        kaiPagesPerSecond: kaiSummary?.rate ?? null,
        barePagesPerSecond: bareSummary?.rate ?? null,
        ratio,
        kaiPeakRssMiB: kaiSummary?.peakMiB ?? null,
        barePeakRssMiB: bareSummary?.peakMiB ?? null,
        kaiRssTraceMiB: kai.at(-1)?.rssTraceMiB ?? null,
        bareRssTraceMiB: bare.at(-1)?.rssTraceMiB ?? null,
        kaiStages: kai.at(-1)?.phases ?? null,
        barePhases: bare.at(-1)?.phases ?? null,
      });
    }
    const first = rows[0] as { pages: number; kaiPeakRssMiB: number | null };
    const lastRow = rows.at(-1) as { pages: number; kaiPeakRssMiB: number | null };
    if (rows.length >= 2 && first.kaiPeakRssMiB !== null && lastRow.kaiPeakRssMiB !== null) {
      console.log(`  kai peak RSS ${first.pages} → ${lastRow.pages} pages: ${first.kaiPeakRssMiB.toFixed(0)} → ${lastRow.kaiPeakRssMiB.toFixed(0)} MiB (${(lastRow.kaiPeakRssMiB - first.kaiPeakRssMiB).toFixed(0)} MiB)`);
    }
    emitJson('pdf-e2e', { scale, tileSizePx, threads, runs, sizes: rows });
  } finally {
    await redis.stop();
    rmSync(folder, { recursive: true, force: true });
  }
}
