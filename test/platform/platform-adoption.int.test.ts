/**
 * kai-jobs adopted on the platform's own tables: a schema shaped like the platform's (uuid ids,
 * existing rows, its policies, an updated_at trigger, a writer updating rows with plain SQL),
 * kai-jobs' migrations applied on top twice. The schema diff shows only additions; the writer's
 * statements still succeed; a stuck row the platform wrote is failed with one alert by the real
 * monitor; a kai-jobs job runs, is restarted from its checkpoint and completes, and the
 * platform's row shows it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Alerter, createMonitor, RedisAlertDedupeStore } from '@kai-jobs/monitor';
import { startSentryReceiver, type SentryReceiver } from '@kai-jobs/monitor/testing';
import { createJobClient, SupabaseJobStore } from '@kai-jobs/queue';
import { startSupabaseTestStack, useRedisTestContext, waitFor, type SupabaseTestStack } from '@kai-jobs/queue/testing';
import { createWorkerRuntime } from '@kai-jobs/workers';
import { readRuns, redisSyntheticHooks } from '../../packages/workers/test/fixtures/synthetic-hooks.js';
import { createSyntheticJob } from '../../packages/workers/test/fixtures/synthetic-job.js';
import { applyKaiMigrations, insertStuckPdfRow, platformDdl, platformSnapshot, runPlatformWriter } from './platform-schema.js';

const ctx = useRedisTestContext(import.meta.url);
const MINUTE = 60_000;
let stack: SupabaseTestStack;
let receiver: SentryReceiver;
const schema = `kt_platform_${Math.random().toString(16).slice(2, 10)}`;
let before: string[];
let after: string[];
let stuckPdf: string;

beforeAll(async () => {
  stack = await startSupabaseTestStack();
  receiver = await startSentryReceiver();
  const db = await stack.admin.connect();
  try {
    await db.query('begin');
    await db.query(platformDdl(schema));
    await db.query('commit');
    stuckPdf = await insertStuckPdfRow(db, schema);
    before = await platformSnapshot(db, schema);
    // The adoption: kai-jobs' migrations, twice in a row (a re-run must change nothing).
    await applyKaiMigrations(db, schema);
    const once = await platformSnapshot(db, schema);
    await applyKaiMigrations(db, schema);
    after = await platformSnapshot(db, schema);
    expect(after).toEqual(once);
  } finally {
    db.release();
  }
  stack.endpoint.exposeSchema(schema);
}, 60_000);

afterAll(async () => {
  await receiver?.close();
  stack?.endpoint.hideSchema(schema);
  await stack?.admin.query(`drop schema if exists "${schema}" cascade`);
  await stack?.close();
});

function stores() {
  const connection = { url: stack.url, serviceRoleKey: stack.serviceRoleKey, schema };
  return new SupabaseJobStore(connection);
}

function monitor(store: SupabaseJobStore) {
  const alerter = ctx.manage(
    'alerter',
    new Alerter({ dsn: receiver.dsn, environment: 'test', dedupeStore: new RedisAlertDedupeStore({ connection: ctx.redis, prefix: ctx.prefix }) }),
  );
  return ctx.track(
    'monitor',
    createMonitor({ redis: ctx.redisOptions, alerter, store, backoff: { baseMs: 50, capMs: 200 } }),
  );
}

describe('kai-jobs adopted on the platform’s tables', () => {
  it('only adds to the platform’s tables: nullable columns without a default, kai_ indexes; nothing removed or changed', () => {
    const removed = before.filter((line) => !after.includes(line));
    expect(removed).toEqual([]);
    const added = after.filter((line) => !before.includes(line));
    expect(added.length).toBeGreaterThan(0);
    for (const line of added) {
      expect(line, line).toMatch(/^(col \S+ .* notnull=f default=$|idx (background_jobs|scraping_sessions|data_import_jobs)\.kai_\S+_unfinished_idx )/);
    }
    // What the platform already had is left exactly as it was: e.g. its integer progress, its policies.
    expect(after).toContain('col background_jobs.progress integer notnull=t default=0');
    expect(after.filter((line) => line.startsWith('pol '))).toEqual(before.filter((line) => line.startsWith('pol ')));
  });

  it('the platform’s writer keeps working with plain SQL, and its rows stay its own', async () => {
    const db = await stack.admin.connect();
    try {
      await db.query(`set role service_role`);
      const ids = await runPlatformWriter(db, schema);
      const { rows } = await db.query(
        `select (select status from "${schema}".scraping_sessions where id = $1) as session,
                (select status from "${schema}".data_import_jobs where id = $2) as import,
                (select progress from "${schema}".background_jobs where id = $3) as pdf_progress`,
        [ids.session, ids.importJob, ids.pdf],
      );
      expect(rows[0]).toEqual({ session: 'scraping', import: 'completed', pdf_progress: 55 });
      // No kai-jobs bookkeeping was written for them.
      const kai = await db.query(`select count(*)::int as n from "${schema}".kai_background_jobs`);
      expect(kai.rows[0]).toEqual({ n: 0 });
    } finally {
      await db.query('reset role');
      db.release();
    }
  });

  it('a stuck row the platform wrote is failed by the monitor with exactly one alert; healthy ones are left', async () => {
    const status = stores();
    const found = await status.findStale('pdf', { heartbeatOlderThanMs: 15 * MINUTE, updateOlderThanMs: 5 * MINUTE });
    expect(found.map((candidate) => [candidate.row.id, candidate.reason, candidate.foreign])).toEqual([[stuckPdf, 'heartbeat_timeout', true]]);
    const watcher = monitor(status);
    const { decisions } = await watcher.runOnce();
    expect(decisions).toEqual([expect.objectContaining({ jobId: stuckPdf, type: 'pdf', action: 'fail', reason: 'heartbeat_timeout', applied: true })]);
    const [event] = await receiver.waitForEvents(1);
    expect(event?.fingerprint).toEqual(['stuck-job', 'heartbeat_timeout']);
    expect(event?.tags).toMatchObject({ job_id: stuckPdf, error_type: 'stuck_job', failure_reason: 'heartbeat_timeout' });
    // The platform's row, in its own columns: failed, with the reason; a second pass does nothing.
    const { rows } = await stack.admin.query(`select status, error, progress from "${schema}".background_jobs where id = $1`, [stuckPdf]);
    expect(rows[0]).toMatchObject({ status: 'failed', progress: 40, error: expect.stringContaining('stuck: heartbeat_timeout') });
    expect((await watcher.runOnce()).decisions).toEqual([]);
    expect(await status.recover(stuckPdf, { expectedFence: null, expectedRestartCount: 0, action: 'fail', error: 'again', history: { event: 'recovery:failed' } })).toMatchObject({ applied: false });
    expect(receiver.events).toHaveLength(1);
    await watcher.close();
    await status.close();
  }, 30_000);

  it('a session the platform created is adopted; its linked background_jobs row fails and completes with kai-jobs’ sessions and imports', async () => {
    const status = stores();
    const db = await stack.admin.connect();
    try {
      // As the edge function does: the platform's rows first (uuid ids), then the job with the row's id.
      const session = (await db.query<{ id: string }>(`insert into "${schema}".scraping_sessions (source_url) values ('https://shop.example.com/') returning id`)).rows[0]?.id as string;
      const sessionBg = (await db.query<{ id: string }>(`insert into "${schema}".background_jobs (job_type) values ('web_scraping') returning id`)).rows[0]?.id as string;
      const created = await status.create({ id: session, type: 'scrape', payload: { sessionId: session }, refs: { sessionId: session, backgroundJobId: sessionBg } });
      expect(created).toMatchObject({ created: true, row: { id: session, status: 'pending' } });
      await status.markProcessing(session, { fence: 'f', workerId: 'w' });
      await status.progress(session, 'f', { status: 'scraping', percent: 50, counters: { total_pages: 4, completed_pages: 2 } });
      const read = async (table: string, id: string) => (await db.query(`select * from "${schema}".${table} where id = $1`, [id])).rows[0];
      expect(await read('scraping_sessions', session)).toMatchObject({ status: 'scraping', total_pages: 4, completed_pages: 2, source_url: 'https://shop.example.com/' });
      // The linked row shows the session's progress; the platform's own job_type stays.
      expect(await read('background_jobs', sessionBg)).toMatchObject({ status: 'processing', progress: 50, job_type: 'web_scraping' });
      await status.fail(session, 'f', 'site unreachable');
      expect(await read('scraping_sessions', session)).toMatchObject({ status: 'failed', error_message: 'site unreachable' });
      expect(await read('background_jobs', sessionBg)).toMatchObject({ status: 'failed', error: 'site unreachable' });

      // An import kai-jobs creates itself gets a platform row (a uuid) and a linked row that completes with it.
      const imported = await status.create({ id: 'import-kai-1', type: 'xml-import', payload: {}, refs: { importJobId: 'import-kai-1', sourceName: 'acme' } });
      await status.markProcessing('import-kai-1', { fence: 'g', workerId: 'w' });
      await status.progress('import-kai-1', 'g', { percent: 10, counters: { total_products: 3, processed_products: 3 } });
      await status.complete('import-kai-1', 'g', { products: 3 });
      const { rows } = await db.query(
        `select d.status, d.processed_products, b.status as linked, b.progress as linked_progress
           from "${schema}".kai_data_import_jobs k join "${schema}".data_import_jobs d on d.id::text = k.row_id
           join "${schema}".background_jobs b on b.id::text = k.background_job_id where k.id = 'import-kai-1'`,
      );
      expect(rows).toEqual([{ status: 'completed', processed_products: 3, linked: 'completed', linked_progress: 100 }]);
      expect(imported.row.refs.backgroundJobId).toMatch(/^[0-9a-f-]{36}$/);
      // A signed-in user reads the platform's rows under the platform's own policy (their own rows only).
      await db.query('begin');
      await db.query(`set local role authenticated`);
      expect((await db.query(`select count(*)::int as n from "${schema}".scraping_sessions`)).rows[0]).toEqual({ n: 0 });
      await db.query('rollback');
    } finally {
      db.release();
      await status.close();
    }
  });

  it('a kai-jobs PDF job runs on the platform’s table, is restarted from its checkpoint and completes', async () => {
    const status = stores();
    const runtime = ctx.track(
      'runtime',
      createWorkerRuntime({
        redis: ctx.redisOptions,
        jobs: [createSyntheticJob(redisSyntheticHooks(ctx.redis, ctx.prefix, 'w1'))],
        workerId: 'w1',
        lockDurationMs: 2000,
        stalledIntervalMs: 1000,
        heartbeatIntervalMs: 60_000,
        progressThrottleMs: 0,
        cpuThreads: 1,
        backoff: { baseMs: 50, capMs: 200 },
        store: status,
      }),
    );
    await runtime.start();
    const jobs = ctx.manage('client', createJobClient({ redis: ctx.redisOptions, statusStore: status, waitPollIntervalMs: 25 }));
    const { id } = await jobs.enqueue('pdf', { documentId: 'hold:text_extracted', source: { kind: 'file', path: '/synthetic.pdf' } });
    await waitFor(async () => (await readRuns(ctx.redis, ctx.prefix)).some((run) => run.stage === 'text_extracted'));
    // The platform's row (a uuid: the kai id mapped) follows the job while it runs.
    const platformRow = async () =>
      (await stack.admin.query(
        `select b.status, b.progress, b.current_stage, b.last_heartbeat is not null as beating
           from "${schema}".background_jobs b join "${schema}".kai_background_jobs k on k.row_id = b.id::text where k.id = $1`,
        [id],
      )).rows[0];
    expect(await platformRow()).toMatchObject({ status: 'processing', current_stage: 'text_extracted', beating: true });
    // Hung: no heartbeat for 16 minutes (kai-jobs' own clock of the row).
    await stack.admin.query(
      `update "${schema}".kai_background_jobs set last_heartbeat = last_heartbeat - interval '16 minutes',
         updated_at = updated_at - interval '16 minutes', progress_checked_at = progress_checked_at - interval '16 minutes' where id = $1`,
      [id],
    );
    const watcher = monitor(status);
    const { decisions } = await watcher.runOnce();
    expect(decisions).toEqual([
      expect.objectContaining({ jobId: id, action: 'restart', reason: 'heartbeat_timeout', checkpointStage: 'pdf_loaded', restartNumber: 1, applied: true }),
    ]);
    await jobs.waitForResult(id, { timeoutMs: 20_000 });
    const runs = (await readRuns(ctx.redis, ctx.prefix)).filter((run) => run.jobId === id).map((run) => `${run.stage}#${run.attempt}`);
    expect(runs).toEqual(['pdf_loaded#1', 'text_extracted#1', 'text_extracted#2', 'tiles_generated#2', 'embeddings_created#2', 'materials_extracted#2']);
    expect(await status.get(id)).toMatchObject({ status: 'completed', restartCount: 1, progress: 100 });
    expect(await platformRow()).toMatchObject({ status: 'completed', progress: 100 });
    await watcher.close();
    await runtime.close();
    await status.close();
  }, 60_000);
});
