/**
 * Cost at rest (issue 18): what a process with no work costs. Each process runs alone on a
 * private redis-server with no jobs, for `--seconds` after a warm-up:
 * - the production worker entry (`packages/workers/src/bin/worker.ts`, `kai-jobs-worker`: every
 *   job type's processor registered, the failover registry, heartbeats, stall checks);
 * - the bare counterpart: one raw BullMQ `Worker` per queue the kai worker consumes, default
 *   options, a no-op processor;
 * - the production monitor entry (`packages/monitor/src/bin/monitor.ts`: scheduled ticks, the
 *   failover watcher, BullMQ stalled events), default intervals.
 * Measured from outside the process: CPU (user + sys of every thread, /proc/<pid>/stat) as % of
 * one core, RSS every second (first, last, max, least-squares slope), and the Redis commands per
 * second it causes (INFO commandstats delta; the benchmark's own INFO/RESETSTAT left out).
 * Run: pnpm tsx bench/idle-cost.bench.ts [--seconds=60] [--warmup=30]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { startBenchRedis, type BenchRedis } from './lib/redis-server.js';
import { arg, fmt } from './lib/stats.js';
// Nothing of kai-jobs is imported statically: the bare child runs this file too, and its RSS
// must be BullMQ's and ioredis' alone (`@kai-jobs/queue` is imported where the parent needs it).

const SECONDS = arg('seconds', 60);
/**
 * Seconds between "ready" and the measurement. 30 by default: V8 hands back the start-up heap
 * (module compilation, tsx's transforms) some seconds after the process goes idle, a one-time
 * RSS drop of 20–35 MiB that a 5 s warm-up left inside the window.
 */
const WARMUP_SECONDS = arg('warmup', 30);
/** Kernel clock ticks per second (`getconf CLK_TCK`): 100 on every Linux this runs on. */
const CLOCK_TICKS_PER_SECOND = 100;
const MiB = 1024 * 1024;
/** Issue 18: an idle worker uses less than 1 % of a core. */
const CPU_TARGET_PERCENT = 1;
/**
 * RSS counts as stable when it does not grow: its least-squares slope over the window stays under
 * this (MiB per minute). A falling RSS (start-up memory handed back) is not growth.
 */
const RSS_STABLE_SLOPE_MIB_PER_MIN = 1;
const here = fileURLToPath(new URL('.', import.meta.url));
const repo = join(here, '..');

/** What one idle process cost over the window. */
export interface IdleCost {
  process: string;
  seconds: number;
  /** User + system CPU of the process (all threads) as % of one core. */
  cpuPercent: number;
  rssFirstMiB: number;
  rssLastMiB: number;
  rssMaxMiB: number;
  /** Least-squares slope of the per-second RSS samples (MiB per minute). */
  rssSlopeMiBPerMin: number;
  /** The per-second RSS samples (MiB, one decimal). */
  rssSamplesMiB: number[];
  redisCommandsPerSecond: number;
  /** Redis's own CPU over the window as % of one core (what the process makes Redis do, plus Redis's cron). */
  redisCpuPercent: number;
  /** Commands per second by name, the largest first. */
  byCommand: Record<string, number>;
}

/** Bare child: one raw BullMQ worker per `<queue name>=<BullMQ prefix>`, no-op processor, idle until SIGTERM. */
async function bareChild(url: string, queues: readonly string[]): Promise<void> {
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const workers = queues.map((spec) => {
    const [queueName, prefix] = spec.split('=') as [string, string];
    return new Worker(queueName, async () => undefined, { connection, prefix });
  });
  await Promise.all(workers.map((worker) => worker.waitUntilReady()));
  process.on('SIGTERM', () => {
    void Promise.all(workers.map((worker) => worker.close()))
      .then(() => connection.quit())
      .then(() => process.exit(0));
  });
  process.stdout.write('bare workers ready\n');
}

/** /proc/<pid>/stat: CPU seconds (user + sys, all threads) so far. */
function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces), counted from field 3 (state).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** /proc/<pid>/status: resident set size (bytes). */
function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
}

/** Least-squares slope of `ys` sampled once a second, per minute. */
function slopePerMinute(ys: readonly number[]): number {
  const n = ys.length;
  if (n < 2) return 0;
  const meanX = (n - 1) / 2;
  const meanY = ys.reduce((sum, y) => sum + y, 0) / n;
  let num = 0;
  let den = 0;
  ys.forEach((y, x) => {
    num += (x - meanX) * (y - meanY);
    den += (x - meanX) ** 2;
  });
  return (num / den) * 60;
}

/** Spawns a process and resolves once a line of its stdout matches `ready`. */
async function spawnReady(name: string, args: string[], env: Record<string, string>, ready: RegExp): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { cwd: repo, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      if (ready.test(out)) {
        child.stdout?.off('data', onData);
        // Keep draining: a full pipe would block the child's logger.
        child.stdout?.resume();
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before it was ready:\n${out}\n${stderr}`)));
  });
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts one process, lets it warm up, then measures it at rest for `SECONDS`. */
async function measure(redis: BenchRedis, name: string, args: string[], env: Record<string, string>, ready: RegExp): Promise<IdleCost> {
  await redis.admin.flushall();
  const child = await spawnReady(name, args, env, ready);
  try {
    const pid = child.pid as number;
    await sleep(WARMUP_SECONDS * 1000);
    await redis.resetStats();
    const cpuStart = cpuSecondsOf(pid);
    const started = performance.now();
    const rss: number[] = [rssOf(pid)];
    for (let second = 1; second <= SECONDS; second++) {
      // Sample on the second, measured from the start, so the samples do not drift.
      await sleep(Math.max(0, started + second * 1000 - performance.now()));
      rss.push(rssOf(pid));
    }
    const cpuSeconds = cpuSecondsOf(pid) - cpuStart;
    const elapsedS = (performance.now() - started) / 1000;
    const stats = await redis.stats();
    const own = Object.entries(stats.byCommand).filter(([command]) => command !== 'info' && !command.startsWith('config'));
    const commands = own.reduce((sum, [, calls]) => sum + calls, 0);
    const rssMiB = rss.map((bytes) => bytes / MiB);
    return {
      process: name,
      seconds: Math.round(elapsedS * 10) / 10,
      cpuPercent: (cpuSeconds / elapsedS) * 100,
      rssFirstMiB: rssMiB[0] as number,
      rssLastMiB: rssMiB.at(-1) as number,
      rssMaxMiB: Math.max(...rssMiB),
      rssSlopeMiBPerMin: slopePerMinute(rssMiB),
      rssSamplesMiB: rssMiB.map((mib) => Math.round(mib * 10) / 10),
      redisCommandsPerSecond: commands / elapsedS,
      redisCpuPercent: (stats.cpuSeconds / elapsedS) * 100,
      byCommand: Object.fromEntries(own.sort((a, b) => b[1] - a[1]).map(([command, calls]) => [command, Math.round((calls / elapsedS) * 100) / 100])),
    };
  } finally {
    await stop(child);
  }
}

/** Runs the three processes one after the other on one private Redis. */
export async function runIdleCostBench(): Promise<{ seconds: number; warmupSeconds: number; costs: IdleCost[] }> {
  const redis = await startBenchRedis();
  const artifactsDir = mkdtempSync(join(tmpdir(), 'kai-bench-idle-'));
  const { bullPrefix, JOB_TYPES, jobCatalog } = await import('@kai-jobs/queue');
  const prefix = 'idle';
  // The queues (and BullMQ prefixes) the kai worker consumes: the bare workers wait on the same.
  const queues = JOB_TYPES.map((type) => `${jobCatalog[type].queueName}=${bullPrefix(prefix, jobCatalog[type].queueName)}`);
  const common = { REDIS_URL: redis.url, KAI_PREFIX: prefix, LOG_LEVEL: 'info' };
  try {
    const costs: IdleCost[] = [];
    const runs: [string, string[], Record<string, string>, RegExp][] = [
      ['bare BullMQ workers (one per queue)', ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', redis.url, ...queues], {}, /bare workers ready/],
      ['kai-jobs worker (kai-jobs-worker, all types)', ['--import', 'tsx', join(repo, 'packages/workers/src/bin/worker.ts')], { ...common, ARTIFACTS_DIR: artifactsDir }, /"worker ready"/],
      ['kai-jobs monitor (kai-jobs-monitor)', ['--import', 'tsx', join(repo, 'packages/monitor/src/bin/monitor.ts')], common, /"monitor ready"/],
    ];
    for (const [name, args, env, ready] of runs) {
      const cost = await measure(redis, name, args, env, ready);
      costs.push(cost);
      process.stderr.write(
        `${name}: CPU ${fmt(cost.cpuPercent, 2)} % of a core, RSS ${fmt(cost.rssFirstMiB, 1)} → ${fmt(cost.rssLastMiB, 1)} MiB (slope ${fmt(cost.rssSlopeMiBPerMin, 2)} MiB/min), ${fmt(cost.redisCommandsPerSecond, 2)} Redis commands/s\n`,
      );
    }
    return { seconds: SECONDS, warmupSeconds: WARMUP_SECONDS, costs };
  } finally {
    await redis.stop();
  }
}

/** The report's section. */
export function idleCostTable(bench: Awaited<ReturnType<typeof runIdleCostBench>>): string {
  const [bare, worker] = bench.costs as [IdleCost, IdleCost, ...IdleCost[]];
  const cpuMet = worker.cpuPercent < CPU_TARGET_PERCENT;
  const rssMet = worker.rssSlopeMiBPerMin < RSS_STABLE_SLOPE_MIB_PER_MIN;
  const top = (cost: IdleCost) =>
    Object.entries(cost.byCommand)
      .slice(0, 6)
      .map(([command, perSecond]) => `${command} ${fmt(perSecond, 2)}`)
      .join(', ');
  return [
    `No jobs; each process alone on a private Redis, measured for ${bench.seconds} s after ${bench.warmupSeconds} s of warm-up (CPU of all its threads from /proc, RSS sampled every second).`,
    '',
    '| process | CPU % of a core | × bare | RSS first MiB | RSS last MiB | RSS max MiB | RSS slope MiB/min | Redis commands/s | × bare | Redis CPU % |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...bench.costs.map(
      (cost) =>
        `| ${cost.process} | ${fmt(cost.cpuPercent, 2)} | ${fmt(cost.cpuPercent / Math.max(bare.cpuPercent, 0.01), 1)} | ${fmt(cost.rssFirstMiB, 1)} | ${fmt(cost.rssLastMiB, 1)} | ${fmt(cost.rssMaxMiB, 1)} | ${fmt(cost.rssSlopeMiBPerMin, 2)} | ${fmt(cost.redisCommandsPerSecond, 2)} | ${fmt(cost.redisCommandsPerSecond / Math.max(bare.redisCommandsPerSecond, 0.01), 1)} | ${fmt(cost.redisCpuPercent, 2)} |`,
    ),
    '',
    ...bench.costs.map((cost) => `- ${cost.process}, commands/s: ${top(cost)}`),
    '',
    `Target: an idle worker uses < ${CPU_TARGET_PERCENT} % of a core: **${cpuMet ? 'met' : 'missed'}** (${fmt(worker.cpuPercent, 2)} %; bare ${fmt(bare.cpuPercent, 2)} %). ` +
      `Stable RSS (no growth: slope < ${RSS_STABLE_SLOPE_MIB_PER_MIN} MiB/min): **${rssMet ? 'met' : 'missed'}** (${fmt(worker.rssSlopeMiBPerMin, 2)} MiB/min).`,
  ].join('\n');
}

if (process.argv[2] === '--child') {
  await bareChild(process.argv[3] as string, process.argv.slice(4));
} else if (import.meta.url === `file://${process.argv[1]}`) {
  const bench = await runIdleCostBench();
  process.stdout.write(`${idleCostTable(bench)}\n`);
  // The machine-readable line `pnpm bench` collects.
  process.stdout.write(`${JSON.stringify({ bench: 'idle-cost', ...bench })}\n`);
}
