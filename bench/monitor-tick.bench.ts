/**
 * Monitor tick time against the number of tracked (running) jobs: 10k, 100k, 1M rows, of
 * which 0.1% are stuck (and, separately, a fixed 10 stuck), on a private redis-server.
 * Run: pnpm tsx bench/monitor-tick.bench.ts [--sizes=10000,100000,1000000] [--runs=3]
 */
import { type Redis } from 'ioredis';
import { Alerter, createMonitor } from '@kai-jobs/monitor';
import { statusKeys } from '@kai-jobs/queue';
import { startBenchRedis, type BenchRedis } from './lib/redis-server.js';
import { arg, fmt, median } from './lib/stats.js';

const SIZES = (process.argv.find((a) => a.startsWith('--sizes='))?.split('=')[1] ?? '10000,100000,1000000').split(',').map(Number);
const RUNS = arg('runs', 3);

/** One measured configuration. */
export interface TickBenchRow {
  tracked: number;
  stuck: number;
  tickMs: number;
  perStuckMs: number;
}

/**
 * Seeds `total` running PDF rows straight into Redis (pipelined HSET/ZADD — the same fields
 * and indexes the status store writes), `stuck` of them with a heartbeat and update 20 min old
 * and no BullMQ job, so the tick finds, classifies and fails exactly those.
 */
async function seed(redis: Redis, prefix: string, total: number, stuck: number): Promise<void> {
  const keys = statusKeys(prefix, 'pdf');
  const [seconds] = await redis.time();
  const now = Number(seconds) * 1000;
  const stuckEvery = stuck === 0 ? Infinity : Math.floor(total / stuck);
  let pipeline = redis.pipeline();
  for (let i = 0; i < total; i++) {
    const id = `job-${i}`;
    const isStuck = i % stuckEvery === 0 && Math.floor(i / stuckEvery) < stuck;
    const at = isStuck ? now - 20 * 60_000 : now - (i % 60_000);
    pipeline.hset(keys.row(id), {
      id,
      type: 'pdf',
      status: 'processing',
      attempt: 1,
      restart_count: 0,
      progress: 40,
      fence: `fence-${i}`,
      worker_id: 'bench-worker',
      current_stage: 'tiles_generated',
      created_at: at,
      updated_at: at,
      started_at: at,
      last_heartbeat: at,
      payload: JSON.stringify({ documentId: `d${i}`, source: { kind: 'file', path: '/x.pdf' } }),
      refs: JSON.stringify({ documentId: `d${i}` }),
    });
    pipeline.zadd(keys.heartbeatIndex, at, id);
    pipeline.zadd(keys.updateIndex, at, id);
    pipeline.zadd(keys.stateIndex('processing'), at, id);
    if (i % 2000 === 1999) {
      await pipeline.exec();
      pipeline = redis.pipeline();
    }
  }
  await pipeline.exec();
}

async function measure(redis: BenchRedis, total: number, stuck: number, run: number): Promise<number> {
  const prefix = `b${total}s${stuck}r${run}`;
  await redis.admin.flushall();
  await seed(redis.admin, prefix, total, stuck);
  const monitor = createMonitor({ redis: { url: redis.url, prefix }, alerter: new Alerter() });
  await monitor.connect();
  const started = performance.now();
  const { summary } = await monitor.runOnce();
  const elapsed = performance.now() - started;
  if (summary.failed !== stuck) throw new Error(`expected ${stuck} stuck jobs failed, the tick failed ${summary.failed}`);
  await monitor.close();
  return elapsed;
}

/** Runs the table. */
export async function runMonitorTickBench(): Promise<{ proportional: TickBenchRow[]; fixed: TickBenchRow[]; runs: number }> {
  const redis = await startBenchRedis();
  try {
    const proportional: TickBenchRow[] = [];
    const fixed: TickBenchRow[] = [];
    for (const total of SIZES) {
      for (const [table, stuck] of [[proportional, Math.max(1, Math.round(total / 1000))], [fixed, 10]] as const) {
        const samples: number[] = [];
        for (let run = 0; run < RUNS; run++) samples.push(await measure(redis, total, stuck, run));
        const tickMs = median(samples);
        table.push({ tracked: total, stuck, tickMs, perStuckMs: tickMs / stuck });
        process.stderr.write(`${fmt(total)} tracked, ${stuck} stuck: ${fmt(tickMs, 1)} ms\n`);
      }
    }
    return { proportional, fixed, runs: RUNS };
  } finally {
    await redis.stop();
  }
}

/** Markdown tables of a run. */
export function monitorTickTable(bench: Awaited<ReturnType<typeof runMonitorTickBench>>): string {
  const table = (rows: TickBenchRow[], base: TickBenchRow) => [
    '| tracked jobs | stuck | tick ms | ms per stuck job | × smallest |',
    '|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${fmt(r.tracked)} | ${fmt(r.stuck)} | ${fmt(r.tickMs, 1)} | ${fmt(r.perStuckMs, 2)} | ${fmt(r.tickMs / base.tickMs, 2)} |`),
  ];
  return [
    `Median of ${bench.runs} runs. 0.1% stuck:`,
    '',
    ...table(bench.proportional, bench.proportional[0] as TickBenchRow),
    '',
    'A fixed 10 stuck:',
    '',
    ...table(bench.fixed, bench.fixed[0] as TickBenchRow),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const bench = await runMonitorTickBench();
  process.stdout.write(`${monitorTickTable(bench)}\n`);
  process.stdout.write(`${JSON.stringify({ bench: 'monitor-tick', ...bench })}\n`);
}
