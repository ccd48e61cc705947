-- kai-jobs: the job-status tables the platform reads (background_jobs, scraping_sessions,
-- data_import_jobs), job history, checkpoints, the product and material tables, the SQL
-- functions every state change goes through, row-level security and the realtime publication.
--
-- Schema: everything is created in the first existing schema of search_path — `public` on a
-- Supabase project. The test suites apply this file to a fresh schema per run by setting
-- search_path first. Functions pin that schema with `SET search_path FROM CURRENT`.
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
-- row's state, KJ422 invalid input. Table CHECK constraints reject malformed rows (23514).

select set_config('kai.saved_search_path', current_setting('search_path'), false);
select set_config('search_path', format('%I', current_schema()), false);

-- ---------------------------------------------------------------------------------------------
-- Status tables
-- ---------------------------------------------------------------------------------------------

-- The columns kai-jobs adds to each of the three platform tables, defined once here and copied
-- with LIKE, so the three stay identical. A temporary table: it vanishes with this session.
create temporary table kai_status_columns (
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
  -- SQL NULL only for a row the platform created itself; kai-jobs stores JSON (maybe 'null').
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

create table background_jobs (
  id text primary key
    constraint background_jobs_id_length check (char_length(id) between 1 and 200),
  like kai_status_columns including defaults including constraints,
  error text,
  total_pages integer not null default 0 constraint total_pages_not_negative check (total_pages >= 0),
  completed_pages integer not null default 0 constraint completed_pages_not_negative check (completed_pages >= 0)
);
alter table background_jobs alter column job_type set default 'pdf',
  add constraint background_jobs_status_check check (status in ('pending', 'processing', 'completed', 'failed')),
  add constraint background_jobs_job_type_check check (job_type in ('pdf', 'scrape', 'xml-import'));
comment on table background_jobs is
  'Status of platform background jobs. job_type pdf: a kai-jobs PDF job. job_type scrape or '
  'xml-import: the row that follows a scraping session or import (kept in sync by a trigger).';

create table scraping_sessions (
  id text primary key
    constraint scraping_sessions_id_length check (char_length(id) between 1 and 200),
  like kai_status_columns including defaults including constraints,
  total_pages integer not null default 0 constraint total_pages_not_negative check (total_pages >= 0),
  completed_pages integer not null default 0 constraint completed_pages_not_negative check (completed_pages >= 0),
  failed_pages integer not null default 0 constraint failed_pages_not_negative check (failed_pages >= 0),
  error_message text,
  -- The background_jobs row that follows this session. Deferred: the trigger creates it after
  -- the session row is written, within the same transaction.
  background_job_id text references background_jobs (id) on delete set null deferrable initially deferred
);
alter table scraping_sessions alter column job_type set default 'scrape',
  add constraint scraping_sessions_status_check
    check (status in ('pending', 'processing', 'scraping', 'completed', 'failed')),
  add constraint scraping_sessions_job_type_check check (job_type = 'scrape');
comment on table scraping_sessions is 'Scraping sessions: one kai-jobs scrape job each.';

create table data_import_jobs (
  id text primary key
    constraint data_import_jobs_id_length check (char_length(id) between 1 and 200),
  like kai_status_columns including defaults including constraints,
  total_products integer not null default 0 constraint total_products_not_negative check (total_products >= 0),
  processed_products integer not null default 0 constraint processed_products_not_negative check (processed_products >= 0),
  failed_products integer not null default 0 constraint failed_products_not_negative check (failed_products >= 0),
  error_message text,
  background_job_id text references background_jobs (id) on delete set null deferrable initially deferred
);
alter table data_import_jobs alter column job_type set default 'xml-import',
  add constraint data_import_jobs_status_check check (status in ('pending', 'processing', 'completed', 'failed')),
  add constraint data_import_jobs_job_type_check check (job_type = 'xml-import');
comment on table data_import_jobs is 'XML product imports: one kai-jobs xml-import job each.';

drop table kai_status_columns;

-- Indexes. The monitor's stale queries read only unfinished rows, a small part of each table, so
-- the indexes are partial: finished rows never enter them and the queries never scan the table.
create index background_jobs_heartbeat_stale_idx on background_jobs (job_type, last_heartbeat)
  where status in ('processing', 'scraping');
create index background_jobs_update_stale_idx on background_jobs (job_type, progress_checked_at)
  where status in ('pending', 'processing', 'scraping');
create index background_jobs_thresholds_idx on background_jobs (job_type)
  where status in ('pending', 'processing', 'scraping')
    and (heartbeat_timeout_ms is not null or update_timeout_ms is not null);
create index background_jobs_status_idx on background_jobs (job_type, status, updated_at desc);
create unique index background_jobs_idempotency_key on background_jobs (job_type, idempotency_key)
  where idempotency_key is not null;
create index background_jobs_purge_idx on background_jobs (completed_at)
  where status in ('completed', 'failed') and purged_at is null;

create index scraping_sessions_heartbeat_stale_idx on scraping_sessions (job_type, last_heartbeat)
  where status in ('processing', 'scraping');
create index scraping_sessions_update_stale_idx on scraping_sessions (job_type, progress_checked_at)
  where status in ('pending', 'processing', 'scraping');
create index scraping_sessions_thresholds_idx on scraping_sessions (job_type)
  where status in ('pending', 'processing', 'scraping')
    and (heartbeat_timeout_ms is not null or update_timeout_ms is not null);
create index scraping_sessions_status_idx on scraping_sessions (job_type, status, updated_at desc);
create unique index scraping_sessions_idempotency_key on scraping_sessions (job_type, idempotency_key)
  where idempotency_key is not null;
create index scraping_sessions_purge_idx on scraping_sessions (completed_at)
  where status in ('completed', 'failed') and purged_at is null;
create index scraping_sessions_background_job_idx on scraping_sessions (background_job_id);

create index data_import_jobs_heartbeat_stale_idx on data_import_jobs (job_type, last_heartbeat)
  where status in ('processing', 'scraping');
create index data_import_jobs_update_stale_idx on data_import_jobs (job_type, progress_checked_at)
  where status in ('pending', 'processing', 'scraping');
create index data_import_jobs_thresholds_idx on data_import_jobs (job_type)
  where status in ('pending', 'processing', 'scraping')
    and (heartbeat_timeout_ms is not null or update_timeout_ms is not null);
create index data_import_jobs_status_idx on data_import_jobs (job_type, status, updated_at desc);
create unique index data_import_jobs_idempotency_key on data_import_jobs (job_type, idempotency_key)
  where idempotency_key is not null;
create index data_import_jobs_purge_idx on data_import_jobs (completed_at)
  where status in ('completed', 'failed') and purged_at is null;
create index data_import_jobs_background_job_idx on data_import_jobs (background_job_id);

-- ---------------------------------------------------------------------------------------------
-- History, checkpoints, products, materials
-- ---------------------------------------------------------------------------------------------

create table job_history (
  id bigint generated always as identity primary key,
  job_id text not null,
  job_type text not null constraint job_history_job_type_check check (job_type in ('pdf', 'scrape', 'xml-import')),
  at timestamptz not null default now(),
  event text not null constraint job_history_event_not_empty check (event <> ''),
  -- The entry as written (event included, `at` excluded: `at` is the store's clock).
  entry jsonb not null constraint job_history_entry_is_object check (jsonb_typeof(entry) = 'object')
);
create index job_history_job_idx on job_history (job_id, id);
comment on table job_history is 'What happened to each job, oldest first; the newest 200 entries per job are kept.';

create table job_checkpoints (
  job_id text not null,
  job_type text not null constraint job_checkpoints_job_type_check check (job_type in ('pdf', 'scrape', 'xml-import')),
  stage text not null constraint job_checkpoints_stage_not_empty check (stage <> ''),
  -- stage: the stage's output, saved when the stage finished (seq 0).
  -- partial: one part of a stage's output (seq n: batch n), so a long stage resumes mid-way.
  -- resume_state: the state a stage resumes from (e.g. a crawl frontier), overwritten each save (seq 0).
  kind text not null default 'stage'
    constraint job_checkpoints_kind_check check (kind in ('stage', 'partial', 'resume_state')),
  seq integer not null default 0 constraint job_checkpoints_seq_not_negative check (seq >= 0),
  data jsonb not null,
  sha256 text not null constraint job_checkpoints_sha256_format check (sha256 ~ '^[0-9a-f]{64}$'),
  schema_version integer not null constraint job_checkpoints_schema_version_positive check (schema_version > 0),
  attempt integer not null constraint job_checkpoints_attempt_not_negative check (attempt >= 0),
  fence text not null,
  created_at timestamptz not null default now(),
  primary key (job_id, stage, kind, seq),
  constraint job_checkpoints_single_rows_have_seq_0 check (kind = 'partial' or seq = 0)
);
comment on table job_checkpoints is 'Stage outputs each job resumes from; written only through kai_save_checkpoint (fenced).';

create table imported_products (
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
create index imported_products_import_job_idx on imported_products (import_job_id);
comment on table imported_products is 'Products written by XML imports, keyed by feed (source_name) and SKU.';

create table extracted_materials (
  document_id text not null constraint extracted_materials_document_id_not_empty check (document_id <> ''),
  material_key text not null constraint extracted_materials_key_not_empty check (material_key <> ''),
  name text,
  properties jsonb not null default '{}' constraint extracted_materials_properties_is_object check (jsonb_typeof(properties) = 'object'),
  job_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (document_id, material_key)
);
create index extracted_materials_job_idx on extracted_materials (job_id);
comment on table extracted_materials is 'Materials extracted from PDFs, keyed by document and a stable material key.';

-- ---------------------------------------------------------------------------------------------
-- Helpers
-- ---------------------------------------------------------------------------------------------

-- ms since the epoch (what the TypeScript side calls store time).
create function kai_ms(p_at timestamptz) returns bigint
language sql immutable set search_path from current
as $$ select floor(extract(epoch from p_at) * 1000)::bigint $$;

-- The table holding rows of a job type.
create function kai_table(p_type text) returns text
language plpgsql immutable set search_path from current
as $$
begin
  case p_type
    when 'pdf' then return 'background_jobs';
    when 'scrape' then return 'scraping_sessions';
    when 'xml-import' then return 'data_import_jobs';
    else
      raise exception 'unknown job type %', coalesce(quote_literal(p_type), 'null')
        using errcode = 'KJ422', hint = 'expected one of pdf, scrape, xml-import';
  end case;
end $$;

-- The platform's name of the error column differs between the tables.
create function kai_error_column(p_type text) returns text
language sql immutable set search_path from current
as $$ select case when p_type = 'pdf' then 'error' else 'error_message' end $$;

-- The counter columns of a job type (the catalog's `counters`).
create function kai_counter_columns(p_type text) returns text[]
language sql immutable set search_path from current
as $$
  select case p_type
    when 'pdf' then array['total_pages', 'completed_pages']
    when 'scrape' then array['total_pages', 'completed_pages', 'failed_pages']
    when 'xml-import' then array['total_products', 'processed_products', 'failed_products']
  end
$$;

-- Which job type holds row p_id (searched in catalog order, as the Redis store does), or null.
create function kai_locate(p_id text) returns text
language sql stable set search_path from current
as $$
  select coalesce(
    (select 'pdf' from background_jobs where id = p_id and job_type = 'pdf'),
    (select 'scrape' from scraping_sessions where id = p_id),
    (select 'xml-import' from data_import_jobs where id = p_id))
$$;

-- Finds row p_id and locks it (FOR UPDATE, or FOR SHARE when p_share), so the caller's checks
-- and writes see no concurrent change. o_row is null when there is no such row.
create function kai_lock_job(p_id text, p_share boolean default false, out o_type text, out o_row jsonb)
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
create function kai_push_history(p_id text, p_type text, p_entry jsonb) returns bigint
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
-- (status, progress, heartbeat, stage, error), in the same transaction as the change.
create function kai_sync_follower() returns trigger
language plpgsql set search_path from current
as $$
begin
  insert into background_jobs as b (
    id, job_type, bullmq_job_id, status, progress, current_stage, progress_detail, last_heartbeat,
    error, error_stage, attempt, worker_id, restart_count, created_at, updated_at,
    progress_checked_at, started_at, completed_at, duration_ms, refs)
  values (
    new.background_job_id, new.job_type, new.id,
    case new.status when 'scraping' then 'processing' else new.status end,
    new.progress, new.current_stage, new.progress_detail, new.last_heartbeat,
    new.error_message, new.error_stage, new.attempt, new.worker_id, new.restart_count, new.created_at,
    new.updated_at, new.progress_checked_at, new.started_at, new.completed_at, new.duration_ms,
    jsonb_build_object(case when tg_table_name = 'scraping_sessions' then 'sessionId' else 'importJobId' end, new.id))
  on conflict (id) do update set
    job_type = excluded.job_type, bullmq_job_id = excluded.bullmq_job_id, status = excluded.status,
    progress = excluded.progress, current_stage = excluded.current_stage,
    progress_detail = excluded.progress_detail, last_heartbeat = excluded.last_heartbeat,
    error = excluded.error, error_stage = excluded.error_stage, attempt = excluded.attempt,
    worker_id = excluded.worker_id, restart_count = excluded.restart_count,
    updated_at = excluded.updated_at, progress_checked_at = excluded.progress_checked_at,
    started_at = excluded.started_at, completed_at = excluded.completed_at,
    duration_ms = excluded.duration_ms, refs = b.refs || excluded.refs
  -- A follower, or a row the platform created for this session: never a kai-jobs PDF job.
  where b.payload is null;
  if not found then
    raise exception 'background_jobs row % belongs to a PDF job; it cannot follow % %',
      new.background_job_id, new.job_type, new.id
      using errcode = 'KJ422', hint = 'pass another backgroundJobId';
  end if;
  return null;
end $$;

create trigger kai_sync_follower after insert or update on scraping_sessions
  for each row when (new.background_job_id is not null) execute function kai_sync_follower();
create trigger kai_sync_follower after insert or update on data_import_jobs
  for each row when (new.background_job_id is not null) execute function kai_sync_follower();

-- ---------------------------------------------------------------------------------------------
-- The status store's functions (called with supabase-js .rpc())
-- ---------------------------------------------------------------------------------------------

-- The store's clock (ms).
create function kai_now() returns bigint
language sql stable set search_path from current
as $$ select kai_ms(now()) $$;

-- Creates one pending row, or finds the existing one for the same idempotency key or id.
-- p_job: {id, job_type, payload, refs, idempotency_key, heartbeat_timeout_ms, update_timeout_ms}.
-- A row the platform created itself (payload SQL NULL, still pending) is adopted: it becomes
-- the job's row. Returns {created, row}.
create function kai_create_job(p_job jsonb, p_idempotency_retention_ms bigint) returns jsonb
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
  if v_type <> 'pdf' then
    v_follower := coalesce(v_refs ->> 'backgroundJobId', gen_random_uuid()::text);
    v_refs := v_refs || jsonb_build_object('backgroundJobId', v_follower);
  end if;

  execute format(
    'update %I t set payload = $3, refs = $4, idempotency_key = $5, heartbeat_timeout_ms = $6,'
    ' update_timeout_ms = $7, bullmq_job_id = $1, updated_at = now(),'
    ' progress_checked_at = now() %s'
    ' where t.id = $1 and t.job_type = $2 and t.payload is null and t.status = ''pending'''
    ' returning to_jsonb(t)',
    v_table, case when v_type = 'pdf' then '' else ', background_job_id = $8' end)
    into v_row using v_id, v_type, v_payload, v_refs, v_key, v_hb_timeout, v_upd_timeout, v_follower;
  if v_row is null then
    execute format(
      'insert into %I as t (id, job_type, bullmq_job_id, payload, refs, idempotency_key,'
      ' heartbeat_timeout_ms, update_timeout_ms %s) values ($1, $2, $1, $3, $4, $5, $6, $7 %s)'
      ' on conflict do nothing returning to_jsonb(t)',
      v_table,
      case when v_type = 'pdf' then '' else ', background_job_id' end,
      case when v_type = 'pdf' then '' else ', $8' end)
      into v_row using v_id, v_type, v_payload, v_refs, v_key, v_hb_timeout, v_upd_timeout, v_follower;
  end if;
  if v_row is null then
    -- Lost to an existing row: a concurrent create with the same key, or the same id.
    if v_key is not null then
      execute format('select to_jsonb(t) from %I t where t.job_type = $1 and t.idempotency_key = $2', v_table)
        into v_row using v_type, v_key;
    end if;
    if v_row is null then
      execute format('select to_jsonb(t) from %I t where t.id = $1 and t.job_type = $2', v_table)
        into v_row using v_id, v_type;
    end if;
    if v_row is null then
      raise exception 'job id % is already used by a background_jobs row that is not a % job', v_id, v_type
        using errcode = 'KJ422';
    end if;
    return jsonb_build_object('created', false, 'row', v_row);
  end if;
  perform kai_push_history(v_id, v_type, '{"event": "created"}');
  return jsonb_build_object('created', true, 'row', v_row);
end $$;

-- createMany: p_jobs is an array of kai_create_job inputs; the results are in input order.
create function kai_create_jobs(p_jobs jsonb, p_idempotency_retention_ms bigint default 604800000)
returns jsonb
language plpgsql set search_path from current
as $$
declare
  v_job jsonb;
  v_out jsonb := '[]';
begin
  if jsonb_typeof(p_jobs) is distinct from 'array' then
    raise exception 'p_jobs must be a JSON array' using errcode = 'KJ422';
  end if;
  for v_job in select value from jsonb_array_elements(p_jobs) with ordinality order by ordinality loop
    v_out := v_out || jsonb_build_array(kai_create_job(v_job, p_idempotency_retention_ms));
  end loop;
  return v_out;
end $$;

-- Starts an attempt: processing, attempt + 1, the attempt's fence and worker. Returns the row.
create function kai_mark_processing(
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
create function kai_heartbeat(p_beats jsonb) returns jsonb
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
create function kai_progress(
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
create function kai_finish(
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

create function kai_complete(p_id text, p_fence text, p_result jsonb default null) returns jsonb
language sql set search_path from current
as $$
  select kai_finish(p_id, coalesce(p_fence, ''), 'completed', p_result, null, null,
                    '{"event": "completed"}', 'complete')
$$;

create function kai_fail(p_id text, p_fence text, p_error text, p_stage text default null) returns jsonb
language sql set search_path from current
as $$
  select kai_finish(p_id, coalesce(p_fence, ''), 'failed', null, p_error, p_stage,
                    jsonb_strip_nulls(jsonb_build_object('event', 'failed', 'error', p_error, 'stage', nullif(p_stage, ''))),
                    'fail')
$$;

create function kai_cancel(p_id text, p_reason text) returns jsonb
language sql set search_path from current
as $$
  select kai_finish(p_id, null, 'failed', null, 'cancelled: ' || p_reason, null,
                    jsonb_build_object('event', 'cancelled', 'reason', p_reason), 'cancel')
$$;

-- The row, or null.
create function kai_get_job(p_id text) returns jsonb
language plpgsql stable set search_path from current
as $$
declare
  v_type text := kai_locate(p_id);
  v_row jsonb;
begin
  if v_type is null then
    return null;
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
create function kai_find_stale_query(p_type text) returns text
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
-- per-job overrides), judged by now(). Returns {now, candidates: [{reason, age_ms, row}]}.
create function kai_find_stale(
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
  return v_out;
end $$;

-- Postpones the next update-timeout check of these unfinished rows by a full threshold (the
-- monitor found them healthy, e.g. waiting in the queue). Returns how many rows were deferred.
create function kai_defer_check(p_type text, p_ids jsonb) returns integer
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
-- Returns {applied, reason (when not applied), row}.
create function kai_recover(
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
    return jsonb_build_object('applied', false, 'reason', 'missing', 'row', null);
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
create function kai_append_history(p_id text, p_entry jsonb) returns bigint
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
create function kai_history(p_id text, p_limit integer default 200) returns jsonb
language sql stable set search_path from current
as $$
  select coalesce(jsonb_agg(h.entry || jsonb_build_object('at', kai_ms(h.at)) order by h.id), '[]'::jsonb)
    from (select * from job_history where job_id = p_id order by id desc limit greatest(p_limit, 0)) h
$$;

-- Rows of one type and status, newest update first; with p_updated_after (ms), only rows updated
-- after it (compared in whole ms, as the rows report them), oldest first (the monitor walks forward
-- through jobs failed since its last tick).
create function kai_list_jobs(p_type text, p_status text, p_limit integer default 50, p_updated_after bigint default null)
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

-- ---------------------------------------------------------------------------------------------
-- Checkpoints (for the Supabase checkpoint store)
-- ---------------------------------------------------------------------------------------------

-- Saves a checkpoint of a running attempt. The status row is locked FOR SHARE and its fence
-- compared, so a superseded attempt (whose fence the monitor or a newer attempt replaced)
-- cannot write a resume point. Re-saving the same (stage, kind, seq) replaces it.
-- Returns {job_id, stage, kind, seq, attempt, created_at (ms)}.
create function kai_save_checkpoint(
  p_job_id text, p_fence text, p_stage text, p_data jsonb, p_sha256 text, p_schema_version integer,
  p_kind text default 'stage', p_seq integer default 0)
returns jsonb
language plpgsql set search_path from current
as $$
declare
  v_type text;
  v_row jsonb;
begin
  select o_type, o_row into v_type, v_row from kai_lock_job(p_job_id, true);
  if v_row is null then
    raise exception 'job % not found', p_job_id using errcode = 'KJ404';
  end if;
  if (v_row ->> 'fence') is distinct from p_fence then
    raise exception 'checkpoint for job % rejected: its fence token was superseded by a newer attempt', p_job_id
      using errcode = 'KJ409', hint = 'another attempt owns the job now; stop working on it';
  end if;
  if v_row ->> 'status' not in ('processing', 'scraping') then
    raise exception 'job %: checkpoint refused: the job is %', p_job_id, v_row ->> 'status'
      using errcode = 'KJ412', detail = format('checkpoint refused: the job is %s', v_row ->> 'status');
  end if;
  insert into job_checkpoints (job_id, job_type, stage, kind, seq, data, sha256, schema_version, attempt, fence)
  values (p_job_id, v_type, p_stage, coalesce(p_kind, 'stage'), coalesce(p_seq, 0), p_data, p_sha256,
          p_schema_version, (v_row ->> 'attempt')::integer, p_fence)
  on conflict (job_id, stage, kind, seq) do update set
    data = excluded.data, sha256 = excluded.sha256, schema_version = excluded.schema_version,
    attempt = excluded.attempt, fence = excluded.fence, created_at = now();
  return jsonb_build_object('job_id', p_job_id, 'stage', p_stage, 'kind', coalesce(p_kind, 'stage'),
                            'seq', coalesce(p_seq, 0), 'attempt', (v_row ->> 'attempt')::integer,
                            'created_at', kai_ms(now()));
end $$;

-- A job's checkpoints, oldest first, with created_at in ms.
create function kai_list_checkpoints(p_job_id text) returns jsonb
language sql stable set search_path from current
as $$
  select coalesce(jsonb_agg(to_jsonb(c) || jsonb_build_object('created_at', kai_ms(c.created_at))
                            order by c.created_at, c.stage, c.kind, c.seq), '[]'::jsonb)
    from job_checkpoints c where c.job_id = p_job_id
$$;

-- Removes a job's checkpoints (of one stage when p_stage is given). Returns how many.
create function kai_clear_checkpoints(p_job_id text, p_stage text default null) returns integer
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
-- Returns {jobs, history, checkpoints} removed.
create function kai_purge_finished(p_retention_ms bigint, p_limit integer default 1000) returns jsonb
language plpgsql set search_path from current
as $$
declare
  v_ids text[];
  v_table text;
  v_batch text[];
  v_history integer;
  v_checkpoints integer;
begin
  v_ids := '{}';
  foreach v_table in array array['background_jobs', 'scraping_sessions', 'data_import_jobs'] loop
    execute format(
      'with old as (select id from %1$I where status in (''completed'', ''failed'') and purged_at is null'
      '             and completed_at < now() - $1 * interval ''1 millisecond'''
      '             order by completed_at limit $2 for update skip locked),'
      ' done as (update %1$I t set purged_at = now(), idempotency_key = null from old where t.id = old.id returning t.id)'
      ' select coalesce(array_agg(id), ''{}'') from done',
      v_table)
      into v_batch using p_retention_ms, greatest(p_limit - coalesce(array_length(v_ids, 1), 0), 0);
    v_ids := v_ids || v_batch;
  end loop;
  delete from job_history where job_id = any (v_ids);
  get diagnostics v_history = row_count;
  delete from job_checkpoints where job_id = any (v_ids);
  get diagnostics v_checkpoints = row_count;
  return jsonb_build_object('jobs', coalesce(array_length(v_ids, 1), 0), 'history', v_history,
                            'checkpoints', v_checkpoints);
end $$;

-- ---------------------------------------------------------------------------------------------
-- Privileges, row-level security, realtime
-- ---------------------------------------------------------------------------------------------

-- Supabase grants everything in public to anon and authenticated by default; take it back.
revoke all on background_jobs, scraping_sessions, data_import_jobs, job_history, job_checkpoints,
  imported_products, extracted_materials from public, anon, authenticated;
grant select, insert, update, delete on background_jobs, scraping_sessions, data_import_jobs, job_history,
  job_checkpoints, imported_products, extracted_materials to service_role;
-- Signed-in users read job status, history, products and materials (the platform's frontend
-- shows them, live through Realtime). Checkpoints are internal: no read access.
grant select on background_jobs, scraping_sessions, data_import_jobs, job_history,
  imported_products, extracted_materials to authenticated;

alter table background_jobs enable row level security;
alter table scraping_sessions enable row level security;
alter table data_import_jobs enable row level security;
alter table job_history enable row level security;
alter table job_checkpoints enable row level security;
alter table imported_products enable row level security;
alter table extracted_materials enable row level security;

create policy "service role writes job status" on background_jobs for all to service_role using (true) with check (true);
create policy "service role writes job status" on scraping_sessions for all to service_role using (true) with check (true);
create policy "service role writes job status" on data_import_jobs for all to service_role using (true) with check (true);
create policy "service role writes job history" on job_history for all to service_role using (true) with check (true);
create policy "service role writes checkpoints" on job_checkpoints for all to service_role using (true) with check (true);
create policy "service role writes products" on imported_products for all to service_role using (true) with check (true);
create policy "service role writes materials" on extracted_materials for all to service_role using (true) with check (true);

create policy "signed-in users read job status" on background_jobs for select to authenticated using (true);
create policy "signed-in users read job status" on scraping_sessions for select to authenticated using (true);
create policy "signed-in users read job status" on data_import_jobs for select to authenticated using (true);
create policy "signed-in users read job history" on job_history for select to authenticated using (true);
create policy "signed-in users read products" on imported_products for select to authenticated using (true);
create policy "signed-in users read materials" on extracted_materials for select to authenticated using (true);

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

-- Realtime: the platform's frontend follows the status tables live.
alter publication supabase_realtime add table background_jobs, scraping_sessions, data_import_jobs;

select set_config('search_path', current_setting('kai.saved_search_path'), false);
