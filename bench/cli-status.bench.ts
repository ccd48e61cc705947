/**
 * How long `kai-jobs status <id>` takes, start to exit, as an operator runs it: the compiled
 * binary with plain node (what `pnpm kai-jobs` runs: the esbuild bundle `pnpm build` writes),
 * the same through `pnpm kai-jobs` (pnpm's own start and the stale check of the build added),
 * tsc's unbundled output of the binary (what ran before the bundle: every package's dist/ and
 * node_modules loaded file by file; regenerated here beside the bundle and removed after), and the
 * TypeScript sources through tsx (how every run went before the build). `--help` of the bundle
 * (no Redis) and a bare `node -e 0` show what no command can go below. Wall time per run, and
 * CPU time (user + sys of the child, from /proc/self/stat's cutime/cstime), median of --runs
 * runs after one warm-up each; the variants take turns run by run, so a change of the machine's
 * load falls on all of them alike. Target: the compiled `status` ≤ 0.5 s wall.
 *
 * Run: pnpm tsx bench/cli-status.bench.ts [--runs=15]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import ts from 'typescript';
import { fileURLToPath } from 'node:url';
import { startBenchRedis } from './lib/redis-server.js';
import { arg, fmt, median } from './lib/stats.js';
import { emitJson } from './lib/trivial-jobs.js';

const RUNS = arg('runs', 15);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const COMPILED = 'apps/cli/dist/bin/kai-jobs.js';
const SOURCE = 'apps/cli/src/bin/kai-jobs.ts';
/** tsc's output of the binary, unbundled: beside the bundle, so its relative imports reach the other files tsc emitted. */
const UNBUNDLED = 'apps/cli/dist/bin/unbundled-kai-jobs.bench.js';

/**
 * Writes the binary as tsc emits it (before scripts/build.mjs bundles it), with its workspace
 * imports pointed at the compiled entries as the build does for every other file.
 */
function writeUnbundledBin(): void {
  const source = readFileSync(new URL(`../${SOURCE}`, import.meta.url), 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true } });
  writeFileSync(new URL(`../${UNBUNDLED}`, import.meta.url), outputText.replace(/(['"])(@kai-jobs\/[a-z-]+)\1/g, '$1$2/dist$1'));
}

/** CPU seconds used by this process's waited-for children so far (Linux). */
function childrenCpuS(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 16 and 17 of stat (cutime, cstime) are the 14th and 15th after the comm.
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

interface Variant {
  name: string;
  command: string;
  args: string[];
}

interface Measured {
  name: string;
  medianWallMs: number;
  maxWallMs: number;
  medianCpuMs: number;
}

/** One run of `variant`: its wall and CPU milliseconds; throws when it fails. */
function runOnce(variant: Variant, env: NodeJS.ProcessEnv): { wallMs: number; cpuMs: number } {
  const cpuBefore = childrenCpuS();
  const started = performance.now();
  const result = spawnSync(variant.command, variant.args, { cwd: ROOT, env, encoding: 'utf8' });
  const wallMs = performance.now() - started;
  const cpuMs = (childrenCpuS() - cpuBefore) * 1000;
  if (result.status !== 0) throw new Error(`${variant.name} exited ${result.status}: ${result.stderr}`);
  return { wallMs, cpuMs };
}

/** Runs the variants in turns (one warm-up turn, not counted, then --runs turns). */
function measure(variants: readonly Variant[], env: NodeJS.ProcessEnv): Measured[] {
  const walls = variants.map(() => [] as number[]);
  const cpus = variants.map(() => [] as number[]);
  for (let turn = -1; turn < RUNS; turn++) {
    variants.forEach((variant, index) => {
      const { wallMs, cpuMs } = runOnce(variant, env);
      // The warm-up turn fills the page cache; it is not counted.
      if (turn < 0) return;
      walls[index]?.push(wallMs);
      cpus[index]?.push(cpuMs);
    });
  }
  return variants.map((variant, index) => {
    const wall = walls[index] as number[];
    return { name: variant.name, medianWallMs: median(wall), maxWallMs: Math.max(...wall), medianCpuMs: median(cpus[index] as number[]) };
  });
}

execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: ROOT, stdio: 'inherit' });
const redis = await startBenchRedis();
const env = { ...process.env, REDIS_URL: redis.url, KAI_PREFIX: 'bench-status', LOG_LEVEL: 'warn' };
// A job to ask about: enqueued (no worker takes it), so status reads its row, BullMQ job, checkpoints and history.
const enqueued = JSON.parse(
  execFileSync(process.execPath, [COMPILED, 'enqueue', 'scrape', '--url', 'https://shop.example/', '--json'], { cwd: ROOT, env, encoding: 'utf8' }),
) as { id: string };

const variants: Variant[] = [
  { name: 'compiled: node apps/cli/dist/bin/kai-jobs.js status <id>', command: process.execPath, args: [COMPILED, 'status', enqueued.id] },
  { name: 'pnpm kai-jobs status <id> (pnpm + stale check + compiled)', command: 'pnpm', args: ['--silent', 'kai-jobs', 'status', enqueued.id] },
  { name: 'compiled, unbundled (tsc output, before the bundle) status <id>', command: process.execPath, args: [UNBUNDLED, 'status', enqueued.id] },
  { name: 'sources through tsx: node --import tsx apps/cli/src/bin/kai-jobs.ts status <id>', command: process.execPath, args: ['--import', 'tsx', SOURCE, 'status', enqueued.id] },
  { name: 'compiled: kai-jobs --help', command: process.execPath, args: [COMPILED, '--help'] },
  { name: 'bare node: node -e 0', command: process.execPath, args: ['-e', '0'] },
];
writeUnbundledBin();
const loadAverageBefore = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
let results: Measured[];
try {
  results = measure(variants, env);
} finally {
  rmSync(new URL(`../${UNBUNDLED}`, import.meta.url), { force: true });
  await redis.stop();
}

const loadAverage = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
process.stdout.write(`kai-jobs status, median of ${RUNS} runs (load average at the start: ${loadAverageBefore}, at the end: ${loadAverage}):\n`);
for (const result of results) {
  process.stdout.write(`  ${result.name}: wall ${fmt(result.medianWallMs)} ms (max ${fmt(result.maxWallMs)}), CPU ${fmt(result.medianCpuMs)} ms\n`);
}
const compiled = results[0] as Measured;
process.stdout.write(`target: compiled status ≤ 500 ms wall: ${compiled.medianWallMs <= 500 ? 'met' : 'missed'}\n`);
emitJson('cli-status', { runs: RUNS, loadAverageBefore, loadAverage, results });
