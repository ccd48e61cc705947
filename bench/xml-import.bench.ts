/**
 * XML import benchmark. The import (`products_imported`: saxes, mapping, validation and
 * transforms, batched upserts through the real product store, counters, progress and resume
 * state after every batch) against bare scripts measured in the same run on the same feed:
 *
 * - bare parse: saxes over the file, counting records (the old baseline, kept as a second figure);
 * - bare → Redis: saxes into the same product records, HSET in pipelined batches of 500;
 * - bare → PostgreSQL: the same records, multi-row `INSERT … ON CONFLICT` of 500 rows (pg);
 * - bare → endpoint: the same records, bulk inserts of 500 rows through supabase-js into the
 *   PostgREST-compatible endpoint (the endpoint the tests use; PostgREST itself is not installed).
 *
 * The import runs into Redis (`RedisProductStore`) and into PostgreSQL through the endpoint
 * (`SupabaseProductStore`, supabase-js → `kai_upsert_products`). Each run is a child process
 * of its own: its peak RSS, and its RSS per quarter of the feed, show whether memory is flat.
 *
 *   pnpm tsx bench/xml-import.bench.ts                 # 100 MB feed, 3 runs
 *   pnpm tsx bench/xml-import.bench.ts --large         # and a 1 GB feed, 1 run (≈ 15 min)
 *   pnpm tsx bench/xml-import.bench.ts --mb=20 --runs=1
 *
 * Loopback only: a private redis-server on a spare port; PostgreSQL at DATABASE_URL (default the
 * `test` database on 127.0.0.1:5432), in a schema of its own dropped afterwards.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { startSupabaseTestStack, testPostgresUrl } from '@kai-jobs/queue/testing';
import { startBenchRedis } from './lib/redis-server.js';
import { median, writeFeed } from './lib/xml-feed.js';
import { MODES, type ChildResult, type ChildTask, type Mode } from './lib/xml-import-child.js';

const MiB = 1024 * 1024;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Where the compiled child goes: under node_modules, so it resolves the workspace's packages. */
const CHILD_DIR = join(ROOT, 'node_modules', '.cache', 'kai-bench', 'xml-import');
const CHILD_SOURCES = ['xml-import-child', 'xml-bare', 'xml-feed'];

/**
 * Compiles the packages (`scripts/build.mjs --if-stale`) and the child's three files to ESM
 * JavaScript, imports of the workspace packages pointed at their compiled entries, as
 * scripts/build.mjs does for the packages themselves.
 */
function compileChild(): string {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), '--if-stale'], { cwd: ROOT, stdio: 'inherit' });
  mkdirSync(CHILD_DIR, { recursive: true });
  for (const name of CHILD_SOURCES) {
    const source = readFileSync(join(ROOT, 'bench', 'lib', `${name}.ts`), 'utf8');
    const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
    const linked = outputText
      .replace(/from '(@kai-jobs\/(?:queue|workers))'/g, "from '$1/dist'")
      .replace(/from '\.\/([\w-]+)\.js'/g, "from './$1.mjs'");
    writeFileSync(join(CHILD_DIR, `${name}.mjs`), linked);
  }
  return join(CHILD_DIR, 'xml-import-child.mjs');
}

let childScript = '';

function runChild(task: ChildTask): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [childScript, '--task', JSON.stringify(task)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    proc.on('exit', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`child ${task.mode} exited with ${code}: ${out.slice(-500)}`));
      else resolve(JSON.parse(line) as ChildResult);
    });
  });
}

function flag(name: string): string | undefined {
  return process.argv.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1];
}

const fmt = (value: number): string => Math.round(value).toLocaleString('en-US');

async function main(): Promise<void> {
  const megabytes = Number(flag('mb') ?? process.env['XML_BENCH_MB'] ?? 100);
  const runs = Number(flag('runs') ?? process.env['XML_BENCH_RUNS'] ?? 3);
  const large = process.argv.includes('--large');
  const only = flag('modes')?.split(',') as Mode[] | undefined;
  const modes = MODES.filter((mode) => only === undefined || only.includes(mode));
  childScript = compileChild();
  const work = mkdtempSync(join(tmpdir(), 'kai-xml-bench-'));
  const redis = await startBenchRedis();
  const stack = await startSupabaseTestStack({ schemaPrefix: 'xmlbench' });
  const schema = await stack.createSchema('feed');
  await stack.admin.query(
    `create table "${schema}".bare_products (source_name text not null, sku text not null, name text not null, fields jsonb not null, primary key (source_name, sku));
     grant select, insert on "${schema}".bare_products to service_role`,
  );
  const report: Record<string, unknown>[] = [];
  try {
    const feeds: { megabytes: number; runs: number }[] = [{ megabytes, runs }];
    if (large) feeds.push({ megabytes: 1024, runs: 1 });
    for (const { megabytes: size, runs: feedRuns } of feeds) {
      const path = join(work, `feed-${size}.xml`);
      const feedStarted = performance.now();
      const writeStarted = performance.now();
      const feed = await writeFeed(path, size * MiB);
      console.log(
        `feed: ${(feed.bytes / MiB).toFixed(1)} MiB, ${fmt(feed.products)} products (${fmt(feed.invalid)} invalid), written to disk in ${((performance.now() - writeStarted) / 1000).toFixed(1)} s`,
      );
      const results = new Map<Mode, ChildResult[]>(modes.map((mode) => [mode, []]));
      for (let run = 1; run <= feedRuns; run += 1) {
        const line: string[] = [];
        for (const mode of modes) {
          await redis.admin.flushall();
          await stack.admin.query(`truncate "${schema}".bare_products, "${schema}".imported_products`);
          const result = await runChild({
            mode,
            path,
            work,
            feedBytes: feed.bytes,
            validProducts: feed.products - feed.invalid,
            redisUrl: redis.url,
            pgUrl: testPostgresUrl(),
            restUrl: stack.url,
            serviceRoleKey: stack.serviceRoleKey,
            schema,
          });
          if (result.records !== feed.products) throw new Error(`${mode} read ${result.records} records, the feed has ${feed.products}`);
          if (mode !== 'parse' && result.written !== feed.products - feed.invalid) throw new Error(`${mode} wrote ${result.written} products, expected ${feed.products - feed.invalid}`);
          results.get(mode)?.push(result);
          line.push(`${mode} ${fmt(result.records / result.seconds)}/s (peak ${result.peakMiB} MiB)`);
        }
        console.log(`run ${run}: ${line.join(', ')}`);
      }
      const rate = (mode: Mode): number => median((results.get(mode) ?? []).map((r) => r.records / r.seconds));
      const ratio = (a: Mode, b: Mode): number => rate(a) / rate(b);
      // CPU time of the process is less shaken by other load than wall time (the servers' CPU is not in it).
      const cpuRate = (mode: Mode): number => median((results.get(mode) ?? []).map((r) => r.records / r.cpuSeconds));
      const has = (...wanted: Mode[]): boolean => wanted.every((mode) => modes.includes(mode));
      console.log(`\n${(feed.bytes / MiB).toFixed(0)} MiB feed, medians of ${feedRuns} run(s), products (records) per second:\n`);
      console.log('| run | products/s | products per CPU-second of the process | peak RSS MiB | RSS after loading the modules MiB | RSS MiB by quarter of the feed (peak in 0–25/25–50/50–75/75–100 %) |');
      console.log('|---|---:|---:|---:|---:|---|');
      for (const mode of modes) {
        const last = (results.get(mode) ?? []).at(-1) as ChildResult;
        const peaks = (results.get(mode) ?? []).map((r) => r.peakMiB);
        console.log(
          `| ${mode} | ${fmt(rate(mode))} | ${fmt(cpuRate(mode))} | ${Math.max(...peaks)} | ${last.startMiB} | ${last.quartersMiB.map((q) => (q === 0 ? '–' : String(q))).join(' / ')} |`,
        );
      }
      const figures: Record<string, number> = { megabytes: Math.round(feed.bytes / MiB), products: feed.products };
      for (const mode of modes) {
        figures[`${mode}PerSecond`] = Math.round(rate(mode));
        figures[`${mode}PerCpuSecond`] = Math.round(cpuRate(mode));
        figures[`${mode}StartMiB`] = ((results.get(mode) ?? []).at(-1) as ChildResult).startMiB;
        figures[`${mode}PeakMiB`] = Math.max(...(results.get(mode) ?? []).map((r) => r.peakMiB));
      }
      console.log('');
      const target = (name: string, value: number, goal: number): void => {
        figures[name] = Number(value.toFixed(3));
        console.log(`${name}: ${value.toFixed(2)} (target >= ${goal}) ${value >= goal ? 'OK' : 'BELOW TARGET'}`);
      };
      if (has('kai-redis', 'bare-redis')) target('ratio import into Redis / bare parse into Redis', ratio('kai-redis', 'bare-redis'), 0.6);
      if (has('kai-rest', 'bare-rest')) target('ratio import into PostgreSQL / bare parse into PostgreSQL (same endpoint)', ratio('kai-rest', 'bare-rest'), 0.6);
      if (has('kai-redis', 'bare-redis')) console.log(`secondary: products per CPU-second, import into Redis / bare parse into Redis: ${(cpuRate('kai-redis') / cpuRate('bare-redis')).toFixed(2)}`);
      if (has('kai-rest', 'bare-rest')) console.log(`secondary: products per CPU-second, import into PostgreSQL / bare into the endpoint: ${(cpuRate('kai-rest') / cpuRate('bare-rest')).toFixed(2)}`);
      if (has('kai-redis', 'parse')) console.log(`secondary: import into Redis / bare parse alone: ${ratio('kai-redis', 'parse').toFixed(2)}`);
      if (has('kai-nowrite', 'parse')) console.log(`secondary: import without writes / bare parse alone: ${ratio('kai-nowrite', 'parse').toFixed(2)}`);
      if (has('kai-rest', 'bare-pg')) console.log(`secondary: import into PostgreSQL via the endpoint / bare multi-row INSERT with pg: ${ratio('kai-rest', 'bare-pg').toFixed(2)}`);
      if (has('bare-rest', 'bare-pg')) console.log(`secondary: bare bulk insert via the endpoint / bare multi-row INSERT with pg: ${ratio('bare-rest', 'bare-pg').toFixed(2)}`);
      const fetchRates = (results.get('kai-redis') ?? []).map((r) => feed.bytes / MiB / (r.fetchSeconds ?? Number.NaN));
      if (fetchRates.length > 0) console.log(`feed_fetched (copy, sha256, prolog scan; not in the ratios): ${median(fetchRates).toFixed(0)} MiB/s`);
      for (const mode of ['kai-redis', 'kai-rest'] as const) {
        if (!modes.includes(mode)) continue;
        const peak = figures[`${mode}PeakMiB`] as number;
        const limit = 150;
        if (size <= 200) console.log(`peak RSS of ${mode} on the ${figures['megabytes']} MiB feed: ${peak} MiB (target < ${limit} MiB) ${peak < limit ? 'OK' : 'ABOVE TARGET'}`);
        else console.log(`peak RSS of ${mode} on the ${figures['megabytes']} MiB feed: ${peak} MiB (target: flat; see the quarters above)`);
      }
      figures['benchSeconds'] = Math.round((performance.now() - feedStarted) / 1000);
      report.push(figures);
      console.log(`the ${figures['megabytes']} MiB feed took ${((performance.now() - feedStarted) / 60_000).toFixed(1)} min in all (writing it, ${feedRuns} run(s) of every mode)\n`);
    }
    process.stdout.write(`${JSON.stringify({ feeds: report })}\n`);
  } finally {
    await stack.close();
    await redis.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
