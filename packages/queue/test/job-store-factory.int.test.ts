import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobStore, parseStoreConfigFromEnv, RedisJobStore, SupabaseJobStore, type JobStore } from '../src/index.js';
import { deleteKeys, startSupabaseTestStack, testPrefix, testRedisConnection, type SupabaseTestStack } from '../src/testing.js';

let stack: SupabaseTestStack;
beforeAll(async () => {
  stack = await startSupabaseTestStack();
});
afterAll(async () => {
  await stack?.close();
});

/** One job through a job store: create, claim, checkpoint with progress, read back. */
async function roundTrip(store: JobStore): Promise<void> {
  const job = { id: randomUUID(), type: 'pdf' as const };
  await store.create({ id: job.id, type: job.type, payload: {} });
  await store.markProcessing(job.id, { fence: 'f1', workerId: 'w1' });
  await store.saveCheckpoint(job, {
    stage: 'pdf_loaded',
    stageIndex: 0,
    data: { pages: 2 },
    fence: 'f1',
    schemaVersion: 1,
    attempt: 1,
    progress: { nextStage: 'text_extracted', percent: 20 },
  });
  expect(await store.get(job.id)).toMatchObject({ status: 'processing', progress: 20, currentStage: 'text_extracted' });
  expect((await store.listCheckpoints(job)).map((c) => c.data)).toEqual([{ pages: 2 }]);
}

describe('createJobStore with real backends', () => {
  it('builds Redis stores on the caller\'s connection and leaves it open', async () => {
    const redis = testRedisConnection();
    const prefix = testPrefix(import.meta.url, 'redis-set');
    try {
      const store = createJobStore({ ...parseStoreConfigFromEnv({}), connection: redis, prefix });
      expect(store).toBeInstanceOf(RedisJobStore);
      await roundTrip(store);
      await store.close();
      expect(await redis.ping()).toBe('PONG');
    } finally {
      await deleteKeys(redis, prefix);
      await redis.quit();
    }
  });

  it('builds the Supabase store from the environment', async () => {
    const schema = await stack.createSchema('factory');
    try {
      const env = { STATUS_STORE: 'supabase', SUPABASE_URL: stack.url, SUPABASE_SERVICE_ROLE_KEY: stack.serviceRoleKey, SUPABASE_SCHEMA: schema };
      const config = parseStoreConfigFromEnv(env);
      if (config.kind !== 'supabase') throw new Error(`expected supabase, got ${config.kind}`);
      const store = createJobStore({ ...config, prefix: 'ignored' });
      expect(store).toBeInstanceOf(SupabaseJobStore);
      await roundTrip(store);
      await store.close();
      const { rows } = await stack.admin.query<{ n: number }>(`select count(*)::int as n from "${schema}".job_checkpoints`);
      expect(rows[0]?.n).toBe(1);
    } finally {
      await stack.dropSchema(schema);
    }
  });
});
