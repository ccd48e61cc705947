import { afterAll, beforeAll } from 'vitest';
import { SupabaseJobStore, type LinkedJobRow, type StatusStore } from '../src/index.js';
import { runAlertOutboxContract, runStatusStoreContract, type StatusStoreContractHarness, startSupabaseTestStack, type SupabaseTestStack } from '../src/testing.js';

// The contract suite through the real supabase-js client, over HTTP, to the PostgREST-compatible
// endpoint, into PostgreSQL: one fresh migrated schema per test.
let stack: SupabaseTestStack;
const schemaOf = new WeakMap<StatusStore, string>();

beforeAll(async () => {
  stack = await startSupabaseTestStack();
});

afterAll(async () => {
  await stack?.close();
});

const harness: StatusStoreContractHarness = {
  async setup() {
    const schema = await stack.createSchema('contract');
    const store = new SupabaseJobStore({ url: stack.url, serviceRoleKey: stack.serviceRoleKey, schema });
    schemaOf.set(store, schema);
    return {
      store,
      async cleanup() {
        await store.close();
        await stack.dropSchema(schema);
      },
    };
  },
  async backdate(store, id, change) {
    const schema = schemaOf.get(store);
    if (schema === undefined) throw new Error('unknown store');
    // As the Redis harness does: heartbeat and update move back from their current values, and
    // the update clock (progress_checked_at, the "index") moves with updated_at.
    let touched = 0;
    for (const [table, type] of [
      ['kai_background_jobs', 'pdf'],
      ['kai_scraping_sessions', 'scrape'],
      ['kai_data_import_jobs', 'xml-import'],
    ] as const) {
      const result = await stack.admin.query(
        `update "${schema}".${table} set
           last_heartbeat = case when $2::bigint is null then last_heartbeat else last_heartbeat - $2 * interval '1 millisecond' end,
           updated_at = case when $3::bigint is null then updated_at else updated_at - $3 * interval '1 millisecond' end,
           progress_checked_at = case when $3::bigint is null then progress_checked_at
                                      else updated_at - $3 * interval '1 millisecond' end
         where id = $1 and job_type = $4`,
        [id, change.heartbeatMs ?? null, change.updateMs ?? null, type],
      );
      touched += result.rowCount ?? 0;
    }
    if (touched !== 1) throw new Error(`backdate: no row ${id}`);
  },
  async linkedRow(store, backgroundJobId) {
    const schema = schemaOf.get(store);
    if (schema === undefined) throw new Error('unknown store');
    // The platform's view: the background_jobs row itself, read with SQL (times as store ms) —
    // its own columns (status, progress, stage, heartbeat, error, times) — beside the bookkeeping
    // kai-jobs keeps for the session or import it follows (attempt, worker, restarts, ...).
    const ms = (column: string, as: string) => `floor(extract(epoch from ${column}) * 1000)::bigint as ${as}`;
    const { rows } = await stack.admin.query(
      `with kai as (
         select id, 'scrape' as job_type, background_job_id, refs, progress_detail, error_stage, attempt, worker_id,
                restart_count, duration_ms, started_at, completed_at, jsonb_build_object('sessionId', id) as follows
           from "${schema}".kai_scraping_sessions
         union all
         select id, 'xml-import', background_job_id, refs, progress_detail, error_stage, attempt, worker_id,
                restart_count, duration_ms, started_at, completed_at, jsonb_build_object('importJobId', id)
           from "${schema}".kai_data_import_jobs)
       select k.refs ->> 'backgroundJobId' as id, b.job_type, k.id as bullmq_job_id, b.status, b.progress::float8 as progress,
              b.current_stage, k.progress_detail, b.error, k.error_stage, k.attempt, k.worker_id, k.restart_count,
              k.duration_ms, k.follows as refs,
              ${ms('b.last_heartbeat', 'last_heartbeat')}, ${ms('b.created_at', 'created_at')}, ${ms('b.updated_at', 'updated_at')},
              ${ms('k.started_at', 'started_at')}, ${ms('k.completed_at', 'completed_at')}
         from "${schema}".background_jobs b join kai k on k.background_job_id = b.id::text
        where k.refs ->> 'backgroundJobId' = $1`,
      [backgroundJobId],
    );
    const row = rows[0] as Record<string, unknown> | undefined;
    if (row === undefined) return null;
    const num = (value: unknown): number | null => (value === null ? null : Number(value));
    return {
      id: String(row['id']),
      jobType: row['job_type'],
      followsId: String(row['bullmq_job_id']),
      status: row['status'],
      progress: Number(row['progress']),
      currentStage: row['current_stage'],
      progressDetail: row['progress_detail'],
      lastHeartbeat: num(row['last_heartbeat']),
      error: row['error'],
      errorStage: row['error_stage'],
      attempt: Number(row['attempt']),
      workerId: row['worker_id'],
      restartCount: Number(row['restart_count']),
      createdAt: Number(row['created_at']),
      updatedAt: Number(row['updated_at']),
      startedAt: num(row['started_at']),
      completedAt: num(row['completed_at']),
      durationMs: num(row['duration_ms']),
      refs: row['refs'],
    } as LinkedJobRow;
  },
};
runStatusStoreContract('supabase', harness);
runAlertOutboxContract('supabase', harness);
