/**
 * XML import benchmark: products/s through `products_imported` (streaming parse, zod
 * validation, batched upserts into RedisProductStore) against a bare saxes parse of the same
 * generated file, as a ratio (target ≥ 0.5); and peak RSS of a whole import of the feed
 * (both stages, in a child process of its own; target < 200 MB).
 *
 *   pnpm tsx bench/xml-import.bench.ts            # 100 MB feed, 3 runs each
 *   XML_BENCH_MB=20 XML_BENCH_RUNS=1 pnpm tsx bench/xml-import.bench.ts
 *
 * Needs Redis at REDIS_URL (default redis://127.0.0.1:6379); keys go under a random
 * `kb:xml-bench:*` prefix and are deleted afterwards.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { SaxesParser } from 'saxes';
import {
  createXmlImportJob,
  LocalFolderArtifactStore,
  RedisProductStore,
  stageOutputsOf,
  type FeedFetchedOutput,
  type ImportedProduct,
  type ProductStore,
} from '@kai-jobs/workers';
import { createTestStageContext, runStagesForTest } from '@kai-jobs/workers/testing';
import { BENCH_MAPPING, median, writeFeed } from './lib/xml-feed.js';

const MiB = 1024 * 1024;
const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

/** The baseline: saxes over the file, counting record elements, nothing else. */
async function bareParse(path: string): Promise<{ products: number; seconds: number }> {
  const started = performance.now();
  const parser = new SaxesParser({ position: true });
  let products = 0;
  parser.on('opentag', (tag) => {
    if (tag.name === 'product') products += 1;
  });
  parser.on('text', () => undefined);
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 })) parser.write(decoder.decode(chunk as Buffer, { stream: true }));
  parser.close();
  return { products, seconds: (performance.now() - started) / 1000 };
}

/** A store that keeps nothing: isolates the parse and validation from the writes. */
class DiscardingStore implements ProductStore {
  private stored = 0;
  async upsertMany(_sourceName: string, products: readonly ImportedProduct[]): Promise<void> {
    this.stored += products.length;
  }
  async count(): Promise<number> {
    return this.stored;
  }
  async get(): Promise<ImportedProduct | null> {
    return null;
  }
}

/** `products_imported` alone, after `feed_fetched` ran once; into Redis, or nowhere when `redis` is null. */
async function importStage(path: string, work: string, redis: Redis | null): Promise<{ products: number; seconds: number; fetchSeconds: number }> {
  const prefix = `kb:xml-bench:${randomBytes(4).toString('hex')}`;
  const store: ProductStore = redis === null ? new DiscardingStore() : new RedisProductStore({ connection: redis, prefix });
  const job = createXmlImportJob({ fileRoot: dirname(path), productStore: store });
  const artifacts = new LocalFolderArtifactStore(join(work, `artifacts-${prefix.slice(-8)}`));
  const payload = { importJobId: 'bench', sourceName: 'bench', source: { kind: 'file' as const, path }, fieldMapping: BENCH_MAPPING };
  const [fetchStage, importStageDef] = job.stages;
  if (fetchStage === undefined || importStageDef === undefined) throw new Error('stages missing');
  try {
    const fetchCtx = createTestStageContext({ type: 'xml-import', stage: 'feed_fetched', payload, artifacts });
    const fetchStarted = performance.now();
    const feed = fetchStage.output.parse(await fetchStage.run(fetchCtx, stageOutputsOf(new Map()))) as FeedFetchedOutput;
    const fetchSeconds = (performance.now() - fetchStarted) / 1000;
    await fetchCtx.close();
    const ctx = createTestStageContext({ type: 'xml-import', stage: 'products_imported', payload, artifacts });
    const started = performance.now();
    const output = (await importStageDef.run(ctx, stageOutputsOf(new Map([['feed_fetched', feed]])))) as { totalProducts: number; processedProducts: number };
    const seconds = (performance.now() - started) / 1000;
    await ctx.close();
    if ((await store.count('bench')) !== output.processedProducts) throw new Error('store count does not match the import');
    return { products: output.totalProducts, seconds, fetchSeconds };
  } finally {
    if (redis !== null) await deletePrefix(redis, prefix);
    rmSync(join(work, `artifacts-${prefix.slice(-8)}`), { recursive: true, force: true });
  }
}

/** Child mode: one whole import (both stages), then print the peak RSS. */
async function child(path: string, work: string): Promise<void> {
  const redis = new Redis(redisUrl);
  const prefix = `kb:xml-bench:${randomBytes(4).toString('hex')}`;
  try {
    const job = createXmlImportJob({ fileRoot: dirname(path), productStore: new RedisProductStore({ connection: redis, prefix }) });
    const { result } = await runStagesForTest(job, {
      type: 'xml-import',
      artifacts: new LocalFolderArtifactStore(join(work, 'artifacts-child')),
      payload: { importJobId: 'bench-rss', sourceName: 'bench', source: { kind: 'file', path }, fieldMapping: BENCH_MAPPING },
    });
    process.stdout.write(`${JSON.stringify({ maxRssBytes: process.resourceUsage().maxRSS * 1024, result })}\n`);
  } finally {
    await deletePrefix(redis, prefix);
    await redis.quit();
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    await child(process.argv[3] as string, process.argv[4] as string);
    return;
  }
  const megabytes = Number(process.env['XML_BENCH_MB'] ?? 100);
  const runs = Number(process.env['XML_BENCH_RUNS'] ?? 3);
  const work = mkdtempSync(join(tmpdir(), 'kai-xml-bench-'));
  const redis = new Redis(redisUrl);
  try {
    const path = join(work, 'feed.xml');
    const feed = await writeFeed(path, megabytes * MiB);
    console.log(`feed: ${(feed.bytes / MiB).toFixed(1)} MiB, ${feed.products} products (${feed.invalid} invalid)`);

    const parse: number[] = [];
    const imported: number[] = [];
    const discarded: number[] = [];
    const fetched: number[] = [];
    for (let run = 1; run <= runs; run += 1) {
      const bare = await bareParse(path);
      if (bare.products !== feed.products) throw new Error(`bare parse counted ${bare.products} products, expected ${feed.products}`);
      parse.push(bare.products / bare.seconds);
      const result = await importStage(path, work, redis);
      if (result.products !== feed.products) throw new Error(`import counted ${result.products} products, expected ${feed.products}`);
      imported.push(result.products / result.seconds);
      fetched.push((feed.bytes / MiB) / result.fetchSeconds);
      const nowhere = await importStage(path, work, null);
      discarded.push(nowhere.products / nowhere.seconds);
      console.log(
        `run ${run}: bare saxes ${Math.round(parse.at(-1) as number)} products/s, import into Redis ${Math.round(imported.at(-1) as number)} products/s, ` +
          `import without writes ${Math.round(discarded.at(-1) as number)} products/s, feed_fetched ${(fetched.at(-1) as number).toFixed(0)} MiB/s`,
      );
    }
    const ratio = median(imported) / median(parse);
    console.log(
      `median: bare saxes ${Math.round(median(parse))} products/s, products_imported into Redis ${Math.round(median(imported))} products/s, ` +
        `without writes ${Math.round(median(discarded))} products/s (ratio ${(median(discarded) / median(parse)).toFixed(2)})`,
    );
    console.log(`ratio import into Redis / bare parse: ${ratio.toFixed(2)} (target >= 0.5) ${ratio >= 0.5 ? 'OK' : 'BELOW TARGET'}`);

    const output = execFileSync(process.execPath, [...process.execArgv, process.argv[1] as string, '--child', path, work], { encoding: 'utf8', maxBuffer: 16 * MiB });
    const line = output.trim().split('\n').at(-1) ?? '{}';
    const { maxRssBytes, result } = JSON.parse(line) as { maxRssBytes: number; result: { totalProducts: number } };
    if (result.totalProducts !== feed.products) throw new Error('child import counted the wrong number of products');
    console.log(`peak RSS of a whole import of the ${(feed.bytes / MiB).toFixed(0)} MiB feed: ${(maxRssBytes / MiB).toFixed(0)} MiB (target < 200 MiB) ${maxRssBytes < 200 * MiB ? 'OK' : 'ABOVE TARGET'}`);
  } finally {
    await redis.quit();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
