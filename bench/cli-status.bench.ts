/**
 * How long `kai-jobs status <id>` takes, start to exit, as an operator runs it: the compiled
 * binary with plain node (what `pnpm kai-jobs` runs), the same through `pnpm kai-jobs` (pnpm's
 * own start and the stale check of the build added), and the TypeScript sources through tsx (how
 * every run went before the build). Wall time per run, and CPU time (user + sys of the child,
 * from /proc/self/stat's cutime/cstime), median of --runs runs after one warm-up each.
 * Target: the compiled `status` ≤ 0.5 s wall.
 *
 * Run: pnpm tsx bench/cli-status.bench.ts [--runs=15]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startBenchRedis } from './lib/redis-server.js';
import { arg, fmt, median } from './lib/stats.js';
import { emitJson } from './lib/trivial-jobs.js';

const RUNS = arg('runs', 15);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const COMPILED = 'apps/cli/dist/bin/kai-jobs.js';
const SOURCE = 'apps/cli/src/bin/kai-jobs.ts';

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

function measure(variant: Variant, env: NodeJS.ProcessEnv): Measured {
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let run = -1; run < RUNS; run++) {
    const cpuBefore = childrenCpuS();
    const started = performance.now();
    const result = spawnSync(variant.command, variant.args, { cwd: ROOT, env, encoding: 'utf8' });
    const wall = performance.now() - started;
    const cpu = (childrenCpuS() - cpuBefore) * 1000;
    if (result.status !== 0) throw new Error(`${variant.name} exited ${result.status}: ${result.stderr}`);
    // The first run warms the page cache; it is not counted.
    if (run >= 0) {
      walls.push(wall);
      cpus.push(cpu);
    }
  }
  return { name: variant.name, medianWallMs: median(walls), maxWallMs: Math.max(...walls), medianCpuMs: median(cpus) };
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
  { name: 'sources through tsx: node --import tsx apps/cli/src/bin/kai-jobs.ts status <id>', command: process.execPath, args: ['--import', 'tsx', SOURCE, 'status', enqueued.id] },
  { name: 'compiled: kai-jobs --help', command: process.execPath, args: [COMPILED, '--help'] },
];
const results = variants.map((variant) => measure(variant, env));
await redis.stop();

const loadAverage = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
process.stdout.write(`kai-jobs status, median of ${RUNS} runs (load average at the end: ${loadAverage}):\n`);
for (const result of results) {
  process.stdout.write(`  ${result.name}: wall ${fmt(result.medianWallMs)} ms (max ${fmt(result.maxWallMs)}), CPU ${fmt(result.medianCpuMs)} ms\n`);
}
const compiled = results[0] as Measured;
process.stdout.write(`target: compiled status ≤ 500 ms wall: ${compiled.medianWallMs <= 500 ? 'met' : 'missed'}\n`);
emitJson('cli-status', { runs: RUNS, loadAverage, results });
