/**
 * One run of the XML import benchmark (bench/xml-import.bench.ts), in a process of its own so
 * its RSS is its own: a bare script (parse; parse into Redis, PostgreSQL or the endpoint) or
 * the import into Redis, into the endpoint, or into no store. The benchmark compiles this file
 * (and xml-bare.ts, xml-feed.ts) to JavaScript and runs it with plain `node` against the
 * compiled packages (`@kai-jobs/workers/dist`), as a worker runs: under tsx, the loader and the
 * TypeScript sources alone would add ~75 MiB to every figure. Prints one JSON line.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createClient } from '@supabase/supabase-js';
import { Redis } from 'ioredis';
import { SaxesParser } from 'saxes';
import { silentLogger, validatePayload } from '@kai-jobs/queue';
import {
  createXmlImportJob,
  LocalFolderArtifactStore,
  RedisProductStore,
  scopeArtifactStore,
  stageOutputsOf,
  SupabaseProductStore,
  type FeedFetchedOutput,
  type ImportedProduct,
  type ProductStore,
  type StageContext,
} from '@kai-jobs/workers';
import { bareImport, RssSampler, type BareProduct } from './xml-bare.js';
import { BENCH_MAPPING } from './xml-feed.js';

/** The little of pg's Client the bare PostgreSQL writer uses. */
interface PgClient {
  connect(): Promise<unknown>;
  query(sql: string, params: unknown[]): Promise<unknown>;
  end(): Promise<void>;
}

/**
 * pg, loaded by name: the root has no @types/pg (it is @kai-jobs/queue's), and this file must
 * typecheck from bench/ as well as run compiled from the cache folder.
 */
async function loadPg(): Promise<{ Client: new (options: { connectionString: string }) => PgClient }> {
  const name = 'pg';
  return ((await import(name)) as { default: { Client: new (options: { connectionString: string }) => PgClient } }).default;
}

const MiB = 1024 * 1024;
const BATCH = 500;
const SOURCE = 'bench';
/** Redis products per HSET command, as `RedisProductStore`'s default. */
const PER_COMMAND = 100;

/** What a child is told. */
export interface ChildTask {
  mode: Mode;
  path: string;
  work: string;
  feedBytes: number;
  validProducts: number;
  redisUrl: string;
  pgUrl: string;
  restUrl: string;
  serviceRoleKey: string;
  schema: string;
}

/** What a child reports. */
export interface ChildResult {
  mode: Mode;
  records: number;
  written: number;
  seconds: number;
  fetchSeconds?: number;
  peakMiB: number;
  quartersMiB: number[];
  /** RSS after the modules were loaded, before any work: the floor every figure stands on. */
  startMiB: number;
  /** V8 heap and off-heap memory at the end (MiB). */
  heapUsedMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
  /** CPU seconds (user + system) of this process in the measured part (the import: `products_imported` only). */
  cpuSeconds: number;
}

/** The runs, in the order the benchmark makes them. */
export const MODES = ['parse', 'bare-redis', 'kai-redis', 'kai-nowrite', 'bare-pg', 'bare-rest', 'kai-rest'] as const;
/** One kind of run. */
export type Mode = (typeof MODES)[number];

/** The baseline of the old report: saxes over the file, counting records, nothing else. */
async function bareParse(task: ChildTask, sampler: RssSampler): Promise<{ records: number; written: number }> {
  const parser = new SaxesParser({ position: true });
  let records = 0;
  parser.on('opentag', (tag) => {
    if (tag.name === 'product') records += 1;
  });
  parser.on('text', () => undefined);
  const decoder = new TextDecoder('utf-8');
  let bytes = 0;
  for await (const chunk of createReadStream(task.path, { highWaterMark: 64 * 1024 })) {
    parser.write(decoder.decode(chunk as Buffer, { stream: true }));
    bytes += (chunk as Buffer).byteLength;
    sampler.progress(bytes / task.feedBytes);
  }
  parser.close();
  return { records, written: 0 };
}

/** Bare writer into Redis: one hash, HSETs of 100 products, a batch as one pipeline. */
async function bareRedis(task: ChildTask, sampler: RssSampler): Promise<{ records: number; written: number }> {
  const redis = new Redis(task.redisUrl);
  try {
    return await bareImport(task.path, {
      batchSize: BATCH,
      onProgress: (bytes) => sampler.progress(bytes / task.feedBytes),
      onBatch: async (products) => {
        const pipeline = redis.pipeline();
        for (let start = 0; start < products.length; start += PER_COMMAND) {
          const fields: string[] = [];
          for (const product of products.slice(start, start + PER_COMMAND)) fields.push(product.sku, JSON.stringify(product));
          pipeline.hset('bare:products', ...fields);
        }
        await pipeline.exec();
      },
    });
  } finally {
    await redis.quit();
  }
}

/** Bare writer into PostgreSQL: one multi-row upsert per batch (unnest of three arrays). */
async function barePg(task: ChildTask, sampler: RssSampler): Promise<{ records: number; written: number }> {
  const pg = await loadPg();
  const client = new pg.Client({ connectionString: task.pgUrl });
  await client.connect();
  const sql =
    `insert into "${task.schema}".bare_products (source_name, sku, name, fields) ` +
    `select $1, s, n, f from unnest($2::text[], $3::text[], $4::jsonb[]) as r(s, n, f) ` +
    `on conflict (source_name, sku) do update set name = excluded.name, fields = excluded.fields`;
  try {
    return await bareImport(task.path, {
      batchSize: BATCH,
      onProgress: (bytes) => sampler.progress(bytes / task.feedBytes),
      onBatch: async (products) => {
        await client.query(sql, [SOURCE, products.map((p) => p.sku), products.map((p) => p.name), products.map((p) => JSON.stringify(p))]);
      },
    });
  } finally {
    await client.end();
  }
}

/** Bare writer through the endpoint: supabase-js bulk inserts of a batch's rows. */
async function bareRest(task: ChildTask, sampler: RssSampler): Promise<{ records: number; written: number }> {
  // Realtime is never used; a stand-in transport keeps supabase-js from requiring a WebSocket on Node 20.
  const client = createClient(task.restUrl, task.serviceRoleKey, {
    db: { schema: task.schema },
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: class {} as never },
  });
  return bareImport(task.path, {
    batchSize: BATCH,
    onProgress: (bytes) => sampler.progress(bytes / task.feedBytes),
    onBatch: async (products: BareProduct[]) => {
      const { error } = await client.from('bare_products').insert(products.map((p) => ({ source_name: SOURCE, sku: p.sku, name: p.name, fields: p })));
      if (error) throw new Error(`bulk insert failed: ${error.message}`);
    },
  });
}

/** Counts what reaches the store (the RSS sampler's progress); `inner` null keeps nothing. */
class CountingStore implements ProductStore {
  stored = 0;
  constructor(
    private readonly inner: ProductStore | null,
    private readonly onStored: (stored: number) => void,
  ) {}
  async upsertMany(sourceName: string, products: readonly ImportedProduct[]): Promise<void> {
    if (this.inner !== null) await this.inner.upsertMany(sourceName, products);
    this.stored += products.length;
    this.onStored(this.stored);
  }
  async count(sourceName: string): Promise<number> {
    return this.inner === null ? this.stored : this.inner.count(sourceName);
  }
  async get(sourceName: string, sku: string): Promise<ImportedProduct | null> {
    return this.inner === null ? null : this.inner.get(sourceName, sku);
  }
}

/**
 * The import: `feed_fetched` once (timed apart), then `products_imported` through the job's own
 * stage functions (not the worker runtime: no BullMQ job around them). The stage context writes
 * counters, progress and the resume state to Redis, one command each, as the runtime's status
 * and checkpoint stores do, instead of recording them in memory as the test context does.
 */
async function kaiImport(task: ChildTask, sampler: RssSampler): Promise<{ records: number; written: number; seconds: number; fetchSeconds: number; cpuSeconds: number }> {
  const redis = new Redis(task.redisUrl);
  const supabase =
    task.mode === 'kai-rest' ? new SupabaseProductStore({ url: task.restUrl, serviceRoleKey: task.serviceRoleKey, schema: task.schema }) : null;
  const inner = task.mode === 'kai-redis' ? new RedisProductStore({ connection: redis, prefix: 'kb' }) : supabase;
  const store = new CountingStore(inner, (stored) => sampler.progress(stored / task.validProducts));
  const job = createXmlImportJob({ fileRoot: dirname(task.path), productStore: store });
  const artifacts = new LocalFolderArtifactStore(join(task.work, `artifacts-${task.mode}-${randomBytes(4).toString('hex')}`));
  const payload = { importJobId: 'bench', sourceName: SOURCE, source: { kind: 'file' as const, path: task.path }, fieldMapping: BENCH_MAPPING };
  const validated = validatePayload('xml-import', payload);
  const controller = new AbortController();
  const stageContext = (stage: 'feed_fetched' | 'products_imported'): StageContext<'xml-import'> => ({
    jobId: 'bench',
    type: 'xml-import',
    payload: validated,
    stage,
    attempt: 1,
    signal: controller.signal,
    logger: silentLogger,
    artifacts: scopeArtifactStore(artifacts, 'bench', stage),
    resumeState: null,
    async progress(percent, detail) {
      await redis.set('kb:bench:progress', JSON.stringify({ percent, detail }));
    },
    async setCounters(counters) {
      await redis.hset('kb:bench:counters', counters);
    },
    async markScraping() {},
    async saveResumeState(state) {
      await redis.set('kb:bench:resume', JSON.stringify(state));
    },
    runInWorkerThread() {
      throw new Error('the XML import uses no worker thread');
    },
    throwIfAborted() {
      controller.signal.throwIfAborted();
    },
  });
  const [fetchStage, importStage] = job.stages;
  if (fetchStage === undefined || importStage === undefined) throw new Error('stages missing');
  try {
    const fetchStarted = performance.now();
    const feed = fetchStage.output.parse(await fetchStage.run(stageContext('feed_fetched'), stageOutputsOf(new Map()))) as FeedFetchedOutput;
    const fetchSeconds = (performance.now() - fetchStarted) / 1000;
    const ctx = stageContext('products_imported');
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const output = (await importStage.run(ctx, stageOutputsOf(new Map([['feed_fetched', feed]])))) as { totalProducts: number; processedProducts: number };
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    if ((await store.count(SOURCE)) !== output.processedProducts) throw new Error('the store count does not match the import');
    return { records: output.totalProducts, written: output.processedProducts, seconds, fetchSeconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
  } finally {
    await supabase?.close();
    await redis.quit();
    rmSync(artifacts.folder, { recursive: true, force: true });
  }
}

/** Runs `task` and prints its {@link ChildResult}. */
export async function runXmlBenchChild(task: ChildTask): Promise<void> {
  const startMiB = Math.round(process.memoryUsage.rss() / MiB);
  const cpuStart = process.cpuUsage();
  const sampler = new RssSampler();
  let outcome: { records: number; written: number; seconds?: number; fetchSeconds?: number; cpuSeconds?: number };
  const started = performance.now();
  switch (task.mode) {
    case 'parse':
      outcome = await bareParse(task, sampler);
      break;
    case 'bare-redis':
      outcome = await bareRedis(task, sampler);
      break;
    case 'bare-pg':
      outcome = await barePg(task, sampler);
      break;
    case 'bare-rest':
      outcome = await bareRest(task, sampler);
      break;
    default:
      outcome = await kaiImport(task, sampler);
  }
  const seconds = outcome.seconds ?? (performance.now() - started) / 1000;
  const rss = sampler.stop();
  const cpu = process.cpuUsage(cpuStart);
  const memory = process.memoryUsage();
  const result: ChildResult = {
    mode: task.mode,
    records: outcome.records,
    written: outcome.written,
    seconds,
    peakMiB: rss.peakMiB,
    quartersMiB: rss.quartersMiB,
    startMiB,
    heapUsedMiB: Math.round(memory.heapUsed / MiB),
    heapTotalMiB: Math.round(memory.heapTotal / MiB),
    externalMiB: Math.round(memory.external / MiB),
    cpuSeconds: outcome.cpuSeconds ?? (cpu.user + cpu.system) / 1e6,
  };
  if (outcome.fetchSeconds !== undefined) result.fetchSeconds = outcome.fetchSeconds;
  process.stdout.write(`${JSON.stringify(result)}\n`);
}


if (process.argv[2] === '--task') await runXmlBenchChild(JSON.parse(process.argv[3] as string) as ChildTask);
