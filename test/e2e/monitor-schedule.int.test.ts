import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { Alerter, createMonitor, MONITOR_QUEUE, MonitorStateStore } from '@kai-jobs/monitor';
import { bullPrefix, metricsKeys } from '@kai-jobs/queue';
import { useRedisTestContext, waitFor } from '@kai-jobs/queue/testing';
import { client, pdf, readRuns, stores, syntheticRuntime } from './helpers.js';
import { startWorkerProcess, stopWorkerProcess } from '../../packages/workers/test/fixtures/worker-process.js';

const ctx = useRedisTestContext(import.meta.url);

describe('monitor: schedule and stalled events', () => {
  it('any number of monitor processes give exactly one tick per interval', async () => {
    const intervalMs = 400;
    const ticks: { monitor: string; at: number }[] = [];
    const monitors = [1, 2, 3].map((n) => {
      const monitor = ctx.track(
        `monitor ${n}`,
        createMonitor({ redis: ctx.redisOptions, checkIntervalMs: intervalMs, monitorId: `m${n}`, alerter: ctx.manage('alerter', new Alerter()) }),
      );
      monitor.onTick(() => ticks.push({ monitor: `m${n}`, at: Date.now() }));
      return monitor;
    });
    const started = Date.now();
    await Promise.all(monitors.map((monitor) => monitor.start()));
    await waitFor(() => ticks.length >= 6, { timeoutMs: 15_000 });
    const elapsed = Date.now() - started;
    await Promise.all(monitors.map((monitor) => monitor.close()));
    // At most one tick per elapsed interval (plus the one at start), across all three.
    expect(ticks.length).toBeLessThanOrEqual(Math.ceil(elapsed / intervalMs) + 1);
    // Each tick is one job of the one scheduler, one job per interval slot: no slot ran twice
    // (as many jobs as ticks) and none was made twice (slots an interval apart). Judged by the
    // slots' times, not by when ticks ran: on a busy machine ticks start unevenly late.
    const queue = ctx.manage('queue', new Queue(MONITOR_QUEUE, { connection: ctx.connection(), prefix: bullPrefix(ctx.prefix, MONITOR_QUEUE) }));
    // A scheduler job's id is `repeat:<scheduler>:<slot time in ms>`.
    const slots = (await queue.getJobs(['completed'])).map((job) => Number(job.id?.split(':').pop())).sort((a, b) => a - b);
    expect(slots).toHaveLength(ticks.length);
    const gaps = slots.slice(1).map((slot, i) => slot - (slots[i] as number));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(intervalMs);
    const state = new MonitorStateStore({ connection: ctx.redis, prefix: ctx.prefix });
    expect(await state.lastTick()).toMatchObject({ intervalMs, error: null });
  }, 30_000);

  it("counts BullMQ's stalled events per job type and writes each once to the job's history", async () => {
    const watchers = [1, 2].map((n) =>
      ctx.track(`monitor ${n}`, createMonitor({ redis: ctx.redisOptions, checkIntervalMs: 60_000, alerter: ctx.manage('alerter', new Alerter()) })),
    );
    await Promise.all(watchers.map((watcher) => watcher.start()));
    const doomed = await startWorkerProcess({ prefix: ctx.prefix, workerId: `doomed-${process.pid}`, env: { LOCK_DURATION_MS: '1000', STALLED_INTERVAL_MS: '500' } });
    const jobs = client(ctx);
    const { id } = await jobs.enqueue('pdf', pdf('hold:text_extracted'));
    await waitFor(async () => (await readRuns(ctx.redis, ctx.prefix)).some((run) => run.stage === 'text_extracted'));
    doomed.kill('SIGKILL');
    await stopWorkerProcess(doomed);
    const survivor = await syntheticRuntime(ctx, 'survivor', { lockDurationMs: 1000, stalledIntervalMs: 500 });
    await jobs.waitForResult(id, { timeoutMs: 20_000 });
    const { status } = stores(ctx);
    await waitFor(async () => (await status.history(id)).some((entry) => entry.event === 'stall:detected'), { timeoutMs: 10_000 });
    expect((await status.history(id)).filter((entry) => entry.event === 'stall:detected')).toHaveLength(1);
    expect(Number(await ctx.redis.hget(metricsKeys(ctx.prefix).totals('pdf'), 'stalled'))).toBe(1);
    await survivor.close();
    await Promise.all(watchers.map((watcher) => watcher.close()));
  }, 60_000);
});
