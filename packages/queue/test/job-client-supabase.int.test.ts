import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobClient, SupabaseJobStore } from '../src/index.js';
import { startSupabaseTestStack, useRedisTestContext, type SupabaseTestStack } from '../src/testing.js';

// The producer client with its status rows in Supabase: BullMQ in Redis, rows through supabase-js.
const ctx = useRedisTestContext(import.meta.url);
let stack: SupabaseTestStack;

beforeAll(async () => {
  stack = await startSupabaseTestStack();
});

afterAll(async () => {
  await stack?.close();
});

describe('createJobClient with SupabaseJobStore', () => {
  it('enqueues, finds and cancels a scraping session whose row is the platform’s', async () => {
    const schema = await stack.createSchema('client');
    const store = new SupabaseJobStore({ url: stack.url, serviceRoleKey: stack.serviceRoleKey, schema });
    try {
      // The platform's row first (uuid ids, as the platform's are), then the job that adopts it.
      const sess = randomUUID();
      const bg = randomUUID();
      await stack.admin.query(`insert into "${schema}".scraping_sessions (id) values ($1)`, [sess]);
      const jobs = ctx.manage(
        'job client',
        createJobClient({ redis: { url: ctx.redisUrl, prefix: ctx.prefix }, statusStore: store }),
      );
      const payload = { sessionId: sess, sourceUrl: 'https://example.com/', backgroundJobId: bg };
      const first = await jobs.enqueue('scrape', payload, { jobId: sess, idempotencyKey: `session-${sess}` });
      expect(first).toEqual({ id: sess, type: 'scrape', created: true });
      expect(await jobs.enqueue('scrape', payload, { jobId: sess, idempotencyKey: `session-${sess}` })).toMatchObject({ created: false });
      expect(await jobs.queue('scrape').getJobCounts('waiting')).toEqual({ waiting: 1 });

      const status = await jobs.getStatus(sess);
      expect(status?.row).toMatchObject({ status: 'pending', payload: { maxPages: 100 }, refs: { backgroundJobId: bg } });
      expect(status?.bullmq.state).toBe('waiting');

      expect(await jobs.cancel(sess, 'not needed')).toEqual({ cancelled: true, previousStatus: 'pending', abortRequested: false });
      const { rows } = await stack.admin.query(
        `select s.status, s.error_message, b.status as follower from "${schema}".scraping_sessions s
           join "${schema}".kai_scraping_sessions k on k.row_id = s.id::text
           join "${schema}".background_jobs b on b.id::text = k.background_job_id where s.id = $1`,
        [sess],
      );
      expect(rows).toEqual([{ status: 'failed', error_message: 'cancelled: not needed', follower: 'failed' }]);
      expect(await jobs.queue('scrape').getJobCounts('waiting')).toEqual({ waiting: 0 });
    } finally {
      await store.close();
      await stack.dropSchema(schema);
    }
  });
});
