/**
 * The recovery paths the tick runs besides stuck work: the pending repair (a producer that died
 * between the row and the BullMQ job), decided by the shared decidePendingRepair.
 */
import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { createMonitor } from '@kai-jobs/monitor';
import { bullPrefix, jobCatalog, RedisStatusStore } from '@kai-jobs/queue';
import { useRedisTestContext } from '@kai-jobs/queue/testing';
import { backdate, pdf } from './helpers.js';

const ctx = useRedisTestContext(import.meta.url);

describe('the tick runs the pending repair', () => {
  it('re-adds the BullMQ job of a pending row left without one, long before the stuck-work threshold', async () => {
    const store = new RedisStatusStore({ connection: ctx.redis, prefix: ctx.prefix });
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
