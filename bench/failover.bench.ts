/**
 * Crash-to-resume time: `kill -9` of a worker process in the middle of stage 3 of the
 * synthetic five-stage job → stage 3 starting on another worker process. With the failover
 * watcher on (its defaults: 1.5 s grace, 1 s checks) and off (BullMQ's lock expiry and stall
 * check alone), at the default 30 s lock and 30 s stall interval, on a private redis-server.
 *
 * Each round spawns one new worker process and kills the one holding the job, so every kill
 * is a real process death with its connections closed by the OS. With failover off a kill
 * waits 15–60 s, so that part runs fewer kills by default.
 *
 * Run: pnpm tsx bench/failover.bench.ts [--kills=20] [--off-kills=5] [--off-lock-ms=30000]
 */
import { Redis } from 'ioredis';
import { createJobClient, createLogger, type JobClient } from '@kai-jobs/queue';
import { waitFor } from '@kai-jobs/queue/testing';
import { FailoverWatcher } from '@kai-jobs/monitor';
import { readRuns } from '../packages/workers/test/fixtures/synthetic-hooks.js';
import { startWorkerProcess, stopWorkerProcess, type WorkerProcess } from '../packages/workers/test/fixtures/worker-process.js';
import { startBenchRedis, type BenchRedis } from './lib/redis-server.js';
import { arg, fmt, median } from './lib/stats.js';

const KILLS = arg('kills', 20);
const OFF_KILLS = arg('off-kills', 5);
const OFF_LOCK_MS = arg('off-lock-ms', 30_000);
const ON_LOCK_MS = 30_000;

/** One kill and what followed. */
interface KillSample {
  /** kill -9 → stage 3 of the job started on the next process (ms). */
  resumeMs: number;
  /** kill -9 → the watcher handed the job back (ms); null with failover off. */
  handBackMs: number | null;
  /** Stage runs of the job beyond its five (the interrupted stage 3 runs again: 1 expected). */
  stagesRerun: number;
  /** Runs of stages 1–2 (finished before the kill) after the kill: 0 expected. */
  finishedStagesRerun: number;
}

/** Figures of one mode. */
interface ModeResult {
  mode: string;
  lockMs: number;
  kills: number;
  samples: KillSample[];
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

async function measureMode(redis: BenchRedis, mode: 'on' | 'off', kills: number, lockMs: number): Promise<ModeResult> {
  const prefix = `bench-failover-${mode}-${Date.now()}`;
  const admin = new Redis(redis.url);
  const jobs: JobClient = createJobClient({ redis: { url: redis.url, prefix }, waitPollIntervalMs: 25 });
  const handedBackAt = new Map<string, number>();
  const watcher =
    mode === 'on'
      ? new FailoverWatcher({ redis: { url: redis.url, prefix }, logger: createLogger({ level: 'error', base: { service: 'bench' } }) })
      : undefined;
  watcher?.on('job:failed-over', ({ jobId }) => handedBackAt.set(jobId, Date.now()));
  await watcher?.start();

  const env = { REDIS_URL: redis.url, LOCK_DURATION_MS: String(lockMs), STALLED_INTERVAL_MS: String(lockMs) };
  let serial = 0;
  const spawnWorker = (): Promise<WorkerProcess> => startWorkerProcess({ prefix, workerId: `bench-${mode}-${serial++}`, env });
  const samples: KillSample[] = [];
  let holder = await spawnWorker();
  try {
    for (let round = 0; round < kills; round++) {
      // The only live process takes the job and holds it in stage 3 (attempt 1 only).
      const { id } = await jobs.enqueue('pdf', { documentId: `hold:tiles_generated;round:${round}`, source: { kind: 'file', path: '/x.pdf' } });
      await waitFor(async () => (await readRuns(admin, prefix)).some((run) => run.jobId === id && run.stage === 'tiles_generated'), {
        timeoutMs: 30_000,
      });
      const next = await spawnWorker();
      const killedAt = Date.now();
      holder.kill('SIGKILL');
      await holder.exited;
      await waitFor(async () => (await readRuns(admin, prefix)).some((run) => run.jobId === id && run.workerId === next.workerId), {
        timeoutMs: lockMs * 3,
        intervalMs: 10,
      });
      const resumed = (await readRuns(admin, prefix)).find((run) => run.jobId === id && run.workerId === next.workerId);
      if (resumed?.stage !== 'tiles_generated') throw new Error(`round ${round}: resumed at ${resumed?.stage}, not stage 3`);
      const handBack = handedBackAt.get(id);
      await jobs.waitForResult(id, { timeoutMs: 30_000 });
      const runsOfJob = (await readRuns(admin, prefix)).filter((run) => run.jobId === id);
      samples.push({
        resumeMs: (resumed.at as number) - killedAt,
        handBackMs: handBack === undefined ? null : handBack - killedAt,
        stagesRerun: runsOfJob.length - 5,
        finishedStagesRerun: runsOfJob.filter((run) => (run.stage === 'pdf_loaded' || run.stage === 'text_extracted') && run.workerId !== runsOfJob[0]?.workerId).length,
      });
      process.stdout.write(`  ${mode} kill ${round + 1}/${kills}: resumed after ${fmt(samples.at(-1)?.resumeMs ?? 0)} ms\n`);
      holder = next;
    }
  } finally {
    await stopWorkerProcess(holder);
    await watcher?.stop();
    await jobs.close();
    await admin.quit();
  }
  return { mode: mode === 'on' ? 'failover on' : 'failover off', lockMs, kills, samples };
}

function row(result: ModeResult): string {
  const resume = result.samples.map((sample) => sample.resumeMs);
  const handBacks = result.samples.map((sample) => sample.handBackMs).filter((ms): ms is number => ms !== null);
  const cells = [
    result.mode,
    `${fmt(result.lockMs / 1000)} s`,
    String(result.kills),
    fmt(median(resume)),
    fmt(percentile(resume, 90)),
    fmt(Math.max(...resume)),
    fmt(Math.min(...resume)),
    handBacks.length > 0 ? fmt(median(handBacks)) : '—',
    fmt(result.samples.reduce((sum, sample) => sum + sample.stagesRerun, 0) / result.samples.length, 1),
    String(result.samples.reduce((sum, sample) => sum + sample.finishedStagesRerun, 0)),
  ];
  return `| ${cells.join(' | ')} |`;
}

const redis = await startBenchRedis();
try {
  console.log(`failover benchmark: ${KILLS} kills with failover on, ${OFF_KILLS} with it off (lock ${OFF_LOCK_MS} ms)`);
  const on = await measureMode(redis, 'on', KILLS, ON_LOCK_MS);
  const off = OFF_KILLS > 0 ? await measureMode(redis, 'off', OFF_KILLS, OFF_LOCK_MS) : undefined;
  console.log('\n| mode | lock = stall interval | kills | median resume ms | p90 ms | max ms | min ms | median hand-back ms | stages re-run per crash | finished stages re-run |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  console.log(row(on));
  if (off !== undefined) console.log(row(off));
  const onMedian = median(on.samples.map((sample) => sample.resumeMs));
  console.log(`\ntarget median ≤ 2000 ms with failover on: ${onMedian <= 2000 ? 'met' : 'MISSED'} (${fmt(onMedian)} ms)`);
  for (const result of off === undefined ? [on] : [on, off]) {
    // The bound without failover: the lock must expire and the next stall check run.
    const bound = result.lockMs * 2 + 1000;
    const worst = Math.max(...result.samples.map((sample) => sample.resumeMs));
    const rerun = result.samples.reduce((sum, sample) => sum + sample.finishedStagesRerun, 0);
    console.log(
      `target ${result.mode}: every resume ≤ lock + stall interval + 1 s (${fmt(bound)} ms) with no finished stage re-run: ` +
        `${worst <= bound && rerun === 0 ? 'met' : 'MISSED'} (max ${fmt(worst)} ms, ${rerun} finished stages re-run)`,
    );
  }
  if (off !== undefined) {
    console.log(`speed-up of the median: ${fmt(median(off.samples.map((s) => s.resumeMs)) / onMedian, 1)}×`);
  }
} finally {
  await redis.stop();
}
