import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSupabaseTestStack, useRedisTestContext, type SupabaseTestStack } from '@kai-jobs/queue/testing';
import { feedText, PRODUCT_MAPPING } from '../../../packages/workers/test/jobs/xml-import/fixtures/feeds.js';
import { kaiJobs, startCommand, testEnv } from './support.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './support.js';

const ctx = useRedisTestContext(import.meta.url);

let stack: SupabaseTestStack;
beforeAll(async () => {
  stack = await startSupabaseTestStack();
});
afterAll(async () => {
  await stack?.close();
});

describe('STATUS_STORE=supabase', () => {
  it('the worker, enqueue --wait, status, checkpoints and list keep rows and checkpoints in Supabase', async () => {
    const schema = await stack.createSchema('cli');
    const env = testEnv(ctx.redisUrl, ctx.prefix, {
      STATUS_STORE: 'supabase',
      SUPABASE_URL: stack.url,
      SUPABASE_SERVICE_ROLE_KEY: stack.serviceRoleKey,
      SUPABASE_SCHEMA: schema,
      WORKER_TYPES: 'xml-import',
    });
    const worker = await startCommand(['worker'], env);
    try {
      const payload = join(tempDir('kai-cli-supabase-'), 'payload.json');
      writeFileSync(payload, JSON.stringify({ importJobId: 'imp-sb', sourceName: 'acme-sb', source: { kind: 'inline', base64: Buffer.from(feedText(120, 40)).toString('base64') }, fieldMapping: PRODUCT_MAPPING, batchSize: 50 }));
      const run = await kaiJobs(['enqueue', 'xml-import', '--file', payload, '--wait', '--json'], env);
      expect(run.code).toBe(0);
      const job = run.json<{ id: string }>();
      expect(run.json()).toMatchObject({ status: 'completed', result: { totalProducts: 120, processedProducts: 117, failedProducts: 3 } });

      // The row and the checkpoints are in the schema's tables, not in Redis.
      const rows = await stack.admin.query(`select status, processed_products from "${schema}".data_import_jobs where id = $1`, [job.id]);
      expect(rows.rows).toEqual([{ status: 'completed', processed_products: 117 }]);
      const status = (await kaiJobs(['status', job.id, '--json'], env)).json<{ row: { status: string }; checkpoints: { checkpoints: { stage: string; valid: boolean }[] } }>();
      expect(status.row.status).toBe('completed');
      expect(status.checkpoints.checkpoints.map((checkpoint) => [checkpoint.stage, checkpoint.valid])).toEqual([
        ['feed_fetched', true],
        ['products_imported', true],
      ]);
      expect((await kaiJobs(['list', '--type', 'xml-import', '--json'], env)).json<{ jobs: { id: string }[] }>().jobs.map((row) => row.id)).toEqual([job.id]);
      const statusKeys = await ctx.redis.keys(`${ctx.prefix}:*status:*`);
      expect(statusKeys).toEqual([]);
    } finally {
      expect(await worker.stop()).toBe(0);
      await stack.dropSchema(schema);
    }
  }, 60_000);
});
