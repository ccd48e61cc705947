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
    const row = (await worker.query(`select status, restart_count from background_jobs where id = 'race-1'`)).rows[0];
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
    const row = (await worker.query(`select status, restart_count, fence from background_jobs where id = 'race-2'`)).rows[0];
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
    expect((await first.query('select count(*)::int as n from background_jobs')).rows[0]?.n).toBe(1);
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
    const sha = 'a'.repeat(64);
    const save = (fence: string, stage: string, kind = 'stage', seq = 0) =>
      worker.query('select kai_save_checkpoint($1, $2, $3, $4, $5, 1, $6, $7) as r', ['cp-1', fence, stage, '{"pages": 3}', sha, kind, seq]);
    expect((await save('f1', 'pdf_loaded')).rows[0]?.r).toMatchObject({ stage: 'pdf_loaded', kind: 'stage', attempt: 1 });
    await save('f1', 'text_extracted', 'partial', 1);
    await save('f1', 'text_extracted', 'partial', 2);
    await save('f1', 'text_extracted', 'partial', 2);
    expect((await sqlError(save('stale', 'tiles_generated'))).code).toBe('KJ409');
    const listed = (await worker.query(`select kai_list_checkpoints('cp-1') as r`)).rows[0]?.r as { stage: string; seq: number; fence: string }[];
    expect(listed.map((c) => [c.stage, c.seq])).toEqual([
      ['pdf_loaded', 0],
      ['text_extracted', 1],
      ['text_extracted', 2],
    ]);
    // The monitor restarts the job: the old attempt can no longer write a resume point.
    await worker.query(`select kai_recover('cp-1', 'f1', 0, 'restart', null, null)`);
    expect((await sqlError(save('f1', 'tiles_generated'))).code).toBe('KJ409');
    expect((await worker.query(`select kai_clear_checkpoints('cp-1', 'text_extracted') as n`)).rows[0]?.n).toBe(2);
    expect((await worker.query(`select kai_clear_checkpoints('cp-1') as n`)).rows[0]?.n).toBe(1);
    const bad = await sqlError(
      worker.query(`insert into job_checkpoints (job_id, job_type, stage, data, sha256, schema_version, attempt, fence)
                    values ('cp-1', 'pdf', 's', '{}', 'not-a-hash', 1, 1, 'f')`),
    );
    expect(bad).toMatchObject({ code: '23514', constraint: 'job_checkpoints_sha256_format' });
  });
});

describe('the tables refuse malformed rows', () => {
  it('rejects bad statuses, progress out of bounds, finished rows without a completion time and bad counters', async () => {
    const service = await connectAs('service_role');
    await createRunning(service, 'chk-1', 'f1');
    await createRunning(service, 'chk-2', 'f2', 'scrape');
    const cases: [string, string][] = [
      [`update background_jobs set status = 'running' where id = 'chk-1'`, 'background_jobs_status_check'],
      [`update background_jobs set progress = 150 where id = 'chk-1'`, 'progress_range'],
      [`update background_jobs set status = 'completed' where id = 'chk-1'`, 'finished_has_completed_at'],
      [`update scraping_sessions set failed_pages = -1 where id = 'chk-2'`, 'failed_pages_not_negative'],
      [`update scraping_sessions set refs = '[]' where id = 'chk-2'`, 'refs_is_object'],
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
    expect((await service.query(`select progress from background_jobs where id = 'chk-1'`)).rows[0]?.progress).toBe('0.00');
  });
});

describe('privileges, row-level security, realtime', () => {
  it('lets a signed-in user read job status but not write it, and anon nothing', async () => {
    const service = await connectAs('service_role');
    await createRunning(service, 'rls-1', 'f1');
    const user = await connectAs('authenticated');
    expect((await user.query('select id, status from background_jobs')).rows).toEqual([{ id: 'rls-1', status: 'processing' }]);
    expect((await user.query(`select kai_get_job('rls-1') ->> 'status' as s`)).rows[0]?.s).toBe('processing');
    for (const statement of [
      `update background_jobs set progress = 1 where id = 'rls-1'`,
      `insert into background_jobs (id) values ('x')`,
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
      await admin.query(`grant update, delete on "${schema}".background_jobs to authenticated`);
      await admin.query(`grant select on "${schema}".job_checkpoints to authenticated`);
      await admin.query('set local role authenticated');
      const updated = await admin.query(`update "${schema}".background_jobs set progress = 1`);
      const deleted = await admin.query(`delete from "${schema}".background_jobs`);
      expect([updated.rowCount, deleted.rowCount]).toEqual([0, 0]);
      await service.query(`select kai_save_checkpoint('rls-2', 'f1', 's', '{}', $1, 1)`, ['b'.repeat(64)]);
      expect((await admin.query(`select * from "${schema}".job_checkpoints`)).rowCount).toBe(0);
    } finally {
      await admin.query('rollback');
      admin.release();
    }
    const relations = await stack.admin.query<{ relname: string; rls: boolean }>(
      `select relname, relrowsecurity as rls from pg_class where relnamespace = $1::regnamespace and relkind = 'r' order by relname`,
      [schema],
    );
    expect(relations.rows.length).toBe(7);
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
    // 20,000 finished jobs, 200 running, 50 followers of sessions; then the planner's choice.
    const db = await stack.admin.connect();
    try {
      await db.query(`set search_path to "${schema}"`);
      await db.query(
        `insert into background_jobs (id, job_type, status, payload, created_at, started_at, completed_at, updated_at)
         select 'done-' || i, 'pdf', 'completed', '{}', now() - interval '2 days', now() - interval '2 days',
                now() - interval '1 day', now() - interval '1 day' from generate_series(1, 20000) i`,
      );
      await db.query(
        `insert into background_jobs (id, job_type, status, payload, fence, started_at, last_heartbeat, progress_checked_at)
         select 'run-' || i, case when i <= 50 then 'scrape' else 'pdf' end, 'processing', case when i <= 50 then null else '{}'::jsonb end,
                'f', now(), now() - (i * 10 + 5) * interval '1 second', now() - (i * 5 + 2) * interval '1 second'
           from generate_series(1, 200) i`,
      );
      await db.query('analyze background_jobs');
      const sql = (await db.query<{ q: string }>(`select kai_find_stale_query('pdf') as q`)).rows[0]?.q as string;
      await db.query(`prepare stale_pdf(text, bigint, bigint, integer) as ${sql}`);
      try {
        const plan = (await db.query<{ 'QUERY PLAN': string }>(`explain execute stale_pdf('pdf', 900000, 300000, 1000)`)).rows
          .map((row) => row['QUERY PLAN'])
          .join('\n');
        expect(plan).not.toMatch(/Seq Scan/);
        expect(plan).toContain('background_jobs_heartbeat_stale_idx');
        expect(plan).toContain('background_jobs_update_stale_idx');
        expect(plan).toContain('background_jobs_thresholds_idx');
        const result = (await db.query<{ r: { candidates: { reason: string; row: { id: string } }[] } }>(
          `select kai_find_stale('pdf', 900000, 300000) as r`,
        )).rows[0]?.r;
        // run-90…200: heartbeat older than 15 min; run-60…89: only the update is older than 5 min;
        // run-1…50 follow scraping sessions and are not PDF jobs.
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
