/**
 * Throughput of the kai-jobs runtime against a raw BullMQ no-op worker, same process, same
 * private Redis, same concurrency: jobs/s, Redis commands per job and Redis CPU per job, for
 * 1 and 5 trivial stages; and enqueue throughput of enqueueBulk against Queue.addBulk.
 * Run: pnpm tsx bench/runtime-throughput.bench.ts [--jobs=20000] [--runs=3] [--concurrency=50] [--only=raw,1,5,enqueue]
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { bullPrefix, createJobClient, PdfStage, statusKeys } from '@kai-jobs/queue';
import { createWorkerRuntime, defineStage, type StagedJobDefinition } from '@kai-jobs/workers';
import { startBenchRedis, type BenchRedis } from './lib/redis-server.js';
import { arg, fmt, median } from './lib/stats.js';

const JOBS = arg('jobs', 20_000);
const RUNS = arg('runs', 3);
const CONCURRENCY = arg('concurrency', 50);
const QUEUE = 'pdf-processing';
/** `--only=raw,1,5,enqueue`: run only these variants (for profiling one with `node --cpu-prof`). */
const ONLY = process.argv.find((value) => value.startsWith('--only='))?.slice('--only='.length).split(',');
const runs = (variant: string): boolean => ONLY === undefined || ONLY.includes(variant);

/** One measured variant. */
export interface ThroughputResult {
  variant: string;
  jobsPerSecond: number;
  commandsPerJob: number;
  redisCpuUsPerJob: number;
  /** This process's CPU (user + system, all threads) per job, µs: the workers' side of the cost, less sensitive to other load than jobs/s. */
  nodeCpuUsPerJob: number;
  /** Redis commands per job by command name (`INFO commandstats`), the largest first. */
  commandsPerJobByName: Record<string, number>;
}

/** This process's CPU since `before`, µs per job (the bench's own 50 ms polling included: a few µs/job). */
function cpuUsPerJob(before: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(before);
  return (used.user + used.system) / JOBS;
}

/** Per-job command counts by name, largest first, without the bench's own polling (`zcard`, `info`). */
function perJob(byCommand: Record<string, number>): Record<string, number> {
  const entries = Object.entries(byCommand)
    .filter(([name]) => name !== 'info' && name !== 'config|resetstat')
    .map(([name, calls]) => [name, Math.round((calls / JOBS) * 100) / 100] as const)
    .filter(([, perJobCalls]) => perJobCalls >= 0.01)
    .sort((a, b) => b[1] - a[1]);
  return Object.fromEntries(entries);
}

const trivialOutput = z.object({ i: z.number() });

/** A pdf-typed job with the first `count` trivial stages (benchmarks only: not catalog-complete). */
function trivialJob(count: number): StagedJobDefinition<'pdf'> {
  const names = Object.values(PdfStage).slice(0, count);
  return {
    type: 'pdf',
    stages: names.map((name, i) => defineStage({ name, output: trivialOutput, run: async () => ({ i }) })),
    result: (_outputs, { payload }) => ({ documentId: payload.documentId, pages: 0, chunks: 0, tiles: 0, materials: 0, artifacts: [] }),
  };
}

const payload = (i: number) => ({ documentId: `d${i}`, source: { kind: 'file' as const, path: '/x.pdf' } });

/**
 * Waits until `total` jobs finished. `countFinished` counts them: BullMQ's counts for raw jobs;
 * the status rows for kai-jobs jobs (whose BullMQ copies are trimmed at 10,000 completed).
 */
async function waitForCompleted(countFinished: () => Promise<{ completed: number; failed: number }>, total: number): Promise<void> {
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    const counts = await countFinished();
    if (Date.now() > deadline) throw new Error(`not all jobs finished within 10 minutes: ${JSON.stringify(counts)}`);
    if (counts.completed + counts.failed >= total) {
      if (counts.failed > 0) throw new Error(`${counts.failed} jobs failed`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function measureRaw(redis: BenchRedis, prefix: string): Promise<ThroughputResult> {
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue(QUEUE, { connection, prefix: bullPrefix(prefix, QUEUE) });
  for (let i = 0; i < JOBS; i += 1000) {
    await queue.addBulk(Array.from({ length: Math.min(1000, JOBS - i) }, (_, k) => ({ name: 'pdf', data: payload(i + k) })));
  }
  await redis.resetStats();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const worker = new Worker(QUEUE, async () => undefined, { connection, prefix: bullPrefix(prefix, QUEUE), concurrency: CONCURRENCY });
  await waitForCompleted(async () => {
    const counts = await queue.getJobCounts('completed', 'failed');
    return { completed: counts['completed'] ?? 0, failed: counts['failed'] ?? 0 };
  }, JOBS);
  const seconds = (performance.now() - started) / 1000;
  const nodeCpuUsPerJob = cpuUsPerJob(cpuBefore);
  const stats = await redis.stats();
  await worker.close();
  await queue.close();
  await connection.quit();
  return { variant: 'raw BullMQ', jobsPerSecond: JOBS / seconds, commandsPerJob: stats.commands / JOBS, redisCpuUsPerJob: (stats.cpuSeconds * 1e6) / JOBS, nodeCpuUsPerJob, commandsPerJobByName: perJob(stats.byCommand) };
}

async function measureRuntime(redis: BenchRedis, prefix: string, stages: number): Promise<ThroughputResult> {
  const client = createJobClient({ redis: { url: redis.url, prefix } });
  for (let i = 0; i < JOBS; i += 1000) {
    await client.enqueueBulk('pdf', Array.from({ length: Math.min(1000, JOBS - i) }, (_, k) => ({ payload: payload(i + k) })));
  }
  await redis.resetStats();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const runtime = createWorkerRuntime({
    redis: { url: redis.url, prefix },
    jobs: [trivialJob(stages)],
    concurrency: { pdf: CONCURRENCY },
    cpuThreads: 1,
  });
  await runtime.start();
  const keys = statusKeys(prefix, 'pdf');
  await waitForCompleted(async () => ({
    completed: await redis.admin.zcard(keys.stateIndex('completed')),
    failed: await redis.admin.zcard(keys.stateIndex('failed')),
  }), JOBS);
  const seconds = (performance.now() - started) / 1000;
  const nodeCpuUsPerJob = cpuUsPerJob(cpuBefore);
  const stats = await redis.stats();
  await runtime.close();
  await client.close();
  return {
    variant: `kai-jobs, ${stages} stage${stages === 1 ? '' : 's'}`,
    jobsPerSecond: JOBS / seconds,
    commandsPerJob: stats.commands / JOBS,
    redisCpuUsPerJob: (stats.cpuSeconds * 1e6) / JOBS,
    nodeCpuUsPerJob,
    commandsPerJobByName: perJob(stats.byCommand),
  };
}

/** Enqueue throughput: enqueueBulk (status rows + jobs) against Queue.addBulk, batches of 1000. */
async function measureEnqueue(redis: BenchRedis, run: number): Promise<{ raw: number; kai: number }> {
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue(QUEUE, { connection, prefix: bullPrefix(`raw-enq${run}`, QUEUE) });
  let started = performance.now();
  for (let i = 0; i < JOBS; i += 1000) {
    await queue.addBulk(Array.from({ length: Math.min(1000, JOBS - i) }, (_, k) => ({ name: 'pdf', data: payload(i + k) })));
  }
  const raw = JOBS / ((performance.now() - started) / 1000);
  await queue.close();
  await connection.quit();
  const client = createJobClient({ redis: { url: redis.url, prefix: `kai-enq${run}` } });
  started = performance.now();
  for (let i = 0; i < JOBS; i += 1000) {
    await client.enqueueBulk('pdf', Array.from({ length: Math.min(1000, JOBS - i) }, (_, k) => ({ payload: payload(i + k) })));
  }
  const kai = JOBS / ((performance.now() - started) / 1000);
  await client.close();
  return { raw, kai };
}

/** Runs every variant `RUNS` times (interleaved) and returns medians. */
export async function runThroughputBench(): Promise<{
  results: ThroughputResult[];
  enqueue: { raw: number; kai: number };
  jobs: number;
  runs: number;
  concurrency: number;
}> {
  const redis = await startBenchRedis();
  try {
    const samples = new Map<string, ThroughputResult[]>();
    const enqueueSamples: { raw: number; kai: number }[] = [];
    for (let run = 0; run < RUNS; run++) {
      for (const measure of [
        ...(runs('raw') ? [() => measureRaw(redis, `raw${run}`)] : []),
        ...(runs('1') ? [() => measureRuntime(redis, `one${run}`, 1)] : []),
        ...(runs('5') ? [() => measureRuntime(redis, `five${run}`, 5)] : []),
      ]) {
        await redis.admin.flushall();
        const result = await measure();
        samples.set(result.variant, [...(samples.get(result.variant) ?? []), result]);
        process.stderr.write(`run ${run + 1}/${RUNS}: ${result.variant}: ${fmt(result.jobsPerSecond)} jobs/s, Node CPU ${fmt(result.nodeCpuUsPerJob, 0)} µs/job, ${fmt(result.commandsPerJob, 1)} commands/job ${JSON.stringify(result.commandsPerJobByName)}\n`);
      }
      await redis.admin.flushall();
      if (runs('enqueue')) enqueueSamples.push(await measureEnqueue(redis, run));
    }
    const results = [...samples.values()].map((list) => ({
      variant: (list[0] as ThroughputResult).variant,
      jobsPerSecond: median(list.map((r) => r.jobsPerSecond)),
      commandsPerJob: median(list.map((r) => r.commandsPerJob)),
      redisCpuUsPerJob: median(list.map((r) => r.redisCpuUsPerJob)),
      nodeCpuUsPerJob: median(list.map((r) => r.nodeCpuUsPerJob)),
      commandsPerJobByName: (list[0] as ThroughputResult).commandsPerJobByName,
    }));
    return {
      results,
      enqueue: enqueueSamples.length === 0 ? { raw: Number.NaN, kai: Number.NaN } : { raw: median(enqueueSamples.map((s) => s.raw)), kai: median(enqueueSamples.map((s) => s.kai)) },
      jobs: JOBS,
      runs: RUNS,
      concurrency: CONCURRENCY,
    };
  } finally {
    await redis.stop();
  }
}

/** Markdown table of a throughput run. */
export function throughputTable(bench: Awaited<ReturnType<typeof runThroughputBench>>): string {
  const raw = bench.results.find((r) => r.variant === 'raw BullMQ') ?? { jobsPerSecond: Number.NaN, redisCpuUsPerJob: Number.NaN, nodeCpuUsPerJob: Number.NaN };
  const lines = [
    `${fmt(bench.jobs)} jobs, concurrency ${bench.concurrency}, median of ${bench.runs} runs`,
    '',
    '| variant | jobs/s | × raw BullMQ | Redis commands/job | Redis CPU µs/job (× raw) | Node CPU µs/job (× raw) |',
    '|---|---:|---:|---:|---:|---:|',
    ...bench.results.map(
      (r) =>
        `| ${r.variant} | ${fmt(r.jobsPerSecond)} | ${fmt(r.jobsPerSecond / raw.jobsPerSecond, 2)} | ${fmt(r.commandsPerJob, 1)} | ${fmt(r.redisCpuUsPerJob, 1)} (${fmt(r.redisCpuUsPerJob / raw.redisCpuUsPerJob, 1)}) | ${fmt(r.nodeCpuUsPerJob, 0)} (${fmt(r.nodeCpuUsPerJob / raw.nodeCpuUsPerJob, 1)}) |`,
    ),
    '',
    `Enqueue (batches of 1000): Queue.addBulk ${fmt(bench.enqueue.raw)} jobs/s, enqueueBulk ${fmt(bench.enqueue.kai)} jobs/s (× ${fmt(bench.enqueue.kai / bench.enqueue.raw, 2)})`,
  ];
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const bench = await runThroughputBench();
  process.stdout.write(`${throughputTable(bench)}\n`);
  process.stdout.write(`${JSON.stringify({ bench: 'runtime-throughput', ...bench })}\n`);
}
