import { createHash } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSupabaseTestStack, testPostgresUrl, waitFor, type SupabaseTestStack } from '../src/testing.js';

// The SQL functions and the schema, tested directly in PostgreSQL (no HTTP): concurrency,
// the tables' checks, privileges and row-level security, the publication, the indexes.
let stack: SupabaseTestStack;
let schema: string;
let clients: pg.Client[] = [];

beforeAll(async () => {
  stack = await startSupabaseTestStack();
});

afterAll(async () => {
  await stack?.close();
});

beforeEach(async () => {
  schema = await stack.createSchema('sql');
});

afterEach(async () => {
  await Promise.all(clients.map((client) => client.end()));
  clients = [];
  await stack.dropSchema(schema);
});

/** A session running as `role` (as PostgREST would after SET ROLE) in the test schema. */
async function connectAs(role: 'service_role' | 'authenticated' | 'anon'): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: testPostgresUrl() });
  await client.connect();
  clients.push(client);
  await client.query(`set role ${role}`);
  await client.query(`set search_path to "${schema}"`);
  if (role === 'authenticated') {
    await client.query(`select set_config('request.jwt.claims', '{"role":"authenticated","sub":"u1"}', false)`);
  }
  return client;
}

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

async function sqlError(promise: Promise<unknown>): Promise<{ code: string; message: string; constraint?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: string; message: string; constraint?: string };
  }
  throw new Error('expected the statement to fail');
}

async function createRunning(client: pg.Client, id: string, fence: string, type = 'pdf'): Promise<void> {
  await client.query('select kai_create_jobs($1)', [JSON.stringify([{ id, job_type: type, payload: { n: 1 } }])]);
  await client.query('select kai_mark_processing($1, $2, $3)', [id, fence, 'w1']);
}

async function waitUntilBlocked(pid: number): Promise<void> {
  await waitFor(
    async () => {
      const { rows } = await stack.admin.query<{ wait: string | null }>(
        'select wait_event_type as wait from pg_stat_activity where pid = $1',
        [pid],
      );
      return rows[0]?.wait === 'Lock';
    },
    { message: `backend ${pid} never waited for the row lock` },
  );
}

async function pidOf(client: pg.Client): Promise<number> {
  return (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]?.pid as number;
}

describe('SQL functions under concurrency', () => {
  it('complete racing the monitor: the waiting recovery sees a finished job and does nothing', async () => {
    const worker = await connectAs('service_role');
    const monitor = await connectAs('service_role');
    await createRunning(worker, 'race-1', 'f1');
    await worker.query('begin');
    await worker.query(`select kai_complete('race-1', 'f1', '{"pages": 1}')`);
    const monitorPid = await pidOf(monitor);
    const recovery = monitor.query<{ r: { applied: boolean; reason: string } }>(
      `select kai_recover('race-1', 'f1', 0, 'restart', null, '{"event": "recovery:restarted"}') as r`,
    );
    await waitUntilBlocked(monitorPid);
    await worker.query('commit');
    const { rows } = await recovery;
    expect(rows[0]?.r).toMatchObject({ applied: false, reason: 'finished' });
    const row = (await worker.query(`select status, restart_count from kai_background_jobs where id = 'race-1'`)).rows[0];
    expect(row).toEqual({ status: 'completed', restart_count: 0 });
  });

  it('the monitor racing complete: the waiting completion is refused as a superseded fence', async () => {
    const worker = await connectAs('service_role');
    const monitor = await connectAs('service_role');
    await createRunning(worker, 'race-2', 'f1');
    await monitor.query('begin');
    await monitor.query(`select kai_recover('race-2', 'f1', 0, 'restart', null, '{"event": "recovery:restarted"}')`);
    const workerPid = await pidOf(worker);
    const completion = sqlError(worker.query(`select kai_complete('race-2', 'f1', '{}')`));
    await waitUntilBlocked(workerPid);
    await monitor.query('commit');
    expect((await completion).code).toBe('KJ409');
    const row = (await worker.query(`select status, restart_count, fence from kai_background_jobs where id = 'race-2'`)).rows[0];
    expect(row).toMatchObject({ status: 'pending', restart_count: 1 });
    expect(row.fence).not.toBe('f1');
  });

  it('eight monitors recovering one stuck job at once give exactly one recovery', async () => {
    const setup = await connectAs('service_role');
    await createRunning(setup, 'storm', 'f1');
    const monitors = await Promise.all(Array.from({ length: 8 }, () => connectAs('service_role')));
    const results = await Promise.all(
      monitors.map((monitor) =>
        monitor.query<{ r: { applied: boolean } }>(
          `select kai_recover('storm', 'f1', 0, 'restart', null, '{"event": "recovery:restarted"}') as r`,
        ),
      ),
    );
    expect(results.filter((result) => result.rows[0]?.r.applied)).toHaveLength(1);
    const history = await setup.query(`select count(*)::int as n from job_history where job_id = 'storm' and event = 'recovery:restarted'`);
    expect(history.rows[0]?.n).toBe(1);
  });

  it('two creates with one idempotency key at once give one row', async () => {
    const first = await connectAs('service_role');
    const second = await connectAs('service_role');
    await first.query('begin');
    await first.query('select kai_create_jobs($1)', [JSON.stringify([{ id: 'idem-a', job_type: 'pdf', payload: {}, idempotency_key: 'k' }])]);
    const secondPid = await pidOf(second);
    const other = second.query<{ r: { created: boolean; row: { id: string } }[] }>('select kai_create_jobs($1) as r', [
      JSON.stringify([{ id: 'idem-b', job_type: 'pdf', payload: {}, idempotency_key: 'k' }]),
    ]);
    await waitUntilBlocked(secondPid);
    await first.query('commit');
    const [outcome] = (await other).rows[0]?.r ?? [];
    expect(outcome).toMatchObject({ created: false, row: { id: 'idem-a' } });
    expect((await first.query('select count(*)::int as n from kai_background_jobs')).rows[0]?.n).toBe(1);
  });

  it('overlapping heartbeat batches in opposite orders never deadlock', async () => {
    const a = await connectAs('service_role');
    const b = await connectAs('service_role');
    const ids = Array.from({ length: 50 }, (_, i) => `hb-${String(i).padStart(2, '0')}`);
    await a.query('select kai_create_jobs($1)', [JSON.stringify(ids.map((id) => ({ id, job_type: 'pdf', payload: {} })))]);
    for (const id of ids) await a.query('select kai_mark_processing($1, $2, $3)', [id, 'f', 'w']);
    const beats = ids.map((id) => ({ id, job_type: 'pdf', fence: 'f' }));
    for (let round = 0; round < 10; round++) {
      const [left, right] = await Promise.all([
        a.query<{ r: string[] }>('select kai_heartbeat($1) as r', [JSON.stringify(beats)]),
        b.query<{ r: string[] }>('select kai_heartbeat($1) as r', [JSON.stringify([...beats].reverse())]),
      ]);
      expect(left.rows[0]?.r).toEqual([]);
      expect(right.rows[0]?.r).toEqual([]);
    }
  });
});

describe('checkpoints', () => {
  it('saves with the current fence only, lists, replaces and clears', async () => {
    const worker = await connectAs('service_role');
    await createRunning(worker, 'cp-1', 'f1');
    const data = '{"pages": 3}';
    const save = (fence: string, stage: string, stageIndex: number) =>
      worker.query('select kai_save_checkpoint($1, $2, $3, $4, $5, $6, 1, 1) as r', ['cp-1', fence, stage, stageIndex, data, sha256(data)]);
    expect((await save('f1', 'pdf_loaded', 0)).rows[0]?.r).toMatchObject({ created_at: expect.any(Number) });
    await save('f1', 'text_extracted', 1);
    await save('f1', 'text_extracted', 1);
    expect((await sqlError(save('stale', 'tiles_generated', 2))).code).toBe('KJ409');
    const listed = (await worker.query(`select kai_list_checkpoints('cp-1') as r`)).rows[0]?.r as { stage: string; stage_index: number; fence: string; data_json: string }[];
    expect(listed.map((c) => [c.stage, c.stage_index, c.fence, c.data_json])).toEqual([
      ['pdf_loaded', 0, 'f1', data],
      ['text_extracted', 1, 'f1', data],
    ]);
    // The monitor restarts the job: the old attempt can no longer write a resume point.
    await worker.query(`select kai_recover('cp-1', 'f1', 0, 'restart', null, null)`);
    expect((await sqlError(save('f1', 'tiles_generated', 2))).code).toBe('KJ409');
    expect((await worker.query(`select kai_clear_checkpoints('cp-1', 'text_extracted') as n`)).rows[0]?.n).toBe(1);
    expect((await worker.query(`select kai_clear_checkpoints('cp-1') as n`)).rows[0]?.n).toBe(1);
    const bad = await sqlError(
      worker.query(`insert into job_checkpoints (job_id, job_type, stage, stage_index, data_json, bytes, sha256, schema_version, attempt, fence)
                    values ('cp-1', 'pdf', 's', 0, '{}', 2, 'not-a-hash', 1, 1, 'f')`),
    );
    expect(bad).toMatchObject({ code: '23514', constraint: 'job_checkpoints_sha256_format' });
    const noIndex = await sqlError(
      worker.query(`insert into job_checkpoints (job_id, job_type, stage, data_json, bytes, sha256, schema_version, attempt, fence)
                    values ('cp-1', 'pdf', 's', '{}', 2, $1, 1, 1, 'f')`, [sha256('{}')]),
    );
    expect(noIndex).toMatchObject({ code: '23514', constraint: 'job_checkpoints_stage_has_index' });
  });

  it('stores the exact text it hashed, and refuses text that is not JSON or does not match its hash', async () => {
    const worker = await connectAs('service_role');
    await createRunning(worker, 'cp-2', 'f1');
    // Text jsonb would rewrite: key order, spacing, a duplicate key, an exponent, an escape.
    const text = '{"z":1,"a":[1e2, 1.50],"a":"dup","s":"\\u00e9\\n"}';
    await worker.query('select kai_save_checkpoint($1, $2, $3, 0, $4, $5, 1, 1)', ['cp-2', 'f1', 's', text, sha256(text)]);
    const stored = (await worker.query<{ data_json: string; sha256: string; bytes: number }>(
      `select data_json, sha256, bytes from job_checkpoints where job_id = 'cp-2'`,
    )).rows[0];
    expect(stored).toEqual({ data_json: text, sha256: sha256(text), bytes: Buffer.byteLength(text) });
    expect(sha256((await worker.query(`select data_json::jsonb::text as j from job_checkpoints where job_id = 'cp-2'`)).rows[0]?.j)).not.toBe(sha256(text));

    const mismatch = await sqlError(worker.query('select kai_save_checkpoint($1, $2, $3, 0, $4, $5, 1, 1)', ['cp-2', 'f1', 's', '{"a":2}', sha256('{"a":1}')]));
    expect(mismatch.code).toBe('KJ422');
    expect(mismatch.message).toMatch(/does not hash to the sha256 sent/);
    const notJson = await sqlError(worker.query('select kai_save_checkpoint($1, $2, $3, 0, $4, $5, 1, 1)', ['cp-2', 'f1', 's', '{a:', sha256('{a:')]));
    expect(notJson.code).toBe('22P02');
    expect((await worker.query(`select data_json from job_checkpoints where job_id = 'cp-2'`)).rows[0]?.data_json).toBe(text);
  });

  it('a checkpoint save racing the monitor\'s restart waits for the row lock, then is refused: one wins', async () => {
    const a = await connectAs('service_role');
    const b = await connectAs('service_role');
    await createRunning(a, 'cp-3', 'f1');
    await a.query('begin');
    await a.query(`select kai_recover('cp-3', 'f1', 0, 'restart', null, null)`);
    const { rows: pidRows } = await b.query<{ pid: number }>('select pg_backend_pid() as pid');
    const save = b.query('select kai_save_checkpoint($1, $2, $3, 0, $4, $5, 1, 1, $6, 20)', ['cp-3', 'f1', 'pdf_loaded', '{}', sha256('{}'), 'text_extracted']);
    const refused = sqlError(save);
    await waitUntilBlocked(pidRows[0]?.pid as number);
    await a.query('commit');
    expect((await refused).code).toBe('KJ409');
    expect((await a.query(`select count(*)::int as n from job_checkpoints where job_id = 'cp-3'`)).rows[0]?.n).toBe(0);
    expect((await a.query(`select status, progress from kai_background_jobs where id = 'cp-3'`)).rows[0]).toEqual({ status: 'pending', progress: '0.00' });
  });

  it('saves the last checkpoint and completes in one transaction; resume states; expiry and purge', async () => {
    const worker = await connectAs('service_role');
    await createRunning(worker, 'cp-4', 'f1');
    await worker.query(`select kai_save_resume_state('cp-4', 'f1', 'b', '{"cursor": 10}', 1)`);
    expect((await worker.query(`select kai_load_resume_state('cp-4', 'b') as r`)).rows[0]?.r).toMatchObject({ state_json: '{"cursor": 10}', attempt: 1, fence: 'f1' });
    await worker.query('select kai_save_checkpoint_and_complete($1, $2, $3, 1, $4, $5, 1, 1, $6, 60000)', ['cp-4', 'f1', 'b', '{}', sha256('{}'), '{"n":1}']);
    expect((await worker.query(`select status, progress, result from kai_background_jobs where id = 'cp-4'`)).rows[0]).toEqual({ status: 'completed', progress: '100.00', result: { n: 1 } });
    // The stage's resume state went with its checkpoint; the checkpoint expires in a minute.
    expect((await worker.query(`select kai_load_resume_state('cp-4', 'b') as r`)).rows[0]?.r).toBeNull();
    expect((await worker.query(`select kai_list_checkpoints('cp-4') as r`)).rows[0]?.r).toHaveLength(1);
    await stack.admin.query(`update "${schema}".job_checkpoints set expires_at = now() - interval '1 second' where job_id = 'cp-4'`);
    expect((await worker.query(`select kai_list_checkpoints('cp-4') as r`)).rows[0]?.r).toEqual([]);
    expect((await worker.query(`select kai_purge_finished(3600000) as r`)).rows[0]?.r).toEqual({ jobs: 0, history: 0, checkpoints: 1 });
    expect((await sqlError(worker.query('select kai_save_checkpoint_and_complete($1, $2, $3, 1, $4, $5, 1, 1)', ['cp-4', 'f1', 'b', '{}', sha256('{}')]))).code).toBe('KJ412');
  });
});

describe('products and materials', () => {
  it('upserts products by (source, sku): the last of a repeated SKU wins, unchanged rows are not rewritten, a bad batch writes nothing', async () => {
    const worker = await connectAs('service_role');
    const batch = [{ sku: 'A', name: 'Tile A', price: 1.5 }, { sku: 'B', name: 'Tile B' }, { sku: 'A', name: 'Tile A2', price: 2 }];
    expect((await worker.query('select kai_upsert_products($1, $2) as n', ['feed', JSON.stringify(batch)])).rows[0]?.n).toBe(2);
    expect((await worker.query('select kai_upsert_products($1, $2) as n', ['feed', JSON.stringify(batch)])).rows[0]?.n).toBe(0);
    expect((await worker.query(`select kai_count_products('feed') as n`)).rows[0]?.n).toBe('2');
    expect((await worker.query(`select kai_get_product('feed', 'A') as p`)).rows[0]?.p).toEqual({ sku: 'A', name: 'Tile A2', price: 2 });
    const noName = await sqlError(worker.query('select kai_upsert_products($1, $2)', ['feed', JSON.stringify([{ sku: 'C', name: 'C' }, { sku: 'D' }])]));
    expect(noName.code).toBe('23502');
    const emptySku = await sqlError(worker.query('select kai_upsert_products($1, $2)', ['feed', JSON.stringify([{ sku: '', name: 'E' }])]));
    expect(emptySku).toMatchObject({ code: '23514', constraint: 'imported_products_sku_not_empty' });
    expect((await worker.query(`select kai_count_products('feed') as n`)).rows[0]?.n).toBe('2');
  });

  it('upserts materials by (document, key) and lists them by key', async () => {
    const worker = await connectAs('service_role');
    const m = (key: string, pages: number[]) => ({ key, name: key, pages });
    await worker.query('select kai_upsert_materials($1, $2)', ['doc', JSON.stringify([m('b', [1]), m('a', [2])])]);
    await worker.query('select kai_upsert_materials($1, $2)', ['doc', JSON.stringify([m('b', [1, 3])])]);
    expect((await worker.query(`select kai_list_materials('doc') as r`)).rows[0]?.r).toEqual([m('a', [2]), m('b', [1, 3])]);
    expect((await worker.query(`select kai_count_materials('doc') as n`)).rows[0]?.n).toBe('2');
  });
});

describe('the tables refuse malformed rows', () => {
  it('rejects bad statuses, progress out of bounds, finished rows without a completion time and bad counters', async () => {
    const service = await connectAs('service_role');
    await createRunning(service, 'chk-1', 'f1');
    await createRunning(service, 'chk-2', 'f2', 'scrape');
    const cases: [string, string][] = [
      [`update kai_background_jobs set status = 'running' where id = 'chk-1'`, 'kai_background_jobs_status_check'],
      [`update kai_background_jobs set progress = 150 where id = 'chk-1'`, 'progress_range'],
      [`update kai_background_jobs set status = 'completed' where id = 'chk-1'`, 'finished_has_completed_at'],
      [`update kai_scraping_sessions set failed_pages = -1 where id = 'chk-2'`, 'failed_pages_not_negative'],
      [`update kai_scraping_sessions set refs = '[]' where id = 'chk-2'`, 'refs_is_object'],
    ];
    for (const [statement, constraint] of cases) {
      const error = await sqlError(service.query(statement));
      expect(error, statement).toMatchObject({ code: '23514', constraint });
      expect(error.message).toContain(constraint);
    }
    const viaFunction = await sqlError(service.query(`select kai_progress('chk-1', 'f1', p_percent := 150)`));
    expect(viaFunction).toMatchObject({ code: '23514', constraint: 'progress_range' });
    const wrongCounter = await sqlError(service.query(`select kai_progress('chk-1', 'f1', p_counters := '{"failed_products": 1}')`));
    expect(wrongCounter.code).toBe('KJ422');
    expect(wrongCounter.message).toContain('pdf jobs have no counter failed_products');
    expect((await service.query(`select progress from kai_background_jobs where id = 'chk-1'`)).rows[0]?.progress).toBe('0.00');
  });
});

describe('privileges, row-level security, realtime', () => {
  it('lets a signed-in user read job status but not write it, and anon nothing', async () => {
    const service = await connectAs('service_role');
    await createRunning(service, 'rls-1', 'f1');
    const user = await connectAs('authenticated');
    expect((await user.query('select id, status from kai_background_jobs')).rows).toEqual([{ id: 'rls-1', status: 'processing' }]);
    // The platform's row of the job, under the platform's (here: created) read policy.
    expect((await user.query('select status from background_jobs')).rows).toEqual([{ status: 'processing' }]);
    expect((await user.query(`select kai_get_job('rls-1') ->> 'status' as s`)).rows[0]?.s).toBe('processing');
    // An id kai-jobs does not own is no job for a signed-in user (the platform's rows are read under its own policies).
    expect((await user.query(`select kai_get_job(gen_random_uuid()::text) as r`)).rows[0]?.r).toBeNull();
    for (const statement of [
      `update kai_background_jobs set progress = 1 where id = 'rls-1'`,
      `insert into kai_background_jobs (id, row_id) values ('x', 'x')`,
      `delete from kai_background_jobs`,
      `update background_jobs set progress = 1`,
      `insert into background_jobs (id) values (gen_random_uuid())`,
      `delete from background_jobs`,
      `insert into job_history (job_id, job_type, event, entry) values ('rls-1', 'pdf', 'x', '{}')`,
      `select * from job_checkpoints`,
      `select kai_progress('rls-1', 'f1', p_percent := 5)`,
      `select kai_create_jobs('[]')`,
    ]) {
      expect((await sqlError(user.query(statement))).code, statement).toBe('42501');
    }
    const anon = await connectAs('anon');
    expect((await sqlError(anon.query('select * from background_jobs'))).code).toBe('42501');
  });

  it('enforces row-level security even where a privilege is granted by mistake', async () => {
    const service = await connectAs('service_role');
    await createRunning(service, 'rls-2', 'f1');
    const admin = await stack.admin.connect();
    try {
      await admin.query('begin');
      await admin.query(`grant update, delete on "${schema}".background_jobs, "${schema}".kai_background_jobs to authenticated`);
      await admin.query(`grant select on "${schema}".job_checkpoints to authenticated`);
      await admin.query('set local role authenticated');
      const updated = await admin.query(`update "${schema}".background_jobs set progress = 1`);
      const deleted = await admin.query(`delete from "${schema}".background_jobs`);
      const updatedKai = await admin.query(`update "${schema}".kai_background_jobs set progress = 1`);
      const deletedKai = await admin.query(`delete from "${schema}".kai_background_jobs`);
      expect([updated.rowCount, deleted.rowCount, updatedKai.rowCount, deletedKai.rowCount]).toEqual([0, 0, 0, 0]);
      await service.query(`select kai_save_checkpoint('rls-2', 'f1', 's', 0, '{}', $1, 1, 1)`, [sha256('{}')]);
      expect((await admin.query(`select * from "${schema}".job_checkpoints`)).rowCount).toBe(0);
    } finally {
      await admin.query('rollback');
      admin.release();
    }
    const relations = await stack.admin.query<{ relname: string; rls: boolean }>(
      `select relname, relrowsecurity as rls from pg_class where relnamespace = $1::regnamespace and relkind = 'r' order by relname`,
      [schema],
    );
    // The platform's three (created here in its shape), kai-jobs' three status tables, history,
    // checkpoints, products and materials, and the alert outbox's two (kai_alert_incidents, kai_alert_outbox).
    expect(relations.rows.length).toBe(12);
    expect(relations.rows.every((row) => row.rls)).toBe(true);
  });

  it('runs every function as the caller with a pinned search_path, executable by service_role only', async () => {
    const { rows } = await stack.admin.query<{ fn: string; definer: boolean; pinned: boolean; anon: boolean; authenticated: boolean; service: boolean }>(
      `select p.oid::regprocedure::text as fn, p.prosecdef as definer,
              coalesce(array_to_string(p.proconfig, ',') like 'search_path=%', false) as pinned,
              has_function_privilege('anon', p.oid, 'execute') as anon,
              has_function_privilege('authenticated', p.oid, 'execute') as authenticated,
              has_function_privilege('service_role', p.oid, 'execute') as service
         from pg_proc p where p.pronamespace = $1::regnamespace order by 1`,
      [schema],
    );
    expect(rows.length).toBeGreaterThan(20);
    const readable = ['kai_now()', 'kai_ms(timestamp with time zone)', 'kai_table(text)', 'kai_locate(text)', 'kai_get_job(text)', 'kai_history(text,integer)', 'kai_list_jobs(text,text,integer,bigint)'];
    for (const row of rows) {
      expect(row, row.fn).toMatchObject({ definer: false, pinned: true, anon: false, service: true });
      expect(row.authenticated, row.fn).toBe(readable.includes(row.fn));
    }
  });

  it('puts the three status tables in the supabase_realtime publication', async () => {
    const { rows } = await stack.admin.query<{ tablename: string }>(
      `select tablename from pg_publication_tables where pubname = 'supabase_realtime' and schemaname = $1 order by 1`,
      [schema],
    );
    expect(rows.map((row) => row.tablename)).toEqual(['background_jobs', 'data_import_jobs', 'scraping_sessions']);
  });
});

describe('indexes', () => {
  it('answers the stale queries from the partial indexes, without scanning the table', async () => {
    // 20,000 finished jobs and 150 running ones in kai-jobs' table; then the planner's choice.
    const db = await stack.admin.connect();
    try {
      await db.query(`set search_path to "${schema}"`);
      // Setup, not under test: written straight into kai-jobs' table, without the mirror trigger.
      await db.query('alter table kai_background_jobs disable trigger user');
      await db.query(
        `insert into kai_background_jobs (id, row_id, job_type, status, payload, created_at, started_at, completed_at, updated_at)
         select 'done-' || i, 'done-' || i, 'pdf', 'completed', '{}', now() - interval '2 days', now() - interval '2 days',
                now() - interval '1 day', now() - interval '1 day' from generate_series(1, 20000) i`,
      );
      await db.query(
        `insert into kai_background_jobs (id, row_id, job_type, status, payload, fence, started_at, last_heartbeat, progress_checked_at)
         select 'run-' || i, 'run-' || i, 'pdf', 'processing', '{}'::jsonb,
                'f', now(), now() - (i * 10 + 5) * interval '1 second', now() - (i * 5 + 2) * interval '1 second'
           from generate_series(51, 200) i`,
      );
      await db.query('alter table kai_background_jobs enable trigger user');
      await db.query('analyze kai_background_jobs');
      const sql = (await db.query<{ q: string }>(`select kai_find_stale_query('pdf') as q`)).rows[0]?.q as string;
      await db.query(`prepare stale_pdf(text, bigint, bigint, integer) as ${sql}`);
      try {
        const plan = (await db.query<{ 'QUERY PLAN': string }>(`explain execute stale_pdf('pdf', 900000, 300000, 1000)`)).rows
          .map((row) => row['QUERY PLAN'])
          .join('\n');
        expect(plan).not.toMatch(/Seq Scan/);
        expect(plan).toContain('kai_background_jobs_heartbeat_stale_idx');
        expect(plan).toContain('kai_background_jobs_update_stale_idx');
        expect(plan).toContain('kai_background_jobs_thresholds_idx');
        const result = (await db.query<{ r: { candidates: { reason: string; row: { id: string } }[] } }>(
          `select kai_find_stale('pdf', 900000, 300000) as r`,
        )).rows[0]?.r;
        // run-90…200: heartbeat older than 15 min; run-60…89: only the update is older than 5 min;
        // run-1…50 do not exist.
        const found = (result?.candidates ?? []).map((c) => [Number(c.row.id.slice(4)), c.reason] as const);
        expect(found).toHaveLength(141);
        for (const [n, reason] of found) expect(reason).toBe(n >= 90 ? 'heartbeat_timeout' : 'update_timeout');
        expect(Math.min(...found.map(([n]) => n))).toBe(60);
      } finally {
        await db.query('deallocate stale_pdf');
      }
    } finally {
      await db.query('reset search_path');
      db.release();
    }
  });
});
