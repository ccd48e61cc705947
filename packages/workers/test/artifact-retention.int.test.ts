/**
 * Disk stays flat: a soak in miniature. Rounds of real xml-import jobs run through a real
 * runtime on real Redis, each writing its feed and parts as artifacts; with the artifact sweep
 * the folder's bytes after every round stay bounded by one round's worth instead of growing
 * with the number of jobs (without it they grow: the control run shows the test can fail).
 * Also: the sweep's timer, orphans after a row expired, and the store retention wired through
 * the runtime (the Redis row's TTL).
 */
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createJobClient, statusKeys, type JobClient } from '@kai-jobs/queue';
import { useRedisTestContext, waitFor } from '@kai-jobs/queue/testing';
import {
  createWorkerRuntime,
  createXmlImportJob,
  defaultArtifactsDir,
  RedisProductStore,
  type ArtifactSweepOptions,
  type StagedJobDefinition,
  type WorkerRuntime,
  type WorkerRuntimeOptions,
} from '../src/index.js';
import { feedText, PRODUCT_MAPPING, tempDir } from './jobs/xml-import/fixtures/feeds.js';

const ctx = useRedisTestContext(import.meta.url);
const FEED = Buffer.from(feedText(150)).toString('base64');
const ROUNDS = 5;
const JOBS_PER_ROUND = 6;

let runtime: WorkerRuntime | undefined;

afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

function client(): JobClient {
  return ctx.manage('client', createJobClient({ redis: ctx.redisOptions, waitPollIntervalMs: 25 }));
}

async function startRuntime(options: Partial<WorkerRuntimeOptions> & { artifactSweep: false | ArtifactSweepOptions }): Promise<WorkerRuntime> {
  runtime = createWorkerRuntime({
    redis: ctx.redisOptions,
    jobs: [createXmlImportJob({ productStore: new RedisProductStore({ connection: ctx.redis, prefix: ctx.prefix }) }) as StagedJobDefinition],
    concurrency: { 'xml-import': 3 },
    cpuThreads: 1,
    heartbeatIntervalMs: 500,
    progressThrottleMs: 50,
    ...options,
  });
  await runtime.start();
  return runtime;
}

/** Bytes of every file under `dir`. */
function bytesUnder(dir: string): number {
  let total = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? bytesUnder(path) : statSync(path).size;
  }
  return total;
}

/** Runs ROUNDS rounds of JOBS_PER_ROUND imports; after each, sweeps (when on) and measures the folder. */
async function soak(dir: string, sweep: boolean): Promise<{ afterRound: number[]; perJob: number }> {
  const jobs = client();
  const afterRound: number[] = [];
  let perJob = 0;
  for (let round = 0; round < ROUNDS; round += 1) {
    const ids = await Promise.all(
      Array.from({ length: JOBS_PER_ROUND }, async (_, index) => {
        const { id } = await jobs.enqueue('xml-import', { importJobId: `imp-${round}-${index}`, sourceName: 'soak', source: { kind: 'inline', base64: FEED }, fieldMapping: PRODUCT_MAPPING });
        return id;
      }),
    );
    for (const id of ids) expect(await jobs.waitForResult<'xml-import'>(id, { timeoutMs: 60_000 })).toMatchObject({ processedProducts: 150 });
    if (round === 0) perJob = bytesUnder(dir) / JOBS_PER_ROUND;
    if (sweep) expect(await runtime!.sweepArtifacts()).toMatchObject({ expired: JOBS_PER_ROUND, errors: 0 });
    afterRound.push(bytesUnder(dir));
  }
  return { afterRound, perJob };
}

describe('artifact retention: disk stays flat', () => {
  it(`${ROUNDS}×${JOBS_PER_ROUND} jobs with a zero artifact retention: bytes after each round stay at zero; without the sweep they grow with every round`, async () => {
    const swept = tempDir('kai-soak-swept-');
    await startRuntime({ artifactsDir: swept, artifactSweep: { completedRetentionMs: 0, failedRetentionMs: 0, intervalMs: 0 } });
    const flat = await soak(swept, true);
    await runtime!.close();
    runtime = undefined;
    expect(flat.perJob).toBeGreaterThan(20_000);
    expect(flat.afterRound).toEqual(Array.from({ length: ROUNDS }, () => 0));

    // Control: the same load without the sweep leaves every job's artifacts behind.
    const kept = tempDir('kai-soak-kept-');
    await startRuntime({ artifactsDir: kept, artifactSweep: false });
    const growing = await soak(kept, false);
    expect(growing.afterRound.at(-1)).toBeGreaterThanOrEqual(ROUNDS * JOBS_PER_ROUND * growing.perJob * 0.99);
    for (let round = 1; round < ROUNDS; round += 1) expect(growing.afterRound[round]).toBeGreaterThan(growing.afterRound[round - 1]!);
  }, 240_000);

  it('the timer sweeps by itself; by default artifacts go to the prefix\'s own folder', async () => {
    await startRuntime({ artifactSweep: { completedRetentionMs: 0, intervalMs: 100 } });
    const dir = defaultArtifactsDir(ctx.prefix);
    const jobs = client();
    const { id } = await jobs.enqueue('xml-import', { importJobId: 'imp-timer', sourceName: 'soak', source: { kind: 'inline', base64: FEED }, fieldMapping: PRODUCT_MAPPING });
    await jobs.waitForResult(id, { timeoutMs: 60_000 });
    // Written under <tmp>/kai-jobs-artifacts/<prefix>/<jobId>, then removed by a timed sweep.
    await waitFor(() => bytesUnder(join(dir, id)) === 0, { timeoutMs: 10_000, message: `artifacts of ${id} still in ${dir}` });
    // The prefix's folder was created by the job's first artifact (a sweep removes job folders only).
    expect(existsSync(dir)).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('store retention reaches the Redis row; once the row has expired, its artifacts are orphans and go', async () => {
    const dir = tempDir('kai-soak-orphans-');
    await startRuntime({
      artifactsDir: dir,
      storeRetention: { finishedRetentionMs: 1500 },
      // Finished-job retention far away: only the orphan rule can delete these artifacts.
      artifactSweep: { completedRetentionMs: 86_400_000, orphanGraceMs: 0, intervalMs: 0 },
    });
    const jobs = client();
    const { id } = await jobs.enqueue('xml-import', { importJobId: 'imp-orphan', sourceName: 'soak', source: { kind: 'inline', base64: FEED }, fieldMapping: PRODUCT_MAPPING });
    await jobs.waitForResult(id, { timeoutMs: 60_000 });
    const rowKey = statusKeys(ctx.prefix, 'xml-import').row(id);
    const ttl = await ctx.redis.pttl(rowKey);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1500);
    expect(await runtime!.sweepArtifacts()).toEqual({ scanned: 1, expired: 0, orphans: 0, errors: 0 });
    expect(bytesUnder(join(dir, id))).toBeGreaterThan(0);
    await waitFor(async () => (await ctx.redis.exists(rowKey)) === 0, { timeoutMs: 10_000 });
    expect(await runtime!.sweepArtifacts()).toEqual({ scanned: 1, expired: 0, orphans: 1, errors: 0 });
    expect(bytesUnder(dir)).toBe(0);
  }, 60_000);
});
