/**
 * Worker RSS over 100,000 jobs: a worker process (the runtime with 1 trivial stage, or a raw
 * BullMQ no-op worker) processes the jobs; RSS is sampled after the first 10,000 (warm) and at
 * the end, after a GC.
 * Run: pnpm tsx bench/worker-rss.bench.ts [--jobs=100000]
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { bullPrefix, createJobClient } from '@kai-jobs/queue';
import { createWorkerRuntime } from '@kai-jobs/workers';
import { startBenchRedis } from './lib/redis-server.js';
import { arg, fmt } from './lib/stats.js';
import { benchPayload, emitJson, trivialJob } from './lib/trivial-jobs.js';

const JOBS = arg('jobs', 100_000);
const WARM = Math.min(10_000, Math.floor(JOBS / 10));
const MiB = 1024 * 1024;

/** Child mode: process jobs until `total` are done, report RSS at `warm` and at the end. */
async function child(mode: string, url: string, prefix: string, total: number, warm: number): Promise<void> {
  const admin = new Redis(url);
  let rssWarm = 0;
  const done = async (count: () => Promise<number>): Promise<void> => {
    for (;;) {
      const finished = await count();
      if (rssWarm === 0 && finished >= warm) {
        global.gc?.();
        rssWarm = process.memoryUsage().rss;
      }
      if (finished >= total) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  if (mode === 'raw') {
    const connection = new Redis(url, { maxRetriesPerRequest: null });
    const worker = new Worker('pdf-processing', async () => undefined, { connection, prefix: bullPrefix(prefix, 'pdf-processing'), concurrency: 50, removeOnComplete: { count: 1000 } });
    let finished = 0;
    worker.on('completed', () => finished++);
    await done(async () => finished);
    global.gc?.();
    process.stdout.write(`${JSON.stringify({ rssWarm, rssEnd: process.memoryUsage().rss })}\n`);
    await worker.close();
    await connection.quit();
  } else {
    const runtime = createWorkerRuntime({ redis: { url, prefix }, jobs: [trivialJob(1)], concurrency: { pdf: 50 }, cpuThreads: 1 });
    let finished = 0;
    runtime.on('job:completed', () => finished++);
    await runtime.start();
    await done(async () => finished);
    global.gc?.();
    process.stdout.write(`${JSON.stringify({ rssWarm, rssEnd: process.memoryUsage().rss })}\n`);
    await runtime.close();
  }
  await admin.quit();
}

if (process.argv[2] === '--child') {
  const [, , , mode, url, prefix, total, warm] = process.argv;
  await child(mode as string, url as string, prefix as string, Number(total), Number(warm));
  process.exit(0);
}

const redis = await startBenchRedis();
const results: Record<string, { rssWarm: number; rssEnd: number; growthMiB: number }> = {};
for (const mode of ['raw', 'kai']) {
  const prefix = `rss-${mode}`;
  await redis.admin.flushall();
  if (mode === 'raw') {
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue('pdf-processing', { connection, prefix: bullPrefix(prefix, 'pdf-processing') });
    for (let i = 0; i < JOBS; i += 1000) await queue.addBulk(Array.from({ length: Math.min(1000, JOBS - i) }, (_, k) => ({ name: 'pdf', data: benchPayload(i + k) })));
    await queue.close();
    // A connection handed to a Queue is the caller's to close: left open, it would keep
    // reconnecting to the stopped redis-server and the benchmark would never exit.
    await connection.quit();
  } else {
    const client = createJobClient({ redis: { url: redis.url, prefix } });
    for (let i = 0; i < JOBS; i += 1000) await client.enqueueBulk('pdf', Array.from({ length: Math.min(1000, JOBS - i) }, (_, k) => ({ payload: benchPayload(i + k) })));
    await client.close();
  }
  const output = await new Promise<string>((resolve, reject) => {
    const proc = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--child', mode, redis.url, prefix, String(JOBS), String(WARM)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    proc.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`child exited ${code}`))));
  });
  const line = output.trim().split('\n').at(-1) as string;
  const { rssWarm, rssEnd } = JSON.parse(line) as { rssWarm: number; rssEnd: number };
  results[mode] = { rssWarm, rssEnd, growthMiB: (rssEnd - rssWarm) / MiB };
  process.stderr.write(`${mode}: RSS ${fmt(rssWarm / MiB, 1)} → ${fmt(rssEnd / MiB, 1)} MiB\n`);
}
await redis.stop();
const kai = results['kai'] as { rssWarm: number; rssEnd: number; growthMiB: number };
const raw = results['raw'] as { rssWarm: number; rssEnd: number; growthMiB: number };
process.stdout.write(
  [
    `Worker RSS over ${fmt(JOBS)} jobs (sampled after ${fmt(WARM)} and at the end, after a GC):`,
    '',
    '| worker | RSS after warm-up MiB | RSS at the end MiB | growth MiB |',
    '|---|---:|---:|---:|',
    `| raw BullMQ no-op | ${fmt(raw.rssWarm / MiB, 1)} | ${fmt(raw.rssEnd / MiB, 1)} | ${fmt(raw.growthMiB, 1)} |`,
    `| kai-jobs runtime, 1 stage | ${fmt(kai.rssWarm / MiB, 1)} | ${fmt(kai.rssEnd / MiB, 1)} | ${fmt(kai.growthMiB, 1)} |`,
    '',
    `Target: growth under 20 MB: ${kai.growthMiB * 1.048576 < 20 ? 'met' : 'missed'}.`,
    '',
  ].join('\n'),
);
emitJson('worker-rss', { jobs: JOBS, warmAfter: WARM, raw, kai });
