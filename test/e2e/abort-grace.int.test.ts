/**
 * The abort grace: a worker frozen (SIGSTOP) while it holds a hung PDF job cannot answer the
 * monitor's abort request; the tick gives it the grace, then takes the job over with its lock
 * token, fenced as failover does. The job resumes within one tick plus the grace — not when the
 * frozen worker's 30 s lock expires — and the frozen worker, continued, writes nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createMonitor } from '@kai-jobs/monitor';
import { testRedisUrl, useRedisTestContext, waitFor } from '@kai-jobs/queue/testing';
import { readCommits } from '../../packages/workers/test/fixtures/synthetic-hooks.js';
import { startWorkerProcess, stopWorkerProcess, type WorkerProcess } from '../../packages/workers/test/fixtures/worker-process.js';
import { backdate, client, pdf, readRuns, stores, syntheticRuntime } from './helpers.js';

const ctx = useRedisTestContext(import.meta.url);
const processes: WorkerProcess[] = [];
afterEach(async () => {
  for (const child of processes.splice(0)) await stopWorkerProcess(child);
});

const GRACE_MS = 1000;
const LOCK_MS = 30_000;

describe('abort grace', () => {
  it('a frozen worker’s hung job is taken over after the grace and resumes within one tick plus the grace; the zombie writes nothing', async () => {
    const frozen = await startWorkerProcess({
      prefix: ctx.prefix,
      workerId: 'frozen',
      env: { REDIS_URL: testRedisUrl(), LOCK_DURATION_MS: String(LOCK_MS), STALLED_INTERVAL_MS: String(LOCK_MS), HEARTBEAT_INTERVAL_MS: '200' },
    });
    processes.push(frozen);
    const jobs = client(ctx);
    const { id } = await jobs.enqueue('pdf', pdf('hold:text_extracted'));
    await waitFor(async () => (await readRuns(ctx.redis, ctx.prefix)).some((run) => run.stage === 'text_extracted' && run.workerId === 'frozen'));
    frozen.kill('SIGSTOP');
    const { status } = stores(ctx);
    const hungFence = (await status.get(id))?.fence;
    const healthy = await syntheticRuntime(ctx, 'healthy', { lockDurationMs: LOCK_MS });
    await backdate(ctx.redis, ctx.prefix, 'pdf', id, { updateMs: 6 * 60_000 });

    const monitor = ctx.track('monitor', createMonitor({ redis: ctx.redisOptions, abortGraceMs: GRACE_MS, backoff: { baseMs: 1, capMs: 1, jitterRatio: 0 } }));
    const tickStartedAt = Date.now();
    const { decisions, summary } = await monitor.runOnce();
    expect(decisions).toEqual([expect.objectContaining({ jobId: id, action: 'restart', classification: 'hung', applied: true })]);
    // The tick waited out the grace (the frozen worker could not answer), then took the job over.
    expect(summary.durationMs).toBeGreaterThanOrEqual(GRACE_MS);
    expect((await status.history(id)).map((entry) => entry.event)).toContain('recovery:taken-over');
    await waitFor(async () => (await readRuns(ctx.redis, ctx.prefix)).some((run) => run.workerId === 'healthy'), { timeoutMs: 10_000 });
    const resumedAfterMs = Date.now() - tickStartedAt;
    // One tick plus the grace (plus a loaded machine's slack) — far from the 30 s lock.
    expect(resumedAfterMs).toBeLessThan(summary.durationMs + 3_000);
    await jobs.waitForResult(id, { timeoutMs: 20_000 });

    // The zombie wakes up: its abort request is waiting for it, its writes carry the old fence.
    const logsBefore = frozen.logs.length;
    frozen.kill('SIGCONT');
    await frozen.waitForLog((line) => frozen.logs.indexOf(line) >= logsBefore && line['jobId'] === id, 15_000);
    const row = await status.get(id);
    expect(row).toMatchObject({ status: 'completed', workerId: 'healthy' });
    expect(row?.fence).not.toBe(hungFence);
    const commits = await readCommits(ctx.redis, ctx.prefix);
    // Before the freeze the frozen worker committed pdf_loaded only; nothing after it woke up.
    expect(commits.filter((commit) => commit.workerId === 'frozen').map((commit) => commit.stage)).toEqual(['pdf_loaded']);
    const healthyRuns = (await readRuns(ctx.redis, ctx.prefix)).filter((run) => run.workerId === 'healthy');
    expect(healthyRuns.map((run) => `${run.stage}#${run.attempt}`)).toEqual(['text_extracted#2', 'tiles_generated#2', 'embeddings_created#2', 'materials_extracted#2']);
    // And the frozen worker ran nothing more once continued.
    expect((await readRuns(ctx.redis, ctx.prefix)).filter((run) => run.workerId === 'frozen').map((run) => run.stage)).toEqual(['pdf_loaded', 'text_extracted']);
    await monitor.close();
    await healthy.close();
  }, 90_000);
});
