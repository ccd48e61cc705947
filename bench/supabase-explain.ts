/**
 * Prints the plans of the monitor's stale queries on a realistically filled schema, to show they
 * are index scans on the partial indexes and never read the finished rows.
 *
 *   pnpm tsx bench/supabase-explain.ts [--finished=100000]
 *
 * Needs PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test); the schema it
 * fills is dropped at the end.
 */
import { startSupabaseTestStack } from '@kai-jobs/queue/testing';

const finishedArg = process.argv.find((arg) => arg.startsWith('--finished='));
const FINISHED = finishedArg === undefined ? 100_000 : Number(finishedArg.split('=')[1]);

const stack = await startSupabaseTestStack({ schemaPrefix: 'kb' });
try {
  const schema = await stack.createSchema('explain');
  const db = await stack.admin.connect();
  try {
    await db.query(`set search_path to "${schema}"`);
    // Finished jobs (most of every table), running jobs with heartbeats spread over the last
    // hour, pending jobs, and jobs with per-job thresholds; likewise for sessions and imports.
    // Written straight into kai-jobs' tables (row_id = id), without the trigger that writes the
    // platform's rows: the plans read kai-jobs' tables only.
    await db.query('alter table kai_background_jobs disable trigger user');
    await db.query('alter table kai_scraping_sessions disable trigger user');
    await db.query(
      `insert into kai_background_jobs (id, row_id, status, payload, created_at, started_at, completed_at, updated_at)
       select 'done-' || i, 'done-' || i, case when i % 10 = 0 then 'failed' else 'completed' end, '{}',
              now() - interval '3 days', now() - interval '3 days', now() - interval '2 days', now() - interval '2 days'
         from generate_series(1, $1::int) i`,
      [FINISHED],
    );
    await db.query(
      `insert into kai_background_jobs (id, row_id, status, payload, fence, attempt, started_at, last_heartbeat, updated_at, progress_checked_at, update_timeout_ms)
       select 'run-' || i, 'run-' || i, 'processing', '{}', 'f', 1, now() - interval '2 hours', now() - (i * 3) * interval '1 second',
              now() - (i * 2) * interval '1 second', now() - (i * 2) * interval '1 second', case when i % 100 = 0 then 60000 end
         from generate_series(1, 1000) i`,
    );
    await db.query(`insert into kai_background_jobs (id, row_id, payload) select 'wait-' || i, 'wait-' || i, '{}' from generate_series(1, 200) i`);
    await db.query(
      `insert into kai_scraping_sessions (id, row_id, status, payload, created_at, started_at, completed_at, updated_at)
       select 'sess-done-' || i, 'sess-done-' || i, 'completed', '{}', now() - interval '3 days', now() - interval '3 days', now() - interval '2 days', now() - interval '2 days'
         from generate_series(1, $1::int / 10) i`,
      [FINISHED],
    );
    await db.query(
      `insert into kai_scraping_sessions (id, row_id, status, payload, fence, attempt, started_at, last_heartbeat, updated_at, progress_checked_at)
       select 'sess-run-' || i, 'sess-run-' || i, 'scraping', '{}', 'f', 1, now() - interval '2 hours', now(), now() - i * interval '20 seconds',
              now() - i * interval '20 seconds' from generate_series(1, 300) i`,
    );
    await db.query('alter table kai_background_jobs enable trigger user');
    await db.query('alter table kai_scraping_sessions enable trigger user');
    await db.query('analyze kai_background_jobs, kai_scraping_sessions');

    const explain = async (label: string, type: string, heartbeatMs: number | null, updateMs: number | null) => {
      const sql = (await db.query<{ q: string }>('select kai_find_stale_query($1) as q', [type])).rows[0]?.q as string;
      await db.query(`prepare stale(text, bigint, bigint, integer) as ${sql}`);
      try {
        // EXPLAIN takes no bind parameters: the values are literals (numbers, null, a known type).
        const plan = await db.query<{ 'QUERY PLAN': string }>(
          `explain (analyze, buffers, costs off) execute stale('${type}', ${heartbeatMs ?? 'null'}, ${updateMs ?? 'null'}, 1000)`,
        );
        console.log(`\n-- ${label}`);
        console.log(plan.rows.map((row) => row['QUERY PLAN']).join('\n'));
      } finally {
        await db.query('deallocate stale');
      }
    };
    console.log(`${FINISHED} finished PDF jobs, 1,000 running (10 with a per-job update timeout), 200 pending;`);
    console.log(`${FINISHED / 10} finished scraping sessions, 300 scraping.`);
    await explain('kai_find_stale(pdf, heartbeat 15 min, update 5 min)', 'pdf', 15 * 60_000, 5 * 60_000);
    await explain('kai_find_stale(scrape, update 30 min only)', 'scrape', null, 30 * 60_000);
  } finally {
    db.release();
  }
} finally {
  await stack.close();
}
