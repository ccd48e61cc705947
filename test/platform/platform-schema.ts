/**
 * A schema shaped like the platform's own, as it is before kai-jobs is adopted: its three status
 * tables with uuid ids, its columns, CHECK constraints, an updated_at trigger, its row-level
 * security policies (users read their own rows), grants, the realtime publication and existing
 * rows; a writer that updates rows with plain SQL (its PDF extractor and edge functions); and a
 * snapshot of everything the catalog says about those tables, to diff before and after.
 */
import { readMigrations, type Queryable } from '@kai-jobs/queue/testing';

/** The platform's three status tables. */
export const PLATFORM_TABLES = ['background_jobs', 'scraping_sessions', 'data_import_jobs'] as const;

/** The platform's DDL, in the platform's words (not kai-jobs'): applied to `schema`, as its owner. */
export function platformDdl(schema: string): string {
  const s = `"${schema}"`;
  return `
    create schema ${s};
    grant usage on schema ${s} to anon, authenticated, service_role;
    set local search_path to ${s};

    create function touch_updated_at() returns trigger language plpgsql as $$
    begin new.updated_at := now(); return new; end $$;

    create table background_jobs (
      id uuid primary key default gen_random_uuid(),
      user_id uuid,
      job_type text not null default 'pdf_processing',
      status text not null default 'pending' check (status in ('pending', 'processing', 'completed', 'failed')),
      progress integer not null default 0 check (progress >= 0 and progress <= 100),
      current_stage text,
      last_heartbeat timestamptz,
      error text,
      metadata jsonb not null default '{}',
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create index background_jobs_status_idx on background_jobs (status);
    create trigger background_jobs_touch before update on background_jobs for each row execute function touch_updated_at();

    create table scraping_sessions (
      id uuid primary key default gen_random_uuid(),
      user_id uuid,
      source_url text,
      status text not null default 'pending' check (status in ('pending', 'processing', 'scraping', 'completed', 'failed')),
      total_pages integer not null default 0,
      completed_pages integer not null default 0,
      failed_pages integer not null default 0,
      error_message text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create trigger scraping_sessions_touch before update on scraping_sessions for each row execute function touch_updated_at();

    create table data_import_jobs (
      id uuid primary key default gen_random_uuid(),
      user_id uuid,
      source_name text,
      status text not null default 'pending' check (status in ('pending', 'processing', 'completed', 'failed')),
      total_products integer not null default 0,
      processed_products integer not null default 0,
      failed_products integer not null default 0,
      error_message text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create trigger data_import_jobs_touch before update on data_import_jobs for each row execute function touch_updated_at();

    revoke all on background_jobs, scraping_sessions, data_import_jobs from public, anon, authenticated;
    grant select on background_jobs, scraping_sessions, data_import_jobs to authenticated;
    grant all on background_jobs, scraping_sessions, data_import_jobs to service_role;
    alter table background_jobs enable row level security;
    alter table scraping_sessions enable row level security;
    alter table data_import_jobs enable row level security;
    create policy "Users view own jobs" on background_jobs for select to authenticated
      using (user_id::text = current_setting('request.jwt.claim.sub', true));
    create policy "Users view own sessions" on scraping_sessions for select to authenticated
      using (user_id::text = current_setting('request.jwt.claim.sub', true));
    create policy "Users view own imports" on data_import_jobs for select to authenticated
      using (user_id::text = current_setting('request.jwt.claim.sub', true));
    create policy "Service role manages jobs" on background_jobs for all to service_role using (true) with check (true);
    create policy "Service role manages sessions" on scraping_sessions for all to service_role using (true) with check (true);
    create policy "Service role manages imports" on data_import_jobs for all to service_role using (true) with check (true);
    alter publication supabase_realtime add table background_jobs, scraping_sessions, data_import_jobs;

    -- Existing rows: finished ones, and one PDF job whose extractor died 20 minutes ago.
    insert into background_jobs (job_type, status, progress, current_stage, last_heartbeat, created_at, updated_at)
    select 'pdf_processing', 'completed', 100, 'done', now() - interval '2 days', now() - interval '2 days', now() - interval '2 days'
      from generate_series(1, 5);
    insert into scraping_sessions (source_url, status, total_pages, completed_pages, created_at, updated_at)
    values ('https://old.example.com/', 'completed', 3, 3, now() - interval '3 days', now() - interval '3 days');
    insert into data_import_jobs (source_name, status, total_products, processed_products, created_at, updated_at)
    values ('old-feed', 'failed', 10, 4, now() - interval '3 days', now() - interval '3 days');
  `;
}

/** The id of the platform's stuck PDF row, inserted by {@link insertStuckPdfRow}. */
export async function insertStuckPdfRow(db: Queryable, schema: string): Promise<string> {
  await db.query(`alter table "${schema}".background_jobs disable trigger background_jobs_touch`);
  try {
    const { rows } = await db.query<{ id: string }>(
      `insert into "${schema}".background_jobs (job_type, status, progress, current_stage, last_heartbeat, created_at, updated_at)
       values ('pdf_processing', 'processing', 40, 'extracting_text', now() - interval '20 minutes',
               now() - interval '25 minutes', now() - interval '20 minutes') returning id`,
    );
    return rows[0]?.id as string;
  } finally {
    await db.query(`alter table "${schema}".background_jobs enable trigger background_jobs_touch`);
  }
}

/**
 * The platform's other writers, as plain SQL: the PDF extractor's heartbeat and progress, an
 * edge function creating and moving a scraping session, an import finishing. Returns the ids it
 * created. Every statement must keep succeeding once kai-jobs is adopted.
 */
export async function runPlatformWriter(db: Queryable, schema: string): Promise<{ pdf: string; session: string; importJob: string }> {
  const s = `"${schema}"`;
  const pdf = (await db.query<{ id: string }>(
    `insert into ${s}.background_jobs (job_type, status, current_stage, last_heartbeat) values ('pdf_processing', 'processing', 'loading', now()) returning id`,
  )).rows[0]?.id as string;
  await db.query(`update ${s}.background_jobs set last_heartbeat = now() where id = $1`, [pdf]);
  await db.query(`update ${s}.background_jobs set progress = 55, current_stage = 'chunking' where id = $1`, [pdf]);
  const session = (await db.query<{ id: string }>(
    `insert into ${s}.scraping_sessions (source_url) values ('https://platform.example.com/') returning id`,
  )).rows[0]?.id as string;
  await db.query(`update ${s}.scraping_sessions set status = 'scraping', total_pages = 4 where id = $1`, [session]);
  await db.query(`update ${s}.scraping_sessions set completed_pages = completed_pages + 1 where id = $1`, [session]);
  const importJob = (await db.query<{ id: string }>(
    `insert into ${s}.data_import_jobs (source_name, status, total_products) values ('platform-feed', 'processing', 20) returning id`,
  )).rows[0]?.id as string;
  await db.query(`update ${s}.data_import_jobs set processed_products = 20, status = 'completed' where id = $1`, [importJob]);
  return { pdf, session, importJob };
}

/**
 * Everything the catalog says about the platform's three tables, one sorted line per fact:
 * columns (type, nullability, default), constraints, indexes, triggers, policies, row-level
 * security, grants and publication membership.
 */
export async function platformSnapshot(db: Queryable, schema: string): Promise<string[]> {
  const tables = [...PLATFORM_TABLES];
  // Definitions print schema-qualified names relative to search_path: one fixed path for every snapshot.
  await db.query('reset search_path');
  const { rows } = await db.query<{ line: string }>(
    `select format('col %s.%s %s notnull=%s default=%s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                   a.attnotnull, coalesce(pg_get_expr(d.adbin, d.adrelid), '')) as line
       from pg_attribute a join pg_class c on c.oid = a.attrelid
       left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
      where c.relnamespace = to_regnamespace($1::text) and c.relname = any($2) and a.attnum > 0 and not a.attisdropped
     union all
     select format('con %s.%s %s', c.relname, k.conname, pg_get_constraintdef(k.oid))
       from pg_constraint k join pg_class c on c.oid = k.conrelid
      where c.relnamespace = to_regnamespace($1::text) and c.relname = any($2)
     union all
     select format('idx %s.%s %s', tablename, indexname, indexdef) from pg_indexes where schemaname = $1::text and tablename = any($2)
     union all
     select format('trg %s.%s %s', c.relname, t.tgname, pg_get_triggerdef(t.oid))
       from pg_trigger t join pg_class c on c.oid = t.tgrelid
      where c.relnamespace = to_regnamespace($1::text) and c.relname = any($2) and not t.tgisinternal
     union all
     select format('pol %s.%s %s %s %s %s', tablename, policyname, cmd, roles::text, coalesce(qual, ''), coalesce(with_check, ''))
       from pg_policies where schemaname = $1::text and tablename = any($2)
     union all
     select format('rls %s %s %s', c.relname, c.relrowsecurity, c.relforcerowsecurity)
       from pg_class c where c.relnamespace = to_regnamespace($1::text) and c.relname = any($2)
     union all
     select format('grant %s %s %s', table_name, grantee, privilege_type)
       from information_schema.role_table_grants where table_schema = $1::text and table_name = any($2)
     union all
     select format('pub %s %s', pubname, tablename) from pg_publication_tables where schemaname = $1::text and tablename = any($2)`,
    [schema, tables],
  );
  return rows.map((row) => row.line).sort();
}

/** Applies kai-jobs' migrations to `schema` once, in one transaction, as `supabase db push` would (`db`: one client, not a pool). */
export async function applyKaiMigrations(db: Queryable, schema: string): Promise<void> {
  const migrations = await readMigrations();
  await db.query('begin');
  try {
    await db.query(`set local search_path to "${schema}"`);
    for (const migration of migrations) {
      try {
        await db.query(migration.sql);
      } catch (error) {
        throw new Error(`migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
      }
    }
    await db.query('commit');
  } catch (error) {
    await db.query('rollback');
    throw error;
  }
}
