-- kai-jobs: the platform's job-status tables (background_jobs, scraping_sessions,
-- data_import_jobs) adopted as they are, kai-jobs' own bookkeeping beside them, job history,
-- checkpoints, the product and material tables, the SQL functions every state change goes
-- through, row-level security and the realtime publication.
--
-- Adopting, not replacing. On a project that already has the platform's three tables this file
-- only ADDS to them: nullable columns it writes that a table lacks (last_heartbeat, progress,
-- current_stage, the error column, created_at, updated_at, started_at, completed_at — each only
-- if missing, without a default), one partial index per table
-- (the monitor's stale query over rows kai-jobs does not own) and the realtime publication
-- membership. It never drops, retypes, constrains or re-polices anything of the platform's. On
-- an empty project it creates the three tables in the platform's shape (uuid ids, the
-- platform's statuses, its policies), so the same code runs on both.
--
-- kai-jobs' bookkeeping — fence, attempt, restarts, payload, refs, idempotency key, timeouts,
-- result, the follower link — lives in tables of its own: kai_background_jobs,
-- kai_scraping_sessions, kai_data_import_jobs (one row per kai-jobs job, same columns as the
-- rows the SQL functions return), plus job_history and job_checkpoints. A kai row is keyed by
-- the kai job id (text) and names the platform row it drives in `row_id` (the platform id as
-- text, whatever the column's type). A trigger on each kai table writes the platform's own
-- columns of that row (status, progress, current_stage, last_heartbeat, error / error_message,
-- the counters, created_at, updated_at — those the platform table has), so the platform's
-- dashboards and Realtime subscriptions see every change in the same transaction.
--
-- Ids: a platform table with uuid ids gets uuid row ids. A kai job id that is a uuid is used as
-- the row id as it is; any other id (e.g. "pdf-42") is mapped to the uuid md5(id)::uuid
-- (kai_row_id), stable and collision-free in practice; the kai id stays in the kai row.
--
-- Rows kai-jobs does not own (the platform's PDF extractor, its edge functions, rows created
-- before adoption) have no kai row: the monitor judges them by the platform's columns with the
-- same thresholds (kai_find_stale returns them with `foreign: true`) and fails them
-- (kai_recover), because kai-jobs has no payload to run them with.
--
-- Schema: everything is created in the first existing schema of search_path — `public` on a
-- Supabase project. The test suites apply this file to a fresh schema per run by setting
-- search_path first. Functions pin that schema with `SET search_path FROM CURRENT`.
--
-- Re-runnable: every statement is `if not exists` / `create or replace`, so the file applies
-- twice in a row, and a later migration may `create or replace` any function defined here.
--
-- Clock: every function judges time by now() — the start of its transaction, which is one RPC.
-- All writes of one call carry one instant (a batch of 1,000 heartbeats gets one timestamp), and
-- now() is what the stale queries compare against; worker clocks are never used.
--
-- Security: functions are SECURITY INVOKER. They run with the caller's rights, so the service
-- role (which owns every write privilege and the write policies) can call them, and anyone else
-- is refused twice: EXECUTE is granted to service_role only, and even a function granted by
-- mistake could not write, because other roles have no write privilege and no write policy.
--
-- Errors: functions raise SQLSTATEs of class KJ, which PostgREST passes through as `code`
-- (HTTP 400): KJ404 job not found, KJ409 superseded fence, KJ412 transition not allowed in the
-- row's state, KJ422 invalid input. CHECK constraints of kai-jobs' own tables reject malformed
-- rows (23514); the platform's tables keep exactly the constraints they had.

select set_config('kai.saved_search_path', current_setting('search_path'), false);
select set_config('search_path', format('%I', current_schema()), false);

-- ---------------------------------------------------------------------------------------------
-- The platform's status tables: created in its shape when missing, else only added to
-- ---------------------------------------------------------------------------------------------

do $$
begin
  if to_regclass(format('%I.background_jobs', current_schema())) is null then
    create table background_jobs (
      id uuid primary key default gen_random_uuid(),
      job_type text,
      status text not null default 'pending'
        constraint background_jobs_status_check check (status in ('pending', 'processing', 'completed', 'failed')),
      progress integer not null default 0 constraint background_jobs_progress_check check (progress between 0 and 100),
      current_stage text,
      last_heartbeat timestamptz,
      error text,
      metadata jsonb,
      total_pages integer,
      completed_pages integer,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    comment on table background_jobs is 'Status of platform background jobs (created by kai-jobs in the platform''s shape).';
    revoke all on background_jobs from public, anon, authenticated;
    grant select, insert, update, delete on background_jobs to service_role;
    grant select on background_jobs to authenticated;
    alter table background_jobs enable row level security;
    create policy "service role writes job status" on background_jobs for all to service_role using (true) with check (true);
    create policy "signed-in users read job status" on background_jobs for select to authenticated using (true);
  end if;
  if to_regclass(format('%I.scraping_sessions', current_schema())) is null then
    create table scraping_sessions (
      id uuid primary key default gen_random_uuid(),
      status text not null default 'pending'
        constraint scraping_sessions_status_check
        check (status in ('pending', 'processing', 'scraping', 'completed', 'failed')),
      source_url text,
      total_pages integer not null default 0,
      completed_pages integer not null default 0,
      failed_pages integer not null default 0,
      error_message text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    comment on table scraping_sessions is 'Scraping sessions (created by kai-jobs in the platform''s shape).';
    revoke all on scraping_sessions from public, anon, authenticated;
    grant select, insert, update, delete on scraping_sessions to service_role;
    grant select on scraping_sessions to authenticated;
    alter table scraping_sessions enable row level security;
    create policy "service role writes job status" on scraping_sessions for all to service_role using (true) with check (true);
    create policy "signed-in users read job status" on scraping_sessions for select to authenticated using (true);
  end if;
  if to_regclass(format('%I.data_import_jobs', current_schema())) is null then
    create table data_import_jobs (
      id uuid primary key default gen_random_uuid(),
      status text not null default 'pending'
        constraint data_import_jobs_status_check check (status in ('pending', 'processing', 'completed', 'failed')),
      source_name text,
      total_products integer not null default 0,
      processed_products integer not null default 0,
      failed_products integer not null default 0,
      error_message text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    comment on table data_import_jobs is 'XML product imports (created by kai-jobs in the platform''s shape).';
    revoke all on data_import_jobs from public, anon, authenticated;
    grant select, insert, update, delete on data_import_jobs to service_role;
    grant select on data_import_jobs to authenticated;
    alter table data_import_jobs enable row level security;
    create policy "service role writes job status" on data_import_jobs for all to service_role using (true) with check (true);
    create policy "signed-in users read job status" on data_import_jobs for select to authenticated using (true);
  end if;
end $$;

-- What kai-jobs writes and the monitor reads on each platform table, added where missing:
-- nullable, no default (existing rows and writers are unaffected; `add column` without a default
-- does not rewrite the table).
alter table background_jobs
  add column if not exists last_heartbeat timestamptz, add column if not exists progress numeric(5, 2),
  add column if not exists current_stage text, add column if not exists error text,
  add column if not exists created_at timestamptz, add column if not exists updated_at timestamptz,
  add column if not exists started_at timestamptz, add column if not exists completed_at timestamptz;
alter table scraping_sessions
  add column if not exists last_heartbeat timestamptz, add column if not exists progress numeric(5, 2),
  add column if not exists current_stage text, add column if not exists error_message text,
  add column if not exists created_at timestamptz, add column if not exists updated_at timestamptz,
  add column if not exists started_at timestamptz, add column if not exists completed_at timestamptz;
alter table data_import_jobs
  add column if not exists last_heartbeat timestamptz, add column if not exists progress numeric(5, 2),
  add column if not exists current_stage text, add column if not exists error_message text,
  add column if not exists created_at timestamptz, add column if not exists updated_at timestamptz,
  add column if not exists started_at timestamptz, add column if not exists completed_at timestamptz;

-- The monitor's query over rows kai-jobs does not own reads only unfinished rows: partial.
create index if not exists kai_background_jobs_unfinished_idx on background_jobs (last_heartbeat)
  where status in ('pending', 'processing', 'scraping');
create index if not exists kai_scraping_sessions_unfinished_idx on scraping_sessions (last_heartbeat)
  where status in ('pending', 'processing', 'scraping');
create index if not exists kai_data_import_jobs_unfinished_idx on data_import_jobs (last_heartbeat)
  where status in ('pending', 'processing', 'scraping');

-- ---------------------------------------------------------------------------------------------
-- kai-jobs' rows: one per kai-jobs job, beside the platform row it drives
-- ---------------------------------------------------------------------------------------------

-- The columns of the three kai tables, defined once here and copied with LIKE, so the three stay
-- identical. A temporary table: it vanishes with this session.
create temporary table if not exists kai_status_columns (
  -- The platform row this job drives (its id as text; see kai_row_id).
  row_id text not null,
  -- Each table adds its own CHECK on the values (a scraping session has 'scraping').
  status text not null default 'pending',
  job_type text not null,
  bullmq_job_id text,
  progress numeric(5, 2) not null default 0
    constraint progress_range check (progress between 0 and 100),
  current_stage text,
  progress_detail text
    constraint progress_detail_length check (char_length(progress_detail) <= 500),
  resumed_from text,
  error_stage text,
  last_heartbeat timestamptz,
  attempt integer not null default 0
    constraint attempt_not_negative check (attempt >= 0),
  fence text,
  worker_id text,
  restart_count integer not null default 0
    constraint restart_count_not_negative check (restart_count >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- The update timeout counts from here: the last progress, or the last time the monitor found
  -- the row healthy (kai_defer_check). Kept apart from updated_at so a check is not "progress".
  progress_checked_at timestamptz not null default now(),
  started_at timestamptz,
  completed_at timestamptz,
  duration_ms bigint
    constraint duration_not_negative check (duration_ms >= 0),
  result jsonb,
  payload jsonb,
  refs jsonb not null default '{}'
    constraint refs_is_object check (jsonb_typeof(refs) = 'object'),
  idempotency_key text
    constraint idempotency_key_length check (char_length(idempotency_key) between 1 and 200),
  heartbeat_timeout_ms bigint
    constraint heartbeat_timeout_positive check (heartbeat_timeout_ms > 0),
  update_timeout_ms bigint
    constraint update_timeout_positive check (update_timeout_ms > 0),
  -- Set by kai_purge_finished once history and checkpoints of a finished row are removed.
  purged_at timestamptz,
  constraint finished_has_completed_at
    check ((status in ('completed', 'failed')) = (completed_at is not null)),
  constraint running_has_started_at
    check (status not in ('processing', 'scraping') or started_at is not null)
);

create table if not exists kai_background_jobs (
  id text primary key
    constraint kai_background_jobs_id_length check (char_length(id) between 1 and 200),
  like kai_status_columns including defaults including constraints,
  error text,
  total_pages integer not null default 0 constraint total_pages_not_negative check (total_pages >= 0),
  completed_pages integer not null default 0 constraint completed_pages_not_negative check (completed_pages >= 0),
  constraint kai_background_jobs_row_id unique (row_id),
  constraint kai_background_jobs_status_check check (status in ('pending', 'processing', 'completed', 'failed')),
  constraint kai_background_jobs_job_type_check check (job_type = 'pdf')
);
alter table kai_background_jobs alter column job_type set default 'pdf';
comment on table kai_background_jobs is
  'kai-jobs'' bookkeeping of its PDF jobs; row_id is the background_jobs row each one drives.';

create table if not exists kai_scraping_sessions (
  id text primary key
    constraint kai_scraping_sessions_id_length check (char_length(id) between 1 and 200),
  like kai_status_columns including defaults including constraints,
  total_pages integer not null default 0 constraint total_pages_not_negative check (total_pages >= 0),
  completed_pages integer not null default 0 constraint completed_pages_not_negative check (completed_pages >= 0),
  failed_pages integer not null default 0 constraint failed_pages_not_negative check (failed_pages >= 0),
  error_message text,
  -- The background_jobs row that follows this session (its id as text), kept in step by the trigger.
  background_job_id text,
  constraint kai_scraping_sessions_row_id unique (row_id),
  constraint kai_scraping_sessions_status_check
    check (status in ('pending', 'processing', 'scraping', 'completed', 'failed')),
  constraint kai_scraping_sessions_job_type_check check (job_type = 'scrape')
);
alter table kai_scraping_sessions alter column job_type set default 'scrape';
comment on table kai_scraping_sessions is
  'kai-jobs'' bookkeeping of its scrape jobs; row_id is the scraping_sessions row each one drives.';

create table if not exists kai_data_import_jobs (
  id text primary key
    constraint kai_data_import_jobs_id_length check (char_length(id) between 1 and 200),
  like kai_status_columns including defaults including constraints,
  total_products integer not null default 0 constraint total_products_not_negative check (total_products >= 0),
  processed_products integer not null default 0 constraint processed_products_not_negative check (processed_products >= 0),
  failed_products integer not null default 0 constraint failed_products_not_negative check (failed_products >= 0),
  error_message text,
  background_job_id text,
  constraint kai_data_import_jobs_row_id unique (row_id),
  constraint kai_data_import_jobs_status_check check (status in ('pending', 'processing', 'completed', 'failed')),
  constraint kai_data_import_jobs_job_type_check check (job_type = 'xml-import')
);
alter table kai_data_import_jobs alter column job_type set default 'xml-import';
comment on table kai_data_import_jobs is
  'kai-jobs'' bookkeeping of its xml-import jobs; row_id is the data_import_jobs row each one drives.';

drop table kai_status_columns;

-- Indexes. The monitor's stale queries read only unfinished rows, a small part of each table, so
-- the indexes are partial: finished rows never enter them and the queries never scan the table.
create index if not exists kai_background_jobs_heartbeat_stale_idx on kai_background_jobs (job_type, last_heartbeat)
  where status in ('processing', 'scraping');
create index if not exists kai_background_jobs_update_stale_idx on kai_background_jobs (job_type, progress_checked_at)
  where status in ('pending', 'processing', 'scraping');
create index if not exists kai_background_jobs_thresholds_idx on kai_background_jobs (job_type)
  where status in ('pending', 'processing', 'scraping')
    and (heartbeat_timeout_ms is not null or update_timeout_ms is not null);
create index if not exists kai_background_jobs_status_idx on kai_background_jobs (job_type, status, updated_at desc);
create unique index if not exists kai_background_jobs_idempotency_key on kai_background_jobs (job_type, idempotency_key)
  where idempotency_key is not null;
create index if not exists kai_background_jobs_purge_idx on kai_background_jobs (completed_at)
  where status in ('completed', 'failed') and purged_at is null;

create index if not exists kai_scraping_sessions_heartbeat_stale_idx on kai_scraping_sessions (job_type, last_heartbeat)
  where status in ('processing', 'scraping');
create index if not exists kai_scraping_sessions_update_stale_idx on kai_scraping_sessions (job_type, progress_checked_at)
  where status in ('pending', 'processing', 'scraping');
create index if not exists kai_scraping_sessions_thresholds_idx on kai_scraping_sessions (job_type)
  where status in ('pending', 'processing', 'scraping')
    and (heartbeat_timeout_ms is not null or update_timeout_ms is not null);
create index if not exists kai_scraping_sessions_status_idx on kai_scraping_sessions (job_type, status, updated_at desc);
create unique index if not exists kai_scraping_sessions_idempotency_key on kai_scraping_sessions (job_type, idempotency_key)
  where idempotency_key is not null;
create index if not exists kai_scraping_sessions_purge_idx on kai_scraping_sessions (completed_at)
  where status in ('completed', 'failed') and purged_at is null;
create index if not exists kai_scraping_sessions_background_job_idx on kai_scraping_sessions (background_job_id);

create index if not exists kai_data_import_jobs_heartbeat_stale_idx on kai_data_import_jobs (job_type, last_heartbeat)
  where status in ('processing', 'scraping');
create index if not exists kai_data_import_jobs_update_stale_idx on kai_data_import_jobs (job_type, progress_checked_at)
  where status in ('pending', 'processing', 'scraping');
create index if not exists kai_data_import_jobs_thresholds_idx on kai_data_import_jobs (job_type)
  where status in ('pending', 'processing', 'scraping')
    and (heartbeat_timeout_ms is not null or update_timeout_ms is not null);
create index if not exists kai_data_import_jobs_status_idx on kai_data_import_jobs (job_type, status, updated_at desc);
create unique index if not exists kai_data_import_jobs_idempotency_key on kai_data_import_jobs (job_type, idempotency_key)
  where idempotency_key is not null;
create index if not exists kai_data_import_jobs_purge_idx on kai_data_import_jobs (completed_at)
  where status in ('completed', 'failed') and purged_at is null;
create index if not exists kai_data_import_jobs_background_job_idx on kai_data_import_jobs (background_job_id);

-- ---------------------------------------------------------------------------------------------
-- History, checkpoints, products, materials
-- ---------------------------------------------------------------------------------------------

create table if not exists job_history (
  id bigint generated always as identity primary key,
  job_id text not null,
  job_type text not null constraint job_history_job_type_check check (job_type in ('pdf', 'scrape', 'xml-import')),
  at timestamptz not null default now(),
  event text not null constraint job_history_event_not_empty check (event <> ''),
  -- The entry as written (event included, `at` excluded: `at` is the store's clock).
  entry jsonb not null constraint job_history_entry_is_object check (jsonb_typeof(entry) = 'object')
);
create index if not exists job_history_job_idx on job_history (job_id, id);
comment on table job_history is 'What happened to each job, oldest first; the newest 200 entries per job are kept.';

-- Checkpoint data is stored as TEXT (`data_json`), not jsonb: see 20261130120000_kai_jobs_stores.sql.
create table if not exists job_checkpoints (
  job_id text not null,
  job_type text not null constraint job_checkpoints_job_type_check check (job_type in ('pdf', 'scrape', 'xml-import')),
  stage text not null constraint job_checkpoints_stage_not_empty check (stage <> ''),
  -- stage: the stage's output, saved when the stage finished (seq 0).
  -- partial: one part of a stage's output (seq n: batch n), so a long stage resumes mid-way.
  -- resume_state: the state a stage resumes from (e.g. a crawl frontier), overwritten each save (seq 0).
  kind text not null default 'stage'
    constraint job_checkpoints_kind_check check (kind in ('stage', 'partial', 'resume_state')),
  seq integer not null default 0 constraint job_checkpoints_seq_not_negative check (seq >= 0),
  stage_index integer constraint job_checkpoints_stage_index_not_negative check (stage_index >= 0),
  data_json text not null,
  bytes integer not null constraint job_checkpoints_bytes_not_negative check (bytes >= 0),
  sha256 text not null constraint job_checkpoints_sha256_format check (sha256 ~ '^[0-9a-f]{64}$'),
  schema_version integer not null constraint job_checkpoints_schema_version_positive check (schema_version > 0),
  attempt integer not null constraint job_checkpoints_attempt_not_negative check (attempt >= 0),
  fence text not null,
  created_at timestamptz not null default now(),
  -- Set when the job finished (or by kai_expire_checkpoints): the row is gone from listings from
  -- then on and deleted by kai_purge_finished / kai_purge_expired_checkpoints.
  expires_at timestamptz,
  primary key (job_id, stage, kind, seq),
  constraint job_checkpoints_single_rows_have_seq_0 check (kind = 'partial' or seq = 0),
  -- A stage checkpoint knows its position in the job's stage list.
  constraint job_checkpoints_stage_has_index check (kind <> 'stage' or stage_index is not null)
);
create index if not exists job_checkpoints_expires_idx on job_checkpoints (expires_at) where expires_at is not null;
comment on table job_checkpoints is 'Stage outputs each job resumes from; written only through kai_save_checkpoint (fenced).';
comment on column job_checkpoints.data_json is
  'The checkpoint data as the exact JSON text the store hashed (sha256 is over its UTF-8 bytes). Text, not jsonb: jsonb would not return the same text.';
create table if not exists imported_products (
  source_name text not null constraint imported_products_source_name_not_empty check (source_name <> ''),
  sku text not null constraint imported_products_sku_not_empty check (sku <> ''),
  name text not null,
  -- Every mapped field of the product, as imported.
  fields jsonb not null default '{}' constraint imported_products_fields_is_object check (jsonb_typeof(fields) = 'object'),
  content_sha256 text constraint imported_products_sha256_format check (content_sha256 ~ '^[0-9a-f]{64}$'),
  import_job_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (source_name, sku)
);
create index if not exists imported_products_import_job_idx on imported_products (import_job_id);
comment on table imported_products is 'Products written by XML imports, keyed by feed (source_name) and SKU.';

create table if not exists extracted_materials (
  document_id text not null constraint extracted_materials_document_id_not_empty check (document_id <> ''),
  material_key text not null constraint extracted_materials_key_not_empty check (material_key <> ''),
  name text,
  properties jsonb not null default '{}' constraint extracted_materials_properties_is_object check (jsonb_typeof(properties) = 'object'),
  job_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (document_id, material_key)
);
create index if not exists extracted_materials_job_idx on extracted_materials (job_id);
comment on table extracted_materials is 'Materials extracted from PDFs, keyed by document and a stable material key.';

-- ms since the epoch (what the TypeScript side calls store time).
create or replace function kai_ms(p_at timestamptz) returns bigint
language sql immutable set search_path from current
as $$ select floor(extract(epoch from p_at) * 1000)::bigint $$;

-- kai-jobs' own table holding the rows of a job type.
create or replace function kai_table(p_type text) returns text
language plpgsql immutable set search_path from current
as $$
begin
  case p_type
    when 'pdf' then return 'kai_background_jobs';
    when 'scrape' then return 'kai_scraping_sessions';
    when 'xml-import' then return 'kai_data_import_jobs';
    else
      raise exception 'unknown job type %', coalesce(quote_literal(p_type), 'null')
        using errcode = 'KJ422', hint = 'expected one of pdf, scrape, xml-import';
  end case;
end $$;

-- The platform's name of the error column differs between the tables.
create or replace function kai_error_column(p_type text) returns text
language sql immutable set search_path from current
as $$ select case when p_type = 'pdf' then 'error' else 'error_message' end $$;

-- The counter columns of a job type (the catalog's `counters`).
create or replace function kai_counter_columns(p_type text) returns text[]
language sql immutable set search_path from current
as $$
  select case p_type
    when 'pdf' then array['total_pages', 'completed_pages']
    when 'scrape' then array['total_pages', 'completed_pages', 'failed_pages']
    when 'xml-import' then array['total_products', 'processed_products', 'failed_products']
  end
$$;

-- Which job type holds row p_id (searched in catalog order, as the Redis store does), or null.
create or replace function kai_locate(p_id text) returns text
language sql stable set search_path from current
as $$
  select coalesce(
    (select 'pdf' from kai_background_jobs where id = p_id),
    (select 'scrape' from kai_scraping_sessions where id = p_id),
    (select 'xml-import' from kai_data_import_jobs where id = p_id))
$$;

-- Finds row p_id and locks it (FOR UPDATE, or FOR SHARE when p_share), so the caller's checks
-- and writes see no concurrent change. o_row is null when there is no such row.
create or replace function kai_lock_job(p_id text, p_share boolean default false, out o_type text, out o_row jsonb)
language plpgsql set search_path from current
as $$
begin
  o_type := kai_locate(p_id);
  if o_type is null then
    return;
  end if;
  execute format('select to_jsonb(t) from %I t where t.id = $1 and t.job_type = $2 for %s',
                 kai_table(o_type), case when p_share then 'share' else 'update' end)
    into o_row using p_id, o_type;
end $$;

-- Appends a history entry stamped with now() and keeps the newest 200 entries of the job.
create or replace function kai_push_history(p_id text, p_type text, p_entry jsonb) returns bigint
language plpgsql set search_path from current
as $$
declare
  v_cutoff bigint;
begin
  if p_entry is null or jsonb_typeof(p_entry) <> 'object' or coalesce(p_entry ->> 'event', '') = '' then
    raise exception 'history entry of job % must be an object with a non-empty "event"', p_id
      using errcode = 'KJ422';
  end if;
  insert into job_history (job_id, job_type, event, entry) values (p_id, p_type, p_entry ->> 'event', p_entry - 'at');
  select h.id into v_cutoff from job_history h where h.job_id = p_id order by h.id desc offset 199 limit 1;
  if v_cutoff is not null then
    delete from job_history h where h.job_id = p_id and h.id < v_cutoff;
  end if;
  return kai_ms(now());
end $$;

-- Keeps the background_jobs row that follows a scraping session or import in step with it

-- ---------------------------------------------------------------------------------------------
-- The platform's rows: ids, the mirror of kai-jobs' writes, rows kai-jobs does not own
-- ---------------------------------------------------------------------------------------------

-- The platform table a job type's rows live in.
create or replace function kai_platform_table(p_type text) returns text
language sql immutable set search_path from current
as $$ select substr(kai_table(p_type), 5) $$;

-- The SQL type of a platform table's id column (uuid on the platform; text on older test schemas).
create or replace function kai_id_type(p_table text) returns text
language plpgsql stable set search_path from current
as $$
declare
  -- Cached for the session (a column's type does not change under a running platform).
  v_key text := 'kai.id_type_' || md5(current_schema() || '.' || p_table);
  v_type text := nullif(current_setting(v_key, true), '');
begin
  if v_type is null then
    select format_type(a.atttypid, a.atttypmod) into v_type from pg_attribute a
     where a.attrelid = format('%I', p_table)::regclass and a.attname = 'id' and not a.attisdropped;
    perform set_config(v_key, v_type, false);
  end if;
  return v_type;
end $$;

-- True when p_text is a uuid in any spelling PostgreSQL accepts for one.
create or replace function kai_is_uuid(p_text text) returns boolean
language sql immutable set search_path from current
as $$ select p_text ~* '^\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$' $$;

-- The platform row id (as text) of kai job p_id: the id itself, or — when the platform's id
-- column is uuid and p_id is not one — the uuid md5(p_id)::uuid. Same id in, same row id out.
create or replace function kai_row_id(p_type text, p_id text) returns text
language sql stable set search_path from current
as $$
  select case
    when kai_id_type(kai_platform_table(p_type)) <> 'uuid' then p_id
    when kai_is_uuid(p_id) then p_id::uuid::text
    else md5(p_id)::uuid::text
  end
$$;

-- The platform row with id p_id (text), locked FOR UPDATE when p_lock, or null. An id the column
-- cannot hold (not a uuid for a uuid column) matches no row.
create or replace function kai_platform_row(p_type text, p_id text, p_lock boolean default false) returns jsonb
language plpgsql set search_path from current
as $$
declare
  v_table text := kai_platform_table(p_type);
  v_id_type text := kai_id_type(v_table);
  v_row jsonb;
begin
  if p_id is null or (v_id_type = 'uuid' and not kai_is_uuid(p_id)) then
    return null;
  end if;
  execute format('select to_jsonb(t) from %I t where t.id = $1::%s %s', v_table, v_id_type,
                 case when p_lock then 'for update' else '' end)
    into v_row using p_id;
  return v_row;
end $$;

-- True when platform row p_row_id (text) of type p_type is driven by kai-jobs: it has a kai row,
-- or it is the background_jobs row that follows a kai-jobs session or import.
create or replace function kai_owns_row(p_type text, p_row_id text) returns boolean
language sql stable set search_path from current
as $$
  select case p_type
    when 'pdf' then exists (select 1 from kai_background_jobs k where k.row_id = p_row_id)
                 or exists (select 1 from kai_scraping_sessions f where f.background_job_id = p_row_id)
                 or exists (select 1 from kai_data_import_jobs f where f.background_job_id = p_row_id)
    when 'scrape' then exists (select 1 from kai_scraping_sessions k where k.row_id = p_row_id)
    when 'xml-import' then exists (select 1 from kai_data_import_jobs k where k.row_id = p_row_id)
  end
$$;

-- A platform row kai-jobs does not own, as a status row in the shape of kai-jobs' own (what the
-- TypeScript store decodes): the platform's columns where they exist, no fence, no attempt, no
-- payload. Its status is the platform's; progress 0 when the platform keeps none.
create or replace function kai_foreign_row(p_type text, p_row jsonb) returns jsonb
language sql stable set search_path from current
as $$
  select case when p_row is null then null else
    jsonb_build_object(
      'current_stage', null, 'last_heartbeat', null, 'started_at', null, 'completed_at', null,
      'error', null, 'error_message', null)
    || (select coalesce(jsonb_object_agg(c, p_row -> c), '{}'::jsonb)
          from unnest(array['status', 'current_stage', 'last_heartbeat', 'started_at', 'completed_at',
                            kai_error_column(p_type)] || kai_counter_columns(p_type)) as c
         where p_row ? c)
    || jsonb_build_object(
      'id', p_row ->> 'id', 'row_id', p_row ->> 'id', 'job_type', p_type,
      'progress', coalesce((p_row ->> 'progress')::numeric, 0),
      'created_at', coalesce(p_row -> 'created_at', p_row -> 'updated_at', to_jsonb(now())),
      'updated_at', coalesce(p_row -> 'updated_at', p_row -> 'created_at', to_jsonb(now())),
      'attempt', 0, 'fence', null, 'worker_id', null, 'restart_count', 0, 'progress_detail', null,
      'resumed_from', null, 'error_stage', null, 'duration_ms', null, 'result', null, 'payload', null,
      'refs', '{}'::jsonb, 'idempotency_key', null, 'heartbeat_timeout_ms', null, 'update_timeout_ms', null,
      'bullmq_job_id', null, 'foreign', true)
  end
$$;

-- Writes platform row p_values ->> 'id' of table p_table with the values of p_values whose keys
-- are among p_columns and columns of the table (a platform table that lacks a column simply does
-- not get it): an UPDATE of the existing row (so the platform's other columns and their
-- constraints are left alone), else an INSERT. created_at is written only when inserting.
create or replace function kai_write_platform_row(p_table text, p_values jsonb, p_columns text[]) returns void
language plpgsql set search_path from current
as $$
declare
  -- The statements are built from the catalog once per session and table + column set, then
  -- cached (a column the platform adds later is written from the next session on).
  v_key text := 'kai.write_sql_' || md5(current_schema() || '.' || p_table || '.' || p_columns::text);
  v_sql text[] := nullif(current_setting(v_key, true), '')::text[];
  v_list text;
  v_exprs text;
  v_sets text;
  v_upd_list text;
  v_upd_exprs text;
  v_count integer;
begin
  if v_sql is null then
    -- Each value is cast from its JSON text to the platform column's own type (text → uuid, an
    -- enum, ...); a number going into an integer column is rounded (a platform progress 0–100 integer).
    select string_agg(quote_ident(a.attname), ', ' order by a.attnum),
           string_agg(case when a.atttypid in ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)
                        then format('round(($1 ->> %L)::numeric)::%s', a.attname, format_type(a.atttypid, a.atttypmod))
                        else format('($1 ->> %L)::%s', a.attname, format_type(a.atttypid, a.atttypmod)) end,
                      ', ' order by a.attnum),
           string_agg(format('%I = excluded.%I', a.attname, a.attname), ', ' order by a.attnum)
             filter (where a.attname not in ('id', 'created_at')),
           string_agg(quote_ident(a.attname), ', ' order by a.attnum) filter (where a.attname not in ('id', 'created_at')),
           string_agg(case when a.atttypid in ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)
                        then format('round(($1 ->> %L)::numeric)::%s', a.attname, format_type(a.atttypid, a.atttypmod))
                        else format('($1 ->> %L)::%s', a.attname, format_type(a.atttypid, a.atttypmod)) end,
                      ', ' order by a.attnum) filter (where a.attname not in ('id', 'created_at'))
      into v_list, v_exprs, v_sets, v_upd_list, v_upd_exprs
      from pg_attribute a
     where a.attrelid = format('%I', p_table)::regclass and a.attnum > 0 and not a.attisdropped
       and a.attname = any (array['id'] || p_columns);
    -- An UPDATE first: the platform's other columns (and their NOT NULL or CHECK constraints) are
    -- not involved, as they would be in an INSERT ... ON CONFLICT's proposed row.
    v_sql := array[
      format('update %1$I t set (%2$s) = row(%3$s) where t.id = ($1 ->> ''id'')::%4$s',
             p_table, v_upd_list, v_upd_exprs, kai_id_type(p_table)),
      format('insert into %1$I as t (%2$s) select %3$s on conflict (id) do update set %4$s',
             p_table, v_list, v_exprs, v_sets)];
    perform set_config(v_key, v_sql::text, false);
  end if;
  execute v_sql[1] using p_values;
  get diagnostics v_count = row_count;
  if v_count = 0 then
    execute v_sql[2] using p_values;
  end if;
end $$;

-- The statements that write the platform's columns from a batch of changed kai rows (the
-- transition table `new_rows`) of kai table p_kai_table: [update the platform rows, insert the
-- missing ones, update the follower background_jobs rows, insert the missing followers]. Built
-- from the catalog: only the columns the platform table has, each cast to its own type (an
-- integer progress is rounded). Used to generate the trigger functions below.
create or replace function kai_mirror_sql(p_kai_table text) returns text[]
language plpgsql stable set search_path from current
as $$
declare
  v_platform text := substr(p_kai_table, 5);
  v_error text := case when p_kai_table = 'kai_background_jobs' then 'error' else 'error_message' end;
  v_wanted text[];
  v_follow text[] := array['job_type', 'status', 'progress', 'current_stage', 'last_heartbeat', 'error',
                           'created_at', 'updated_at', 'started_at', 'completed_at'];
  v_sql text[];
begin
  v_wanted := array['status', 'progress', 'current_stage', 'last_heartbeat', v_error, 'created_at', 'updated_at',
                    'started_at', 'completed_at'] || case p_kai_table
      when 'kai_background_jobs' then array['total_pages', 'completed_pages']
      when 'kai_scraping_sessions' then array['total_pages', 'completed_pages', 'failed_pages']
      else array['total_products', 'processed_products', 'failed_products'] end;
  v_sql := array[kai_mirror_statements(v_platform, v_wanted, null), kai_mirror_statements(v_platform, v_wanted, 'insert')];
  if p_kai_table <> 'kai_background_jobs' then
    v_sql := v_sql || array[kai_mirror_statements('background_jobs', v_follow, 'follower'),
                            kai_mirror_statements('background_jobs', v_follow, 'follower insert')];
  end if;
  return v_sql;
end $$;

-- One statement of kai_mirror_sql: p_mode null (update the rows `row_id` names), 'insert'
-- (insert those missing), 'follower' / 'follower insert' (the same for the background_jobs rows
-- `background_job_id` names, status `scraping` shown as `processing`, the error from error_message).
create or replace function kai_mirror_statements(p_table text, p_columns text[], p_mode text) returns text
language plpgsql stable set search_path from current
as $$
declare
  v_follower boolean := coalesce(p_mode like 'follower%', false);
  v_insert boolean := coalesce(p_mode like '%insert', false);
  v_key_column text := case when v_follower then 'background_job_id' else 'row_id' end;
  v_id_type text := kai_id_type(p_table);
  v_cols text;
  v_exprs text;
  v_sets text;
  v_old text;
begin
  select string_agg(quote_ident(a.attname), ', ' order by a.attnum),
         string_agg(format(case when a.atttypid in ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)
                             then 'round(%s)::%s' else '(%s)::%s' end,
                           case
                             when v_follower and a.attname = 'status'
                               then 'case n.status when ''scraping'' then ''processing'' else n.status end'
                             when v_follower and a.attname = 'error' then 'n.error_message'
                             -- A row the platform created keeps its own job_type (e.g. 'web_scraping').
                             when v_follower and a.attname = 'job_type' and not v_insert
                               then format('coalesce(t.job_type::text, n.job_type)')
                             when v_follower and a.attname = 'job_type' then 'n.job_type'
                             else 'n.' || quote_ident(a.attname) end,
                           format_type(a.atttypid, a.atttypmod)), ', ' order by a.attnum),
         string_agg(format('%1$I = excluded.%1$I', a.attname), ', ' order by a.attnum) filter (where a.attname <> 'created_at'),
         string_agg(format('t.%I', a.attname), ', ' order by a.attnum)
    into v_cols, v_exprs, v_sets, v_old
    from pg_attribute a
   where a.attrelid = format('%I', p_table)::regclass and a.attnum > 0 and not a.attisdropped
     and a.attname = any (p_columns)
     and (v_insert or a.attname <> 'created_at');
  if v_insert then
    -- Rows the platform does not have yet (a new job, a new follower): inserted with the id.
    return format('insert into %1$I as t (id, %2$s) select (n.%3$I)::%4$s, %5$s from new_rows n'
                  ' where n.%3$I is not null and not exists (select 1 from %1$I e where e.id = (n.%3$I)::%4$s)'
                  ' on conflict (id) do update set %6$s',
                  p_table, v_cols, v_key_column, v_id_type, v_exprs, v_sets);
  end if;
  -- Only rows whose values change are written (a deferred check or a fence change writes nothing).
  return format('update %1$I t set (%2$s) = row(%3$s) from new_rows n where t.id = (n.%4$I)::%5$s'
                ' and row(%6$s) is distinct from row(%3$s)',
                p_table, v_cols, v_exprs, v_key_column, v_id_type, v_old);
end $$;

-- (Re)generates the trigger functions kai_mirror_<platform table>() from the platform tables'
-- current columns: static SQL, so each statement is planned once per session. Called by this
-- migration; call it again (select kai_generate_mirror_functions()) if the platform adds or
-- retypes a column kai-jobs writes.
create or replace function kai_generate_mirror_functions() returns void
language plpgsql set search_path from current
as $$
declare
  v_table text;
  v_sql text[];
  v_body text;
begin
  foreach v_table in array array['kai_background_jobs', 'kai_scraping_sessions', 'kai_data_import_jobs'] loop
    v_sql := kai_mirror_sql(v_table);
    -- A statement that changed no row (e.g. every row hidden by row-level security) writes nothing.
    v_body := 'begin if not exists (select 1 from new_rows) then return null; end if; '
      || v_sql[1] || '; ' || v_sql[2] || '; ';
    if v_table <> 'kai_background_jobs' then
      v_body := v_body
        || 'perform kai_refuse_pdf_followers(array(select n.background_job_id from new_rows n'
        || ' where n.background_job_id is not null)); '
        || v_sql[3] || '; ' || v_sql[4] || '; ';
    end if;
    v_body := v_body || 'return null; end';
    execute format('create or replace function %I() returns trigger language plpgsql set search_path from current as %L',
                   'kai_mirror_' || substr(v_table, 5), v_body);
    execute format('comment on function %I() is %L', 'kai_mirror_' || substr(v_table, 5),
                   format('Writes changes of %s to the platform''s %s (generated by kai_generate_mirror_functions).',
                          v_table, substr(v_table, 5)));
  end loop;
end $$;

-- A session or import cannot be followed by a background_jobs row that is a kai-jobs PDF job's.
create or replace function kai_refuse_pdf_followers(p_ids text[]) returns void
language plpgsql set search_path from current
as $$
declare
  v_id text;
begin
  select k.row_id into v_id from kai_background_jobs k where k.row_id = any (p_ids) limit 1;
  if v_id is not null then
    raise exception 'background_jobs row % belongs to a PDF job; it cannot follow a session or import', v_id
      using errcode = 'KJ422', hint = 'pass another backgroundJobId';
  end if;
end $$;

select kai_generate_mirror_functions();

-- Triggers on kai-jobs' tables, once per statement: every change of kai rows is written to the
-- platform rows they drive (status, progress, stage, heartbeat, error, counters, times) and a
-- session's or import's change to the background_jobs row that follows it — set-based (a batch
-- of 1,000 heartbeats is one UPDATE of the platform table), in the same transaction, so the
-- platform's readers (its dashboards, Realtime) see what kai-jobs' readers see.
create or replace trigger kai_mirror_insert after insert on kai_background_jobs
  referencing new table as new_rows for each statement execute function kai_mirror_background_jobs();
create or replace trigger kai_mirror_update after update on kai_background_jobs
  referencing new table as new_rows for each statement execute function kai_mirror_background_jobs();
create or replace trigger kai_mirror_insert after insert on kai_scraping_sessions
  referencing new table as new_rows for each statement execute function kai_mirror_scraping_sessions();
create or replace trigger kai_mirror_update after update on kai_scraping_sessions
  referencing new table as new_rows for each statement execute function kai_mirror_scraping_sessions();
create or replace trigger kai_mirror_insert after insert on kai_data_import_jobs
  referencing new table as new_rows for each statement execute function kai_mirror_data_import_jobs();
create or replace trigger kai_mirror_update after update on kai_data_import_jobs
  referencing new table as new_rows for each statement execute function kai_mirror_data_import_jobs();

-- Rows of a platform table kai-jobs does not own, unfinished, whose heartbeat (running rows) or
-- last update is older than the thresholds — judged by the platform's own columns, as kai rows
-- are by theirs. Returns [{reason, age_ms, row, foreign: true}], oldest first, at most p_limit.
create or replace function kai_find_stale_foreign(
  p_type text, p_heartbeat_older_than_ms bigint, p_update_older_than_ms bigint, p_limit integer)
returns jsonb
language plpgsql stable set search_path from current
as $$
declare
  v_out jsonb;
begin
  execute format($q$
    with unfinished as (
      select t.id::text as row_id, to_jsonb(t) as r,
             case
               when $2::bigint is not null and t.status in ('processing', 'scraping')
                    and t.last_heartbeat < now() - $2 * interval '1 millisecond' then 'heartbeat_timeout'
               when $3::bigint is not null
                    and coalesce(t.updated_at, t.created_at) < now() - $3 * interval '1 millisecond'
                 then 'update_timeout'
             end as reason,
             t.last_heartbeat, coalesce(t.updated_at, t.created_at) as updated
        from %1$I t
       where t.status in ('pending', 'processing', 'scraping')),
    found as (
      select u.*, case u.reason when 'heartbeat_timeout' then u.last_heartbeat else u.updated end as seen_at
        from unfinished u
       where u.reason is not null and not kai_owns_row($1, u.row_id)
       order by seen_at limit $4)
    select coalesce(jsonb_agg(jsonb_build_object(
        'reason', f.reason, 'age_ms', kai_ms(now()) - kai_ms(f.seen_at), 'foreign', true,
        'row', kai_foreign_row($1, f.r)) order by f.seen_at), '[]'::jsonb)
      from found f
  $q$, kai_platform_table(p_type))
    into v_out using p_type, p_heartbeat_older_than_ms, p_update_older_than_ms, p_limit;
  return v_out;
end $$;

-- The row of a job kai-jobs does not own (searched in catalog order), with its type, or nulls.
create or replace function kai_locate_foreign(p_id text, p_lock boolean default false, out o_type text, out o_row jsonb)
language plpgsql set search_path from current
as $$
declare
  v_type text;
begin
  foreach v_type in array array['pdf', 'scrape', 'xml-import'] loop
    o_row := kai_platform_row(v_type, p_id, p_lock);
    if o_row is not null and not kai_owns_row(v_type, o_row ->> 'id') then
      o_type := v_type;
      return;
    end if;
  end loop;
  o_row := null;
end $$;

-- ---------------------------------------------------------------------------------------------
-- The status store's functions (called with supabase-js .rpc())
-- ---------------------------------------------------------------------------------------------


-- The store's clock (ms).
create or replace function kai_now() returns bigint
language sql stable set search_path from current
as $$ select kai_ms(now()) $$;

-- Creates one pending job, or finds the existing one for the same idempotency key or id.
-- p_job: {id, job_type, payload, refs, idempotency_key, heartbeat_timeout_ms, update_timeout_ms}.
-- The kai row is inserted; its trigger creates (or adopts) the platform row kai_row_id(id). A
-- platform row that already exists without a kai row (created by the platform, e.g. a session
-- an edge function made) is adopted while it is still pending; one in any other state is
-- refused (KJ422). Returns {created, row}.
create or replace function kai_create_job(p_job jsonb, p_idempotency_retention_ms bigint) returns jsonb
language plpgsql set search_path from current
as $$
declare
  v_type text := p_job ->> 'job_type';
  v_table text := kai_table(v_type);
  v_id text := p_job ->> 'id';
  v_key text := p_job ->> 'idempotency_key';
  v_payload jsonb := coalesce(p_job -> 'payload', 'null'::jsonb);
  v_refs jsonb := coalesce(nullif(p_job -> 'refs', 'null'::jsonb), '{}'::jsonb);
  v_hb_timeout bigint := (p_job ->> 'heartbeat_timeout_ms')::bigint;
  v_upd_timeout bigint := (p_job ->> 'update_timeout_ms')::bigint;
  v_row_id text;
  v_platform jsonb;
  v_follower text;
  v_row jsonb;
begin
  if coalesce(v_id, '') = '' then
    raise exception 'job id is missing' using errcode = 'KJ422';
  end if;
  if v_key is not null then
    -- A finished job's key is released after the retention (as the Redis store lets it expire).
    execute format('update %I set idempotency_key = null where job_type = $1 and idempotency_key = $2'
                   ' and completed_at < now() - $3 * interval ''1 millisecond''', v_table)
      using v_type, v_key, p_idempotency_retention_ms;
    execute format('select to_jsonb(t) from %I t where t.job_type = $1 and t.idempotency_key = $2', v_table)
      into v_row using v_type, v_key;
    if v_row is not null then
      return jsonb_build_object('created', false, 'row', v_row);
    end if;
  end if;
  execute format('select to_jsonb(t) from %I t where t.id = $1', v_table) into v_row using v_id;
  if v_row is not null then
    return jsonb_build_object('created', false, 'row', v_row);
  end if;
  v_row_id := kai_row_id(v_type, v_id);
  -- Locked, so the platform's writers cannot move the row while it is adopted.
  v_platform := kai_platform_row(v_type, v_row_id, true);
  if v_platform is not null and (v_platform ->> 'status') is distinct from 'pending' then
    raise exception 'job id % is already used by a % row that is %', v_id, kai_platform_table(v_type),
      coalesce(v_platform ->> 'status', 'without status')
      using errcode = 'KJ422', hint = 'only a pending row the platform created can be adopted';
  end if;
  if v_type <> 'pdf' then
    -- The follower's id as given (or a new uuid) stays in refs; the row's own id is mapped like
    -- a job id (kai_row_id), so a non-uuid link still names a row of a uuid table.
    v_follower := coalesce(v_refs ->> 'backgroundJobId', gen_random_uuid()::text);
    v_refs := v_refs || jsonb_build_object('backgroundJobId', v_follower);
    v_follower := kai_row_id('pdf', v_follower);
  end if;
  execute format(
    'insert into %I as t (id, row_id, job_type, bullmq_job_id, payload, refs, idempotency_key,'
    ' heartbeat_timeout_ms, update_timeout_ms %s) values ($1, $9, $2, $1, $3, $4, $5, $6, $7 %s)'
    ' on conflict do nothing returning to_jsonb(t)',
    v_table,
    case when v_type = 'pdf' then '' else ', background_job_id' end,
    case when v_type = 'pdf' then '' else ', $8' end)
    into v_row using v_id, v_type, v_payload, v_refs, v_key, v_hb_timeout, v_upd_timeout, v_follower, v_row_id;
  if v_row is null then
    -- Lost to an existing row: a concurrent create with the same key, or the same id.
    if v_key is not null then
      execute format('select to_jsonb(t) from %I t where t.job_type = $1 and t.idempotency_key = $2', v_table)
        into v_row using v_type, v_key;
    end if;
    if v_row is null then
      execute format('select to_jsonb(t) from %I t where t.id = $1', v_table) into v_row using v_id;
    end if;
    if v_row is null then
      raise exception 'job id % maps to platform row % that another % job drives', v_id, v_row_id, v_type
        using errcode = 'KJ422';
    end if;
    return jsonb_build_object('created', false, 'row', v_row);
  end if;
  perform kai_push_history(v_id, v_type, '{"event": "created"}');
  return jsonb_build_object('created', true, 'row', v_row);
end $$;

-- createMany: p_jobs is an array of kai_create_job inputs; the results are in input order.
create or replace function kai_create_jobs(p_jobs jsonb, p_idempotency_retention_ms bigint default 604800000)
returns jsonb
language plpgsql set search_path from current
as $$
declare
  v_job jsonb;
  -- Collected in an array (appending is amortised O(1)), not by concatenating a growing jsonb
  -- (quadratic in the batch: a 1,000-job batch spent seconds copying).
  v_out jsonb[] := '{}';
begin
  if jsonb_typeof(p_jobs) is distinct from 'array' then
    raise exception 'p_jobs must be a JSON array' using errcode = 'KJ422';
  end if;
  for v_job in select value from jsonb_array_elements(p_jobs) with ordinality order by ordinality loop
    v_out := array_append(v_out, kai_create_job(v_job, p_idempotency_retention_ms));
  end loop;
  return to_jsonb(v_out);
end $$;

-- Starts an attempt: processing, attempt + 1, the attempt's fence and worker. Returns the row.
create or replace function kai_mark_processing(
  p_id text, p_fence text, p_worker_id text, p_stage text default null, p_resumed_from text default null)
returns jsonb
language plpgsql set search_path from current
as $$
declare
  v_type text;
  v_row jsonb;
begin
  if coalesce(p_fence, '') = '' or coalesce(p_worker_id, '') = '' then
    raise exception 'markProcessing of job % needs a fence and a worker id', p_id using errcode = 'KJ422';
  end if;
  select o_type, o_row into v_type, v_row from kai_lock_job(p_id);
  if v_row is null then
    raise exception 'job % not found', p_id using errcode = 'KJ404';
  end if;
  if v_row ->> 'status' in ('completed', 'failed') then
    raise exception 'job %: cannot start an attempt: the job is %', p_id, v_row ->> 'status'
      using errcode = 'KJ412', detail = format('cannot start an attempt: the job is %s', v_row ->> 'status');
  end if;
  execute format(
    'update %I t set status = ''processing'', attempt = t.attempt + 1, fence = $3, worker_id = $4,'
    ' last_heartbeat = now(), updated_at = now(), progress_checked_at = now(), %I = null,'
    ' error_stage = null, resumed_from = $6, current_stage = coalesce($5, t.current_stage),'
    ' started_at = coalesce(t.started_at, now())'
    ' where t.id = $1 and t.job_type = $2 returning to_jsonb(t)',
    kai_table(v_type), kai_error_column(v_type))
    into v_row using p_id, v_type, p_fence, p_worker_id, nullif(p_stage, ''), nullif(p_resumed_from, '');
  perform kai_push_history(p_id, v_type, jsonb_strip_nulls(jsonb_build_object(
    'event', 'processing', 'attempt', (v_row ->> 'attempt')::integer, 'workerId', p_worker_id,
    'resumedFrom', nullif(p_resumed_from, ''), 'stage', nullif(p_stage, ''))));
  return v_row;
end $$;

-- Heartbeats of many running jobs in one call. p_beats: [{id, job_type, fence}]. Writes
-- last_heartbeat = now() where the fence still matches and the job is running; returns the ids
-- that were refused (superseded fence, not running, missing), in input order.
-- Built so its plan does not depend on table statistics: rows are found by primary key
-- (id = any(array)), fences looked up in a jsonb object, and accepted ids kept in another.
create or replace function kai_heartbeat(p_beats jsonb) returns jsonb
language plpgsql set search_path from current
as $$
declare
  v_type text;
  v_ids text[];
  v_fences jsonb;
  v_accepted jsonb := '{}';
begin
  if jsonb_typeof(p_beats) is distinct from 'array' then
    raise exception 'p_beats must be a JSON array' using errcode = 'KJ422';
  end if;
  for v_type in select distinct b.job_type from jsonb_to_recordset(p_beats) as b(job_type text) loop
    select array_agg(b.id), jsonb_object_agg(b.id, b.fence) into v_ids, v_fences
      from jsonb_to_recordset(p_beats) as b(id text, job_type text, fence text)
     where b.job_type = v_type and b.id is not null and b.fence is not null;
    continue when v_ids is null;
    -- Rows are locked in id order, so two overlapping batches cannot deadlock.
    execute format(
      'with live as (select t.id from %1$I t where t.id = any($1) and t.job_type = $2'
      '              and t.status in (''processing'', ''scraping'') and t.fence = $3 ->> t.id'
      '              order by t.id for update of t),'
      ' done as (update %1$I t set last_heartbeat = now() where t.id = any(array(select id from live)) returning t.id)'
      ' select $4 || coalesce(jsonb_object_agg(id, true), ''{}'') from done',
      kai_table(v_type))
      into v_accepted using v_ids, v_type, v_fences, v_accepted;
  end loop;
  return coalesce(
    (select jsonb_agg(b.value ->> 'id' order by b.ordinality)
       from jsonb_array_elements(p_beats) with ordinality as b(value, ordinality)
      where not (v_accepted ? coalesce(b.value ->> 'id', ''))),
    '[]'::jsonb);
end $$;

-- Progress of a running attempt: stage, percent, detail, counters (absolute values), and a
-- scraping session's move from processing to scraping (p_status 'scraping'). Returns now (ms).
create or replace function kai_progress(
  p_id text, p_fence text, p_stage text default null, p_percent numeric default null,
  p_detail text default null, p_counters jsonb default null, p_status text default null)
returns bigint
language plpgsql set search_path from current
as $$
declare
  v_type text;
  v_row jsonb;
  v_sets text := 'updated_at = now(), progress_checked_at = now()';
  v_counter record;
begin
  select o_type, o_row into v_type, v_row from kai_lock_job(p_id);
  if v_row is null then
    raise exception 'job % not found', p_id using errcode = 'KJ404';
  end if;
  if (v_row ->> 'fence') is distinct from p_fence then
    raise exception 'progress for job % rejected: its fence token was superseded by a newer attempt', p_id
      using errcode = 'KJ409', hint = 'another attempt owns the job now; stop working on it';
  end if;
  if v_row ->> 'status' not in ('processing', 'scraping') then
    raise exception 'job %: progress refused: the job is %', p_id, v_row ->> 'status'
      using errcode = 'KJ412', detail = format('progress refused: the job is %s', v_row ->> 'status');
  end if;
  if p_status is not null and p_status not in ('', 'scraping') then
    raise exception 'progress of job %: status % cannot be set by progress', p_id, quote_literal(p_status)
      using errcode = 'KJ422', hint = 'only ''scraping'' (a session moving from processing to scraping)';
  end if;
  if p_counters is not null then
    if jsonb_typeof(p_counters) <> 'object' then
      raise exception 'progress of job %: counters must be an object', p_id using errcode = 'KJ422';
    end if;
    for v_counter in select key, value from jsonb_each(p_counters) loop
      if not (v_counter.key = any (kai_counter_columns(v_type))) then
        raise exception 'progress of job %: % jobs have no counter %', p_id, v_type, quote_ident(v_counter.key)
          using errcode = 'KJ422', hint = format('counters of %s jobs: %s', v_type, array_to_string(kai_counter_columns(v_type), ', '));
      end if;
      if jsonb_typeof(v_counter.value) <> 'number' or (v_counter.value #>> '{}')::numeric <> trunc((v_counter.value #>> '{}')::numeric) then
        raise exception 'progress of job %: counter % must be an integer, got %', p_id, v_counter.key, v_counter.value
          using errcode = 'KJ422';
      end if;
      v_sets := v_sets || format(', %1$I = ($7 ->> %2$L)::integer', v_counter.key, v_counter.key);
    end loop;
  end if;
  if p_stage is not null then v_sets := v_sets || ', current_stage = $3'; end if;
  if p_percent is not null then v_sets := v_sets || ', progress = round($4, 2)'; end if;
  if p_detail is not null then v_sets := v_sets || ', progress_detail = left($5, 500)'; end if;
  if p_status = 'scraping' and v_row ->> 'status' = 'processing' then
    v_sets := v_sets || ', status = $6';
  end if;
  execute format('update %I set %s where id = $1 and job_type = $2', kai_table(v_type), v_sets)
    using p_id, v_type, p_stage, p_percent, p_detail, p_status, p_counters;
  return kai_ms(now());
end $$;

-- Finishes a job: completed with its result, or failed with its error. A null fence is an
-- operator's cancel: no fence check, the fence is cleared (the running attempt's next write is
-- refused), and an already finished job gives null instead of an error.
create or replace function kai_finish(
  p_id text, p_fence text, p_outcome text, p_result jsonb, p_error text, p_stage text,
  p_history jsonb, p_operation text)
returns jsonb
language plpgsql set search_path from current
as $$
declare
  v_type text;
  v_row jsonb;
  v_sets text;
begin
  select o_type, o_row into v_type, v_row from kai_lock_job(p_id);
  if v_row is null then
    raise exception 'job % not found', p_id using errcode = 'KJ404';
  end if;
  if p_fence is not null and (v_row ->> 'fence') is distinct from p_fence then
    raise exception '% for job % rejected: its fence token was superseded by a newer attempt', p_operation, p_id
      using errcode = 'KJ409', hint = 'another attempt owns the job now; stop working on it';
  end if;
  if v_row ->> 'status' in ('completed', 'failed') then
    if p_fence is null then
      return null;
    end if;
    raise exception 'job %: % refused: the job is %', p_id, p_operation, v_row ->> 'status'
      using errcode = 'KJ412', detail = format('%s refused: the job is %s', p_operation, v_row ->> 'status');
  end if;
  v_sets := 'status = $3, completed_at = now(), updated_at = now(),'
         || ' duration_ms = kai_ms(now()) - kai_ms(coalesce(t.started_at, t.created_at))';
  if p_outcome = 'completed' then
    v_sets := v_sets || format(', result = $4, progress = 100, %I = null, error_stage = null', kai_error_column(v_type));
  else
    v_sets := v_sets || format(', %I = $5, error_stage = coalesce($6, t.current_stage)', kai_error_column(v_type));
  end if;
  if p_fence is null then
    v_sets := v_sets || ', fence = null';
  end if;
  execute format('update %I t set %s where t.id = $1 and t.job_type = $2 returning to_jsonb(t)', kai_table(v_type), v_sets)
    into v_row using p_id, v_type, p_outcome, coalesce(p_result, 'null'::jsonb), p_error, nullif(p_stage, '');
  perform kai_push_history(p_id, v_type, p_history);
  return v_row;
end $$;

create or replace function kai_complete(p_id text, p_fence text, p_result jsonb default null) returns jsonb
language sql set search_path from current
as $$
  select kai_finish(p_id, coalesce(p_fence, ''), 'completed', p_result, null, null,
                    '{"event": "completed"}', 'complete')
$$;

create or replace function kai_fail(p_id text, p_fence text, p_error text, p_stage text default null) returns jsonb
language sql set search_path from current
as $$
  select kai_finish(p_id, coalesce(p_fence, ''), 'failed', null, p_error, p_stage,
                    jsonb_strip_nulls(jsonb_build_object('event', 'failed', 'error', p_error, 'stage', nullif(p_stage, ''))),
                    'fail')
$$;

create or replace function kai_cancel(p_id text, p_reason text) returns jsonb
language sql set search_path from current
as $$
  select kai_finish(p_id, null, 'failed', null, 'cancelled: ' || p_reason, null,
                    jsonb_build_object('event', 'cancelled', 'reason', p_reason), 'cancel')
$$;

-- The row, or null. A platform row kai-jobs does not own is returned in the same shape, with
-- `foreign: true` (the monitor reads it again before failing it).
create or replace function kai_get_job(p_id text) returns jsonb
language plpgsql stable set search_path from current
as $$
declare
  v_type text := kai_locate(p_id);
  v_row jsonb;
begin
  if v_type is null then
    -- The service role (the stores, the monitor) sees foreign rows; a signed-in user calling this
    -- read function reads the platform's tables under the platform's own policies instead.
    if has_function_privilege('kai_locate_foreign(text, boolean)', 'execute') then
      select kai_foreign_row(f.o_type, f.o_row) into v_row from kai_locate_foreign(p_id) f;
    end if;
    return v_row;
  end if;
  execute format('select to_jsonb(t) from %I t where t.id = $1 and t.job_type = $2', kai_table(v_type))
    into v_row using p_id, v_type;
  return v_row;
end $$;

-- The query behind kai_find_stale, for one table. Kept apart so it can be EXPLAINed:
-- parameters $1 job type, $2 heartbeat threshold (ms, null = skip), $3 update threshold
-- (ms, null = skip), $4 limit. Three index-driven branches: rows with per-job thresholds
-- (thresholds_idx, kept small), running rows by heartbeat (heartbeat_stale_idx) and unfinished
-- rows by their update clock (update_stale_idx); a row found twice keeps the first reason.
create or replace function kai_find_stale_query(p_type text) returns text
language sql immutable set search_path from current
as $$
  select format($q$
    with found as (
      (select t.id, 0 as prio, o.reason,
              case o.reason when 'heartbeat_timeout' then t.last_heartbeat else t.progress_checked_at end as seen_at
         from %1$I t
        cross join lateral (select case
            when coalesce(t.heartbeat_timeout_ms, $2) is not null and t.status in ('processing', 'scraping')
                 and t.last_heartbeat < now() - coalesce(t.heartbeat_timeout_ms, $2) * interval '1 millisecond'
              then 'heartbeat_timeout'
            when coalesce(t.update_timeout_ms, $3) is not null
                 and t.progress_checked_at < now() - coalesce(t.update_timeout_ms, $3) * interval '1 millisecond'
              then 'update_timeout'
          end as reason) o
        where t.job_type = $1 and t.status in ('pending', 'processing', 'scraping')
          and (t.heartbeat_timeout_ms is not null or t.update_timeout_ms is not null)
          and o.reason is not null)
      union all
      (select t.id, 1, 'heartbeat_timeout', t.last_heartbeat
         from %1$I t
        where $2::bigint is not null and t.job_type = $1 and t.status in ('processing', 'scraping')
          and t.last_heartbeat < now() - $2 * interval '1 millisecond'
          and t.heartbeat_timeout_ms is null and t.update_timeout_ms is null
        order by t.last_heartbeat limit $4)
      union all
      (select t.id, 2, 'update_timeout', t.progress_checked_at
         from %1$I t
        where $3::bigint is not null and t.job_type = $1 and t.status in ('pending', 'processing', 'scraping')
          and t.progress_checked_at < now() - $3 * interval '1 millisecond'
          and t.heartbeat_timeout_ms is null and t.update_timeout_ms is null
        order by t.progress_checked_at limit $4)
    ),
    firsts as (select distinct on (id) * from found order by id, prio),
    chosen as (select * from firsts order by prio, seen_at limit $4)
    select jsonb_build_object(
      'now', kai_ms(now()),
      'candidates', coalesce(jsonb_agg(jsonb_build_object(
          'reason', c.reason, 'age_ms', kai_ms(now()) - kai_ms(c.seen_at), 'row', to_jsonb(t))
        order by c.prio, c.seen_at), '[]'::jsonb))
      from chosen c join %1$I t on t.id = c.id and t.job_type = $1
  $q$, kai_table(p_type))
$$;

-- Unfinished rows of a type whose heartbeat or update is older than the thresholds (or their
-- per-job overrides), judged by now(); then the platform's rows kai-jobs does not own, by the
-- platform's columns (kai_find_stale_foreign). Returns {now, candidates: [{reason, age_ms, row, foreign?}]}.
create or replace function kai_find_stale(
  p_type text, p_heartbeat_older_than_ms bigint, p_update_older_than_ms bigint, p_limit integer default 1000)
returns jsonb
language plpgsql stable set search_path from current
as $$
declare
  v_out jsonb;
begin
  if p_limit is null or p_limit < 1 then
    raise exception 'findStale limit must be a positive integer' using errcode = 'KJ422';
  end if;
  execute kai_find_stale_query(p_type) into v_out
    using p_type, p_heartbeat_older_than_ms, p_update_older_than_ms, p_limit;
  -- Then the platform's rows kai-jobs does not own, in what room the limit leaves.
  if jsonb_array_length(v_out -> 'candidates') < p_limit then
    v_out := jsonb_set(v_out, '{candidates}', (v_out -> 'candidates') || kai_find_stale_foreign(
      p_type, p_heartbeat_older_than_ms, p_update_older_than_ms, p_limit - jsonb_array_length(v_out -> 'candidates')));
  end if;
  return v_out;
end $$;

-- Postpones the next update-timeout check of these unfinished rows by a full threshold (the
-- monitor found them healthy, e.g. waiting in the queue). Returns how many rows were deferred.
create or replace function kai_defer_check(p_type text, p_ids jsonb) returns integer
language plpgsql set search_path from current
as $$
declare
  v_count integer;
begin
  execute format('update %I set progress_checked_at = now() where job_type = $1'
                 ' and id = any(array(select jsonb_array_elements_text($2)))'
                 ' and status in (''pending'', ''processing'', ''scraping'')', kai_table(p_type))
    using p_type, coalesce(p_ids, '[]');
  get diagnostics v_count = row_count;
  return v_count;
end $$;

-- The monitor's compare-and-set recovery: applied only if the row still has the fence and
-- restart count the monitor observed, so two monitors racing over one stuck job give one
-- recovery. restart: back to pending with a new fence; fail: failed with p_error.
-- A platform row kai-jobs does not own is failed (status failed, its error column), never restarted.
-- Returns {applied, reason (when not applied), row}.
create or replace function kai_recover(
  p_id text, p_expected_fence text, p_expected_restart_count integer, p_action text,
  p_error text default null, p_history jsonb default null)
returns jsonb
language plpgsql set search_path from current
as $$
declare
  v_type text;
  v_row jsonb;
  v_restarts integer;
  v_history jsonb := coalesce(p_history, '{}'::jsonb);
begin
  if p_action is null or p_action not in ('restart', 'fail') then
    raise exception 'recover action must be restart or fail, got %', coalesce(quote_literal(p_action), 'null')
      using errcode = 'KJ422';
  end if;
  select o_type, o_row into v_type, v_row from kai_lock_job(p_id);
  if v_row is null then
    -- A platform row kai-jobs does not own: it can only be failed (there is no payload to run).
    select f.o_type, f.o_row into v_type, v_row from kai_locate_foreign(p_id, true) f;
    if v_row is null then
      return jsonb_build_object('applied', false, 'reason', 'missing', 'row', null);
    end if;
    if not (v_row ->> 'status' in ('pending', 'processing', 'scraping')) then
      return jsonb_build_object('applied', false, 'reason', 'finished', 'row', kai_foreign_row(v_type, v_row));
    end if;
    if p_action = 'restart' then
      return jsonb_build_object('applied', false, 'reason', 'foreign', 'row', kai_foreign_row(v_type, v_row));
    end if;
    perform kai_write_platform_row(kai_platform_table(v_type),
      jsonb_build_object('id', v_row ->> 'id', 'status', 'failed', kai_error_column(v_type), p_error, 'updated_at', now()),
      array['status', kai_error_column(v_type), 'updated_at']);
    if coalesce(v_history ->> 'event', '') = '' then
      v_history := v_history || jsonb_build_object('event', 'recovery:fail');
    end if;
    perform kai_push_history(p_id, v_type, v_history || '{"foreign": true}');
    return jsonb_build_object('applied', true,
      'row', kai_foreign_row(v_type, kai_platform_row(v_type, v_row ->> 'id')));
  end if;
  if v_row ->> 'status' in ('completed', 'failed') then
    return jsonb_build_object('applied', false, 'reason', 'finished', 'row', v_row);
  end if;
  if coalesce(v_row ->> 'fence', '') <> coalesce(p_expected_fence, '') then
    return jsonb_build_object('applied', false, 'reason', 'fence_changed', 'row', v_row);
  end if;
  v_restarts := (v_row ->> 'restart_count')::integer;
  if v_restarts is distinct from p_expected_restart_count then
    return jsonb_build_object('applied', false, 'reason', 'restart_count_changed', 'row', v_row);
  end if;
  if p_action = 'restart' then
    execute format(
      'update %I t set status = ''pending'', fence = $3, worker_id = null, restart_count = t.restart_count + 1,'
      ' updated_at = now(), progress_checked_at = now() where t.id = $1 and t.job_type = $2 returning to_jsonb(t)',
      kai_table(v_type))
      into v_row using p_id, v_type,
        format('recovery:%s:%s', v_restarts + 1, left(replace(gen_random_uuid()::text, '-', ''), 8));
  else
    execute format(
      'update %I t set status = ''failed'', fence = null, %I = $3, error_stage = t.current_stage,'
      ' completed_at = now(), updated_at = now(),'
      ' duration_ms = kai_ms(now()) - kai_ms(coalesce(t.started_at, t.created_at))'
      ' where t.id = $1 and t.job_type = $2 returning to_jsonb(t)',
      kai_table(v_type), kai_error_column(v_type))
      into v_row using p_id, v_type, p_error;
  end if;
  if coalesce(v_history ->> 'event', '') = '' then
    v_history := v_history || jsonb_build_object('event', 'recovery:' || p_action);
  end if;
  perform kai_push_history(p_id, v_type, v_history);
  return jsonb_build_object('applied', true, 'row', v_row);
end $$;

-- Appends an entry ({event, ...}) to a job's history; `at` is now(). Returns `at` (ms).
create or replace function kai_append_history(p_id text, p_entry jsonb) returns bigint
language plpgsql set search_path from current
as $$
declare
  v_type text := kai_locate(p_id);
begin
  if v_type is null then
    raise exception 'job % not found', p_id using errcode = 'KJ404';
  end if;
  return kai_push_history(p_id, v_type, p_entry);
end $$;

-- The newest p_limit history entries of a job, oldest first, each with `at` (ms).
create or replace function kai_history(p_id text, p_limit integer default 200) returns jsonb
language sql stable set search_path from current
as $$
  select coalesce(jsonb_agg(h.entry || jsonb_build_object('at', kai_ms(h.at)) order by h.id), '[]'::jsonb)
    from (select * from job_history where job_id = p_id order by id desc limit greatest(p_limit, 0)) h
$$;

-- Rows of one type and status, newest update first; with p_updated_after (ms), only rows updated
-- after it (compared in whole ms, as the rows report them), oldest first (the monitor walks forward
-- through jobs failed since its last tick).
create or replace function kai_list_jobs(p_type text, p_status text, p_limit integer default 50, p_updated_after bigint default null)
returns jsonb
language plpgsql stable set search_path from current
as $$
declare
  v_out jsonb;
begin
  if p_updated_after is null then
    execute format('select coalesce(jsonb_agg(to_jsonb(r) order by r.updated_at desc, r.id), ''[]''::jsonb)'
                   ' from (select * from %I t where t.job_type = $1 and t.status = $2'
                   ' order by t.updated_at desc, t.id limit $3) r', kai_table(p_type))
      into v_out using p_type, p_status, greatest(p_limit, 0);
  else
    execute format('select coalesce(jsonb_agg(to_jsonb(r) order by r.updated_at, r.id), ''[]''::jsonb)'
                   ' from (select * from %I t where t.job_type = $1 and t.status = $2'
                   ' and t.updated_at >= to_timestamp(($4 + 1) / 1000.0)'
                   ' order by t.updated_at, t.id limit $3) r', kai_table(p_type))
      into v_out using p_type, p_status, greatest(p_limit, 0), p_updated_after;
  end if;
  return v_out;
end $$;

-- Checkpoints: see 20261130120000_kai_jobs_stores.sql for saving, listing and retention.

create or replace function kai_clear_checkpoints(p_job_id text, p_stage text default null) returns integer
language plpgsql set search_path from current
as $$
declare
  v_count integer;
begin
  delete from job_checkpoints where job_id = p_job_id and (p_stage is null or stage = p_stage);
  get diagnostics v_count = row_count;
  return v_count;
end $$;

-- Retention: for up to p_limit rows finished more than p_retention_ms ago, removes their
-- history and checkpoints and releases their idempotency key. The status rows stay: they are
-- the platform's record. Run it daily (pg_cron, or the store's purgeFinished()).

-- ---------------------------------------------------------------------------------------------
-- Privileges, row-level security, realtime — on kai-jobs' own tables only
-- ---------------------------------------------------------------------------------------------

-- Supabase grants everything in public to anon and authenticated by default; take it back.
revoke all on kai_background_jobs, kai_scraping_sessions, kai_data_import_jobs, job_history, job_checkpoints,
  imported_products, extracted_materials from public, anon, authenticated;
grant select, insert, update, delete on kai_background_jobs, kai_scraping_sessions, kai_data_import_jobs,
  job_history, job_checkpoints, imported_products, extracted_materials to service_role;
-- Signed-in users read job status, history, products and materials (the platform's frontend
-- shows them). Checkpoints are internal: no read access.
grant select on kai_background_jobs, kai_scraping_sessions, kai_data_import_jobs, job_history,
  imported_products, extracted_materials to authenticated;

alter table kai_background_jobs enable row level security;
alter table kai_scraping_sessions enable row level security;
alter table kai_data_import_jobs enable row level security;
alter table job_history enable row level security;
alter table job_checkpoints enable row level security;
alter table imported_products enable row level security;
alter table extracted_materials enable row level security;

-- Dropped and created again, so the file applies twice (kai-jobs' tables only).
do $$
declare
  v_policy record;
begin
  for v_policy in
    select * from (values
      ('kai_background_jobs', 'service role writes job status', 'all', 'service_role'),
      ('kai_scraping_sessions', 'service role writes job status', 'all', 'service_role'),
      ('kai_data_import_jobs', 'service role writes job status', 'all', 'service_role'),
      ('job_history', 'service role writes job history', 'all', 'service_role'),
      ('job_checkpoints', 'service role writes checkpoints', 'all', 'service_role'),
      ('imported_products', 'service role writes products', 'all', 'service_role'),
      ('extracted_materials', 'service role writes materials', 'all', 'service_role'),
      ('kai_background_jobs', 'signed-in users read job status', 'select', 'authenticated'),
      ('kai_scraping_sessions', 'signed-in users read job status', 'select', 'authenticated'),
      ('kai_data_import_jobs', 'signed-in users read job status', 'select', 'authenticated'),
      ('job_history', 'signed-in users read job history', 'select', 'authenticated'),
      ('imported_products', 'signed-in users read products', 'select', 'authenticated'),
      ('extracted_materials', 'signed-in users read materials', 'select', 'authenticated')
    ) as p(tbl, name, cmd, role)
  loop
    execute format('drop policy if exists %I on %I', v_policy.name, v_policy.tbl);
    execute format('create policy %I on %I for %s to %I using (true) %s', v_policy.name, v_policy.tbl,
                   v_policy.cmd, v_policy.role, case when v_policy.cmd = 'all' then 'with check (true)' else '' end);
  end loop;
end $$;

-- Functions: EXECUTE for service_role only (PostgreSQL grants it to PUBLIC by default and
-- Supabase to anon and authenticated). Signed-in users may also call the read functions, which
-- run as them and so see what the read policies allow.
do $$
declare
  v_function regprocedure;
begin
  for v_function in
    select p.oid::regprocedure from pg_proc p
     where p.pronamespace = current_schema()::regnamespace and p.proname like 'kai\_%'
  loop
    execute format('revoke all on function %s from public, anon, authenticated', v_function);
    execute format('grant execute on function %s to service_role', v_function);
  end loop;
end $$;
grant execute on function kai_now(), kai_ms(timestamptz), kai_table(text), kai_locate(text),
  kai_get_job(text), kai_history(text, integer), kai_list_jobs(text, text, integer, bigint) to authenticated;

-- Realtime: the platform's frontend follows its status tables live. Added where missing only.
do $$
declare
  v_table text;
begin
  if not exists (select 1 from pg_publication where pubname = 'supabase_realtime') then
    return;
  end if;
  foreach v_table in array array['background_jobs', 'scraping_sessions', 'data_import_jobs'] loop
    if not exists (select 1 from pg_publication_tables
                    where pubname = 'supabase_realtime' and schemaname = current_schema() and tablename = v_table) then
      execute format('alter publication supabase_realtime add table %I', v_table);
    end if;
  end loop;
end $$;

select set_config('search_path', current_setting('kai.saved_search_path'), false);
