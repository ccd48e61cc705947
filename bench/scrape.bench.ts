/**
 * Scrape benchmark: pages/s crawling a 500-page local site through `site_crawled` (robots.txt,
 * SSRF guard, HTML and JSON-LD extraction, artifact parts, throttled counters and resume
 * states) against a bare fetch loop over the same URLs with the same concurrency, as a ratio.
 * Politeness delay is 0 for both, so the figure is the crawler's own cost.
 *
 *   pnpm tsx bench/scrape.bench.ts                  # 500 pages, concurrency 4, 3 runs
 *   SCRAPE_BENCH_CONCURRENCY=8 SCRAPE_BENCH_RUNS=5 pnpm tsx bench/scrape.bench.ts
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createScrapeJob, LocalFolderArtifactStore, stageOutputsOf, type SiteCrawledOutput } from '@kai-jobs/workers';
import { createTestStageContext } from '@kai-jobs/workers/testing';
import { median } from './lib/xml-feed.js';

const PAGES = 500;
const concurrency = Number(process.env['SCRAPE_BENCH_CONCURRENCY'] ?? 4);
const runs = Number(process.env['SCRAPE_BENCH_RUNS'] ?? 3);

async function startSite(): Promise<{ origin: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [...process.execArgv, new URL('./lib/site-server.ts', import.meta.url).pathname, String(PAGES)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
  const port = Number(chunk.toString().trim());
  return {
    origin: `http://127.0.0.1:${port}`,
    async stop() {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** The baseline: fetch every page (undici), `concurrency` at a time, reading each body. */
async function bareFetch(urls: readonly string[]): Promise<number> {
  const started = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < urls.length) {
      const url = urls[next++] as string;
      const response = await fetch(url);
      if (!response.ok) throw new Error(`${url}: ${response.status}`);
      await response.text();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return (performance.now() - started) / 1000;
}

async function crawl(origin: string, work: string, run: number): Promise<{ seconds: number; output: SiteCrawledOutput }> {
  const job = createScrapeJob({ urlGuard: { allow: ['127.0.0.1'] }, delayMs: 0, perHostConcurrency: concurrency, maxConcurrency: concurrency });
  const stage = job.stages[0];
  if (stage === undefined) throw new Error('no stage');
  const ctx = createTestStageContext({
    type: 'scrape',
    stage: 'site_crawled',
    jobId: `bench-${run}`,
    artifacts: new LocalFolderArtifactStore(join(work, `run-${run}`)),
    payload: { sessionId: `bench-${run}`, sourceUrl: `${origin}/p/0`, maxPages: PAGES, maxDepth: 20 },
  });
  const started = performance.now();
  const output = (await stage.run(ctx, stageOutputsOf(new Map()))) as SiteCrawledOutput;
  const seconds = (performance.now() - started) / 1000;
  await ctx.close();
  return { seconds, output };
}

async function main(): Promise<void> {
  const site = await startSite();
  const work = mkdtempSync(join(tmpdir(), 'kai-scrape-bench-'));
  try {
    const urls = Array.from({ length: PAGES }, (_, index) => `${site.origin}/p/${index}`);
    await bareFetch(urls.slice(0, 50)); // warm both sides up
    const bare: number[] = [];
    const crawled: number[] = [];
    for (let run = 1; run <= runs; run += 1) {
      const bareSeconds = await bareFetch(urls);
      bare.push(PAGES / bareSeconds);
      const { seconds, output } = await crawl(site.origin, work, run);
      if (output.completedPages !== PAGES) throw new Error(`crawl completed ${output.completedPages} pages, expected ${PAGES}`);
      crawled.push(PAGES / seconds);
      console.log(`run ${run}: bare fetch ${Math.round(bare.at(-1) as number)} pages/s, crawl ${Math.round(crawled.at(-1) as number)} pages/s (${output.productsFound} products, ${output.parts.length} parts)`);
    }
    const ratio = median(crawled) / median(bare);
    console.log(`median (concurrency ${concurrency}): bare fetch ${Math.round(median(bare))} pages/s, site_crawled ${Math.round(median(crawled))} pages/s, ratio ${ratio.toFixed(2)}`);
  } finally {
    await site.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
