/**
 * Status writes with the Supabase store against the Redis store, heartbeats of 1,000 running
 * jobs as one RPC, and a job's checkpoint saves (5 stages: 4 saves with the status progress and
 * the last save with the completion) with the Supabase checkpoint store against the Redis one.
 *
 *   pnpm tsx bench/supabase-status.bench.ts [--jobs=200] [--concurrency=16] [--rounds=20] [--checkpoint-bytes=2048]
 *
 * Needs Redis (REDIS_URL, default redis://127.0.0.1:6379) and PostgreSQL (DATABASE_URL, default
 * postgres://postgres@127.0.0.1:5432/test). The Supabase store talks through the real supabase-js
 * client, over loopback HTTP, to the PostgREST-compatible test endpoint running in this same
 * process, into a fresh migrated schema (dropped at the end). Against a hosted project, add the
 * network round trip (typically 1–30 ms) to every Supabase figure.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisJobStore, SupabaseJobStore, type JobStore, type StatusStore } from '@kai-jobs/queue';
import { deleteKeys, startSupabaseTestStack, testRedisUrl } from '@kai-jobs/queue/testing';

const args = new Map(
  process.argv.slice(2).map((arg) => {
    const [key, value] = arg.replace(/^--/, '').split('=');
    return [key as string, Number(value)];
  }),
);
const JOBS = args.get('jobs') ?? 200;
const CONCURRENCY = args.get('concurrency') ?? 16;
const ROUNDS = args.get('rounds') ?? 20;
const CHECKPOINT_BYTES = args.get('checkpoint-bytes') ?? 2048;
const ACTIVE = 1000;
const STAGES = ['pdf_loaded', 'text_extracted', 'tiles_generated', 'embeddings_created', 'materials_extracted'];
const WRITES_PER_JOB = 8; // create, markProcessing, progress × 5, complete

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** One job's status writes, as a worker makes them. */
async function lifecycle(store: StatusStore): Promise<void> {
  const id = randomUUID();
  const fence = `f-${id}`;
  await store.create({ id, type: 'pdf', payload: { documentId: id, source: { kind: 'file', path: '/x.pdf' } }, refs: { documentId: id } });
  await store.markProcessing(id, { fence, workerId: 'bench', stage: 'pdf_loaded' });
  for (let step = 1; step <= 5; step++) {
    await store.progress(id, fence, { percent: step * 20, stage: 'text_extracted', detail: `page ${step} of 5`, counters: { total_pages: 5, completed_pages: step } });
  }
  await store.complete(id, fence, { pages: 5 });
}

async function sequential(store: StatusStore, jobs: number): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < jobs; i++) {
    const started = performance.now();
    await lifecycle(store);
    latencies.push(performance.now() - started);
  }
  return latencies;
}

async function concurrent(store: StatusStore, jobs: number, concurrency: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < jobs) {
        next++;
        await lifecycle(store);
      }
    }),
  );
  return performance.now() - started;
}

async function heartbeats(store: StatusStore, rounds: number): Promise<number[]> {
  const inputs = Array.from({ length: ACTIVE }, () => ({ id: randomUUID(), type: 'pdf' as const, payload: {} }));
  await store.createMany(inputs);
  for (let i = 0; i < inputs.length; i += 50) {
    await Promise.all(inputs.slice(i, i + 50).map((input) => store.markProcessing(input.id, { fence: `f-${input.id}`, workerId: 'bench' })));
  }
  const entries = inputs.map((input) => ({ id: input.id, type: 'pdf' as const, fence: `f-${input.id}` }));
  const times: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    const { rejected } = await store.heartbeat(entries);
    times.push(performance.now() - started);
    if (rejected.length > 0) throw new Error(`${rejected.length} heartbeats rejected`);
  }
  return times;
}

/** A stage output of about CHECKPOINT_BYTES of JSON (keys and hashes of artifacts, counts). */
function stageOutput(stage: string, index: number): unknown {
  const artifacts = Math.max(1, Math.round(CHECKPOINT_BYTES / 110));
  return {
    stage,
    index,
    artifacts: Array.from({ length: artifacts }, (_, n) => ({ key: `doc/${stage}/part-${n}.bin`, sha256: 'ab'.repeat(32).slice(0, 40) })),
  };
}

/** One job's checkpoint writes as the runtime makes them: a save per stage, the last one with the completion. */
async function checkpointLifecycle(status: StatusStore, checkpoints: JobStore): Promise<number> {
  const id = randomUUID();
  const fence = `f-${id}`;
  const job = { id, type: 'pdf' as const };
  await status.create({ id, type: 'pdf', payload: { documentId: id, source: { kind: 'file', path: '/x.pdf' } } });
  await status.markProcessing(id, { fence, workerId: 'bench', stage: STAGES[0] as string });
  const started = performance.now();
  for (const [index, stage] of STAGES.entries()) {
    const input = { stage, stageIndex: index, data: stageOutput(stage, index), fence, schemaVersion: 1, attempt: 1 };
    if (index < STAGES.length - 1) {
      await checkpoints.saveCheckpoint(job, { ...input, progress: { nextStage: STAGES[index + 1] as string, percent: (index + 1) * 20 } });
    } else {
      await checkpoints.completeWithCheckpoint(job, input, { pages: 5 });
    }
  }
  return performance.now() - started;
}

interface CheckpointFigures {
  perJobMedianMs: number;
  perJobP95Ms: number;
  perSaveMedianMs: number;
  jobsPerSecond: number;
}

async function measureCheckpoints(status: StatusStore, checkpoints: JobStore): Promise<CheckpointFigures> {
  for (let i = 0; i < 20; i++) await checkpointLifecycle(status, checkpoints); // warm-up
  const latencies: number[] = [];
  for (let i = 0; i < JOBS; i++) latencies.push(await checkpointLifecycle(status, checkpoints));
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < JOBS) {
        next++;
        await checkpointLifecycle(status, checkpoints);
      }
    }),
  );
  return {
    perJobMedianMs: percentile(latencies, 50),
    perJobP95Ms: percentile(latencies, 95),
    perSaveMedianMs: percentile(latencies, 50) / STAGES.length,
    // Wall clock of the whole lifecycle (create and claim included), CONCURRENCY jobs at a time.
    jobsPerSecond: (JOBS / (performance.now() - started)) * 1000,
  };
}

interface Figures {
  perJobMedianMs: number;
  perJobP95Ms: number;
  writeMedianMs: number;
  jobsPerSecond: number;
  heartbeatMedianMs: number;
  heartbeatP95Ms: number;
}

async function measure(store: StatusStore): Promise<Figures> {
  await sequential(store, 20); // warm-up: connections, plans, JIT
  const latencies = await sequential(store, JOBS);
  const concurrentMs = await concurrent(store, JOBS, CONCURRENCY);
  const beats = await heartbeats(store, ROUNDS);
  return {
    perJobMedianMs: percentile(latencies, 50),
    perJobP95Ms: percentile(latencies, 95),
    writeMedianMs: percentile(latencies, 50) / WRITES_PER_JOB,
    jobsPerSecond: (JOBS / concurrentMs) * 1000,
    heartbeatMedianMs: percentile(beats, 50),
    heartbeatP95Ms: percentile(beats, 95),
  };
}

const redis = new Redis(testRedisUrl());
const prefix = `kb:supabase-bench:${randomUUID().slice(0, 8)}`;
const stack = await startSupabaseTestStack({ schemaPrefix: 'kb' });
try {
  const schema = await stack.createSchema('bench');
  const supabase = new SupabaseJobStore({ url: stack.url, serviceRoleKey: stack.serviceRoleKey, schema });
  const redisStore = new RedisJobStore({ connection: redis, prefix });

  const redisFigures = await measure(redisStore);
  const callsBefore = stack.endpoint.calls.length;
  const supabaseFigures = await measure(supabase);
  const heartbeatCalls = stack.endpoint.calls.slice(callsBefore).filter((call) => call.fn === 'kai_heartbeat').length;

  const redisCheckpointFigures = await measureCheckpoints(redisStore, redisStore);
  const checkpointCallsBefore = stack.endpoint.calls.length;
  const supabaseCheckpointFigures = await measureCheckpoints(supabase, supabase);
  const checkpointCalls = stack.endpoint.calls
    .slice(checkpointCallsBefore)
    .filter((call) => call.fn === 'kai_save_checkpoint' || call.fn === 'kai_save_checkpoint_and_complete').length;
  await supabase.close();

  const row = (label: string, key: keyof Figures, digits = 2) => {
    const r = redisFigures[key];
    const s = supabaseFigures[key];
    const ratio = key === 'jobsPerSecond' ? r / s : s / r;
    console.log(`| ${label.padEnd(44)} | ${r.toFixed(digits).padStart(9)} | ${s.toFixed(digits).padStart(9)} | ${ratio.toFixed(1).padStart(5)}× |`);
  };
  console.log(`\n${JOBS} jobs sequentially and with concurrency ${CONCURRENCY}; heartbeats of ${ACTIVE} running jobs, ${ROUNDS} rounds.\n`);
  console.log(`| ${'measure'.padEnd(44)} | ${'Redis'.padStart(9)} | ${'Supabase'.padStart(9)} | ratio  |`);
  console.log(`|${'-'.repeat(46)}|${'-'.repeat(11)}|${'-'.repeat(11)}|--------|`);
  row(`one job's ${WRITES_PER_JOB} status writes, median (ms)`, 'perJobMedianMs');
  row(`one job's ${WRITES_PER_JOB} status writes, p95 (ms)`, 'perJobP95Ms');
  row('one status write, median (ms)', 'writeMedianMs', 3);
  row(`jobs per second, ${CONCURRENCY} at a time`, 'jobsPerSecond', 0);
  row(`heartbeat of ${ACTIVE} jobs, median (ms)`, 'heartbeatMedianMs');
  row(`heartbeat of ${ACTIVE} jobs, p95 (ms)`, 'heartbeatP95Ms');
  console.log(`\nSupabase heartbeat RPCs for ${ROUNDS} rounds of ${ACTIVE} jobs: ${heartbeatCalls} (one per round).`);

  const checkpointRow = (label: string, key: keyof CheckpointFigures, digits = 2) => {
    const r = redisCheckpointFigures[key];
    const s = supabaseCheckpointFigures[key];
    const ratio = key === 'jobsPerSecond' ? r / s : s / r;
    console.log(`| ${label.padEnd(44)} | ${r.toFixed(digits).padStart(9)} | ${s.toFixed(digits).padStart(9)} | ${ratio.toFixed(1).padStart(5)}× |`);
  };
  console.log(`\nCheckpoint saves of one job: ${STAGES.length} stages, ~${CHECKPOINT_BYTES} bytes each (4 saves with progress, the last with the completion).\n`);
  console.log(`| ${'measure'.padEnd(44)} | ${'Redis'.padStart(9)} | ${'Supabase'.padStart(9)} | ratio  |`);
  console.log(`|${'-'.repeat(46)}|${'-'.repeat(11)}|${'-'.repeat(11)}|--------|`);
  checkpointRow(`one job's ${STAGES.length} checkpoint saves, median (ms)`, 'perJobMedianMs');
  checkpointRow(`one job's ${STAGES.length} checkpoint saves, p95 (ms)`, 'perJobP95Ms');
  checkpointRow('one checkpoint save, median (ms)', 'perSaveMedianMs', 3);
  checkpointRow(`jobs/s (claim + 5 saves), ${CONCURRENCY} at a time`, 'jobsPerSecond', 0);
  console.log(`\nSupabase checkpoint RPCs for ${20 + 2 * JOBS} jobs: ${checkpointCalls} (one per stage: ${(20 + 2 * JOBS) * STAGES.length}).`);
} finally {
  await stack.close();
  await deleteKeys(redis, prefix);
  await redis.quit();
}
