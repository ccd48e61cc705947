/**
 * The pending-repair gate: the tick runs the pending repair only for the types whose oldest
 * `pending` row is older than `pendingRepairAfterMs` (by the store's clock). Running rows that
 * have not updated for a while — which the repair's own search returns too — never open it.
 */
import { RedisJobStore, statusKeys } from '@kai-jobs/queue';
import { useRedisTestContext } from '@kai-jobs/queue/testing';
import { describe, expect, it } from 'vitest';
import { typesWithPendingToRepair } from '../src/tick/pending-repair-gate.js';

const ctx = useRedisTestContext(import.meta.url);
const MINUTE = 60_000;
const payload = (id: string) => ({ documentId: id, source: { kind: 'file' as const, path: '/x.pdf' } });

/** Moves a row's last update (row field and update index) `ms` into the past, as a crash long ago would leave it. */
async function backdateUpdate(id: string, ms: number): Promise<void> {
  const keys = statusKeys(ctx.prefix, 'pdf');
  const updated = Number(await ctx.redis.hget(keys.row(id), 'updated_at'));
  await ctx.redis.hset(keys.row(id), 'updated_at', updated - ms);
  await ctx.redis.zadd(keys.updateIndex, 'XX', updated - ms, id);
}

describe('typesWithPendingToRepair', () => {
  it('is empty without pending rows, and for running rows however long since their last update', async () => {
    const store = new RedisJobStore({ connection: ctx.redis, prefix: ctx.prefix });
    await store.create({ id: 'running', type: 'pdf', payload: payload('running'), refs: { documentId: 'running' } });
    await store.markProcessing('running', { fence: 'attempt-1', workerId: 'w1' });
    await backdateUpdate('running', 3 * MINUTE);
    expect(await typesWithPendingToRepair({ statusStore: store, olderThanMs: MINUTE }, ['pdf', 'scrape', 'xml-import'])).toEqual([]);
  });

  it('opens for a type whose oldest pending row is older than the threshold, not for a younger one', async () => {
    const store = new RedisJobStore({ connection: ctx.redis, prefix: ctx.prefix });
    await store.create({ id: 'fresh', type: 'pdf', payload: payload('fresh'), refs: { documentId: 'fresh' } });
    const deps = { statusStore: store, olderThanMs: MINUTE };
    expect(await typesWithPendingToRepair(deps, ['pdf'])).toEqual([]);
    // The producer wrote the row and died before adding the job, 2 min ago.
    await backdateUpdate('fresh', 2 * MINUTE);
    expect(await typesWithPendingToRepair(deps, ['pdf', 'scrape'])).toEqual(['pdf']);
  });
});
