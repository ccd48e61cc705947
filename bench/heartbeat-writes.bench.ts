/**
 * Heartbeat writes per interval against active jobs per process: N jobs held active in one
 * worker process; counts the runtime's heartbeat commands and BullMQ's lock-renewal commands
 * over several intervals on a private Redis.
 * Run: pnpm tsx bench/heartbeat-writes.bench.ts [--sizes=10,100,1000] [--intervals=5]
 */
import { createJobClient, statusKeys } from '@kai-jobs/queue';
import { createWorkerRuntime } from '@kai-jobs/workers';
import { startBenchRedis } from './lib/redis-server.js';
import { arg, fmt } from './lib/stats.js';
import { benchPayload, emitJson, trivialJob, untilAborted } from './lib/trivial-jobs.js';

const SIZES = (process.argv.find((a) => a.startsWith('--sizes='))?.split('=')[1] ?? '10,100,1000').split(',').map(Number);
const INTERVALS = arg('intervals', 5);
const HEARTBEAT_MS = 500;
const LOCK_MS = 2000;

const rows: { activeJobs: number; beats: number; heartbeatCommandsPerBeat: number; jobsPerCommand: number; lockRenewalsPerInterval: number }[] = [];
for (const size of SIZES) {
  const redis = await startBenchRedis();
  const prefix = `hb${size}`;
  const client = createJobClient({ redis: { url: redis.url, prefix } });
  const runtime = createWorkerRuntime({
    redis: { url: redis.url, prefix },
    jobs: [trivialJob(1, { onStage: async (ctx) => untilAborted(ctx.signal) })],
    concurrency: { pdf: size },
    heartbeatIntervalMs: HEARTBEAT_MS,
    lockDurationMs: LOCK_MS,
    stalledIntervalMs: LOCK_MS,
    cpuThreads: 1,
  });
  await runtime.start();
  for (let i = 0; i < size; i += 1000) {
    await client.enqueueBulk('pdf', Array.from({ length: Math.min(1000, size - i) }, (_, k) => ({ payload: benchPayload(i + k) })));
  }
  while (runtime.activeJobIds().length < size) await new Promise((resolve) => setTimeout(resolve, 50));
  const heartbeatIndex = statusKeys(prefix, 'pdf').heartbeatIndex;
  let heartbeatCommands = 0;
  let jobsWritten = 0;
  const connection = runtime.redis;
  const original = connection.sendCommand.bind(connection);
  connection.sendCommand = ((command: { name: string; args: unknown[] }, ...rest: unknown[]) => {
    if (command.name === 'evalsha' && command.args[2] === heartbeatIndex) heartbeatCommands++;
    return (original as (...args: unknown[]) => unknown)(command, ...rest);
  }) as typeof connection.sendCommand;
  let beats = 0;
  // Count heartbeats only once one of their commands has been seen (the window's first
  // heartbeat may have been sent before the counter was installed).
  const off = runtime.on('heartbeat:written', ({ jobs }) => {
    if (heartbeatCommands === 0) return;
    beats++;
    jobsWritten += jobs;
  });
  await redis.resetStats();
  await new Promise((resolve) => setTimeout(resolve, HEARTBEAT_MS * INTERVALS + HEARTBEAT_MS / 2));
  off();
  const stats = await redis.stats();
  const renewals = Object.entries(stats.byCommand)
    .filter(([name]) => name === 'evalsha')
    .reduce((sum, [, calls]) => sum + calls, 0) - heartbeatCommands;
  rows.push({
    activeJobs: size,
    beats,
    heartbeatCommandsPerBeat: beats === 0 ? 0 : heartbeatCommands / beats,
    jobsPerCommand: heartbeatCommands === 0 ? 0 : jobsWritten / heartbeatCommands,
    lockRenewalsPerInterval: (renewals / (HEARTBEAT_MS * INTERVALS)) * HEARTBEAT_MS,
  });
  process.stderr.write(`${size} active: ${heartbeatCommands} heartbeat commands for ${beats} heartbeats\n`);
  await runtime.close();
  await client.close();
  await redis.stop();
}
process.stdout.write(
  [
    `Heartbeat writes, interval ${HEARTBEAT_MS} ms, about ${INTERVALS} intervals (BullMQ lock ${LOCK_MS} ms, renewed every ${LOCK_MS / 2} ms):`,
    '',
    '| active jobs in the process | heartbeats | Redis commands per heartbeat | jobs per command | other scripts per interval (BullMQ lock renewal) |',
    '|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${fmt(r.activeJobs)} | ${r.beats} | ${fmt(r.heartbeatCommandsPerBeat, 2)} | ${fmt(r.jobsPerCommand)} | ${fmt(r.lockRenewalsPerInterval, 2)} |`),
    '',
  ].join('\n'),
);
emitJson('heartbeat-writes', { intervalMs: HEARTBEAT_MS, rows });
