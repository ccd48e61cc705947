import { afterAll, beforeAll } from 'vitest';
import { SupabaseJobStore } from '@kai-jobs/queue';
import { startSupabaseTestStack, type SupabaseTestStack } from '@kai-jobs/queue/testing';
import { runCheckpointStoreContract } from '../src/testing.js';

// The checkpoint contract suite, unchanged, through the real supabase-js client, over HTTP, to
// the PostgREST-compatible endpoint, into PostgreSQL: one fresh migrated schema per test.
let stack: SupabaseTestStack;
const schemaOf = new WeakMap<object, string>();

beforeAll(async () => {
  stack = await startSupabaseTestStack();
});

afterAll(async () => {
  await stack?.close();
});

runCheckpointStoreContract('supabase', {
  async setup() {
    const schema = await stack.createSchema('checkpoints');
    const connection = { url: stack.url, serviceRoleKey: stack.serviceRoleKey, schema };
    const store = new SupabaseJobStore(connection);
    schemaOf.set(store, schema);
    return {
      store,
      async cleanup() {
        await store.close();
        await stack.dropSchema(schema);
      },
    };
  },
  async tamper(store, job, stage, mutate) {
    const schema = schemaOf.get(store);
    if (schema === undefined) throw new Error('unknown store');
    // Behind the API's back, as corruption would: the text changes, the recorded hash stays.
    const { rows } = await stack.admin.query<{ data_json: string }>(
      `select data_json from "${schema}".job_checkpoints where job_id = $1 and stage = $2 and kind = 'stage'`,
      [job.id, stage],
    );
    const current = rows[0]?.data_json;
    if (current === undefined) throw new Error(`tamper: no checkpoint ${stage} of job ${job.id}`);
    await stack.admin.query(
      `update "${schema}".job_checkpoints set data_json = $3 where job_id = $1 and stage = $2 and kind = 'stage'`,
      [job.id, stage, mutate(current)],
    );
  },
});
