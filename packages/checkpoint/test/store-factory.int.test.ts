import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteKeys, startSupabaseTestStack, testPrefix, testRedisConnection, type SupabaseTestStack } from '@kai-jobs/queue/testing';
import { createStoreSet, parseStoreConfigFromEnv, type StoreSet } from '../src/index.js';

let stack: SupabaseTestStack;
beforeAll(async () => {
  stack = await startSupabaseTestStack();
});
afterAll(async () => {
  await stack?.close();
});

/** One job through a store set: create, claim, checkpoint with progress, read back. */
async function roundTrip(stores: StoreSet): Promise<void> {
  const job = { id: randomUUID(), type: 'pdf' as const };
  await stores.statusStore.create({ id: job.id, type: job.type, payload: {} });
  await stores.statusStore.markProcessing(job.id, { fence: 'f1', workerId: 'w1' });
  await stores.checkpointStore.save(job, {
    stage: 'pdf_loaded',
    stageIndex: 0,
    data: { pages: 2 },
    fence: 'f1',
    schemaVersion: 1,
    attempt: 1,
    progress: { nextStage: 'text_extracted', percent: 20 },
  });
  expect(await stores.statusStore.get(job.id)).toMatchObject({ status: 'processing', progress: 20, currentStage: 'text_extracted' });
  expect((await stores.checkpointStore.list(job)).map((c) => c.data)).toEqual([{ pages: 2 }]);
}

describe('createStoreSet with real stores', () => {
  it('builds Redis stores on the caller\'s connection and leaves it open', async () => {
    const redis = testRedisConnection();
    const prefix = testPrefix(import.meta.url, 'redis-set');
    try {
      const stores = createStoreSet({ ...parseStoreConfigFromEnv({}), connection: redis, prefix });
      expect(stores.kind).toBe('redis');
      await roundTrip(stores);
      await stores.close();
      expect(await redis.ping()).toBe('PONG');
    } finally {
      await deleteKeys(redis, prefix);
      await redis.quit();
    }
  });

  it('builds Supabase stores from the environment', async () => {
    const schema = await stack.createSchema('factory');
    try {
      const env = { STATUS_STORE: 'supabase', SUPABASE_URL: stack.url, SUPABASE_SERVICE_ROLE_KEY: stack.serviceRoleKey, SUPABASE_SCHEMA: schema };
      const config = parseStoreConfigFromEnv(env);
      if (config.kind !== 'supabase') throw new Error(`expected supabase, got ${config.kind}`);
      const stores = createStoreSet({ ...config, prefix: 'ignored' });
      expect(stores.kind).toBe('supabase');
      await roundTrip(stores);
      await stores.close();
      const { rows } = await stack.admin.query<{ n: number }>(`select count(*)::int as n from "${schema}".job_checkpoints`);
      expect(rows[0]?.n).toBe(1);
    } finally {
      await stack.dropSchema(schema);
    }
  });
});
