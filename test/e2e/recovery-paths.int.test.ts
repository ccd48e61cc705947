/**
 * The recovery paths the tick runs besides stuck work: the pending repair (a producer that died
 * between the row and the BullMQ job), decided by the shared decidePendingRepair.
 */
import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { Alerter, createMonitor, MONITOR_QUEUE } from '@kai-jobs/monitor';
import { startSentryReceiver } from '@kai-jobs/monitor/testing';
import { bullPrefix, jobCatalog, RedisJobStore } from '@kai-jobs/queue';
import { useRedisTestContext, waitFor } from '@kai-jobs/queue/testing';
import { backdate, pdf } from './helpers.js';

const ctx = useRedisTestContext(import.meta.url);

describe('the tick runs the pending repair', () => {
  it('re-adds the BullMQ job of a pending row left without one, long before the stuck-work threshold', async () => {
    const store = new RedisJobStore({ connection: ctx.redis, prefix: ctx.prefix });
    // The producer wrote the row and died before adding the job, 2 min ago (the pdf update threshold is 5 min).
    await store.create({ id: 'orphan', type: 'pdf', payload: pdf('orphan-doc'), refs: { documentId: 'orphan-doc' } });
    await backdate(ctx.redis, ctx.prefix, 'pdf', 'orphan', { updateMs: 2 * 60_000 });
    const monitor = ctx.track('monitor', createMonitor({ redis: ctx.redisOptions, pendingRepairAfterMs: 60_000 }));
    const { summary, decisions } = await monitor.runOnce();
    // Not stuck work yet: no decision of the stuck-work pass, but the repair re-added it.
    expect(decisions).toEqual([]);
    expect(summary.readded).toBe(1);
    const queue = ctx.manage('queue', new Queue(jobCatalog.pdf.queueName, { connection: ctx.connection(), prefix: bullPrefix(ctx.prefix, jobCatalog.pdf.queueName) }));
    const job = await queue.getJob('orphan');
    expect(job?.data).toEqual(pdf('orphan-doc'));
    expect(await job?.getState()).toBe('waiting');
    expect((await store.history('orphan')).at(-1)).toMatchObject({ event: 'recovery:readded', bullState: 'missing' });
    // Once repaired, the next tick leaves it.
    expect((await monitor.runOnce()).summary.readded).toBe(0);
    await monitor.close();
  });
});

describe('one tick per interval, and Crons check-ins closed', () => {
  it('a tick job that comes back after its interval passed (its monitor died) is skipped, not run again', async () => {
    const intervalMs = 1000;
    const monitor = ctx.track('monitor', createMonitor({ redis: ctx.redisOptions, checkIntervalMs: intervalMs, alerter: ctx.manage('alerter', new Alerter()) }));
    let ticks = 0;
    monitor.onTick(() => ticks++);
    const queue = ctx.manage('queue', new Queue(MONITOR_QUEUE, { connection: ctx.connection(), prefix: bullPrefix(ctx.prefix, MONITOR_QUEUE) }));
    // What BullMQ's stall check hands back when a monitor died in a tick: the old slot's job, run
    // again (its stalled counter up), late. A first run that is merely late is not skipped.
    const stale = await queue.add('tick', {}, { timestamp: Date.now() - 3 * intervalMs });
    // As BullMQ's stall check does (moveStalledJobsToWait: HINCRBY stc).
    await ctx.redis.hset(queue.toKey(stale.id as string), 'stc', 1);
    const late = await queue.add('tick', {}, { timestamp: Date.now() - 3 * intervalMs });
    await monitor.start();
    await waitFor(async () => (await late.getState()) === 'completed', { timeoutMs: 10_000 });
    expect((await queue.getJob(late.id as string))?.returnvalue).not.toHaveProperty('skipped');
    await waitFor(async () => (await stale.getState()) === 'completed', { timeoutMs: 10_000 });
    const finished = await queue.getJob(stale.id as string);
    expect(finished?.returnvalue).toMatchObject({ skipped: true });
    expect((finished?.returnvalue as { lateMs: number }).lateMs).toBeGreaterThanOrEqual(intervalMs);
    await waitFor(() => ticks >= 1, { timeoutMs: 10_000 });
    await monitor.close();
  });

  it('a tick closes the in_progress check-in a dead tick left open, with its id', async () => {
    const receiver = await startSentryReceiver();
    try {
      // What a monitor killed mid-tick leaves: the id of its in_progress check-in.
      await ctx.redis.set(`${ctx.prefix}:{monitor}:cron-open-check-in`, 'ab'.repeat(16));
      const monitor = ctx.track('monitor', createMonitor({ redis: ctx.redisOptions, alerter: ctx.manage('alerter', new Alerter({ dsn: receiver.dsn })) }));
      await monitor.runOnce();
      const checkIns = await receiver.waitForCheckIns(3);
      expect(checkIns).toContainEqual(expect.objectContaining({ check_in_id: 'ab'.repeat(16), status: 'error' }));
      const own = checkIns.find((checkIn) => checkIn.status === 'in_progress');
      expect(checkIns).toContainEqual(expect.objectContaining({ check_in_id: own?.check_in_id, status: 'ok' }));
      // Its own is closed, so the next tick closes nothing.
      expect(await ctx.redis.get(`${ctx.prefix}:{monitor}:cron-open-check-in`)).toBeNull();
      await monitor.close();
    } finally {
      await receiver.close();
    }
  });
});
