/**
 * Hung-job detection time against the update timeout and the check interval: a job whose
 * second stage awaits forever, a monitor ticking on its schedule; measured from the job's
 * last status update (store clock) to the monitor's restart (store clock).
 * Run: pnpm tsx bench/hung-detection.bench.ts [--runs=10] [--update-timeout-ms=2000] [--interval-ms=1000]
 */
import { Alerter, createMonitor } from '@kai-jobs/monitor';
import { createJobClient, RedisJobStore } from '@kai-jobs/queue';
import { createWorkerRuntime } from '@kai-jobs/workers';
import { Redis } from 'ioredis';
import { startBenchRedis } from './lib/redis-server.js';
import { arg, fmt, median } from './lib/stats.js';
import { benchPayload, emitJson, trivialJob, untilAborted } from './lib/trivial-jobs.js';

const RUNS = arg('runs', 10);
const UPDATE_TIMEOUT_MS = arg('update-timeout-ms', 2000);
const INTERVAL_MS = arg('interval-ms', 1000);

const redis = await startBenchRedis();
const prefix = 'hung';
const admin = new Redis(redis.url);
const store = new RedisJobStore({ connection: admin, prefix });
const client = createJobClient({ redis: { url: redis.url, prefix } });
const runtime = createWorkerRuntime({
  redis: { url: redis.url, prefix },
  // Stage 2 hangs on the first run only; after the monitor's restart it goes through.
  jobs: [trivialJob(5, { onStage: async (ctx, index) => (index === 1 && ctx.attempt === 1 ? untilAborted(ctx.signal) : undefined) })],
  concurrency: { pdf: 10 },
  heartbeatIntervalMs: 500,
  cpuThreads: 1,
  backoff: { baseMs: 10, capMs: 10 },
});
const monitor = createMonitor({ redis: { url: redis.url, prefix }, checkIntervalMs: INTERVAL_MS, alerter: new Alerter(), backoff: { baseMs: 10, capMs: 10 } });
await runtime.start();
await monitor.start();

const detections: number[] = [];
for (let run = 0; run < RUNS; run++) {
  const { id } = await client.enqueue('pdf', benchPayload(run), { thresholds: { updateTimeoutMs: UPDATE_TIMEOUT_MS } });
  let restartedAt: number;
  let lastUpdate = 0;
  for (;;) {
    const row = await store.get(id);
    if (row !== null && row.restartCount === 0 && row.status === 'processing') lastUpdate = row.updatedAt;
    const restarted = (await store.history(id)).find((entry) => entry.event === 'recovery:restarted');
    if (restarted !== undefined) {
      restartedAt = restarted.at;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await client.waitForResult(id, { timeoutMs: 30_000 });
  detections.push(restartedAt - lastUpdate);
  process.stderr.write(`run ${run + 1}: detected after ${restartedAt - lastUpdate} ms\n`);
}
await monitor.close();
await runtime.close();
await client.close();
await admin.quit();
await redis.stop();

const bound = UPDATE_TIMEOUT_MS + INTERVAL_MS;
const result = { runs: RUNS, updateTimeoutMs: UPDATE_TIMEOUT_MS, intervalMs: INTERVAL_MS, medianMs: median(detections), maxMs: Math.max(...detections), boundMs: bound };
process.stdout.write(
  `Hung-job detection (update timeout ${fmt(UPDATE_TIMEOUT_MS)} ms, check interval ${fmt(INTERVAL_MS)} ms, ${RUNS} runs): ` +
    `median ${fmt(result.medianMs)} ms, max ${fmt(result.maxMs)} ms; target ≤ timeout + interval = ${fmt(bound)} ms: ${result.maxMs <= bound ? 'met' : 'missed'}\n`,
);
emitJson('hung-detection', result);
