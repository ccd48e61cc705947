-- kai-jobs, second migration: the functions of the Supabase checkpoint store (fenced saves with
-- the status progress in the same transaction, save-and-complete, resume states, listing,
-- retention) and of the product and material stores (upserts keyed (source_name, sku) and
-- (document_id, material_key)).
--
-- Same conventions as 20261129190000_kai_jobs.sql (re-runnable: `create or replace` only): everything goes into the first schema of
-- search_path (`public` on Supabase), functions pin it with `SET search_path FROM CURRENT`, use
-- now() as the only clock, raise KJ404 / KJ409 / KJ412 / KJ422, and are executable by
-- service_role only.
--
-- Checkpoint data is stored as TEXT (`data_json`), not jsonb. The store hashes the exact JSON text
-- it writes and validation re-hashes the text it reads back: jsonb would not give that text back
-- (it reorders keys, drops whitespace and duplicate keys, rewrites numbers such as 1e2 as 100), so
-- every checkpoint would fail its sha256 check. One copy only — not text and jsonb — because a
-- checkpoint may be 256 KiB written once per stage; `data_json::jsonb` gives the jsonb for ad-hoc
-- queries. Saves verify that the text is JSON and that it hashes to the sha256 the client sent,
-- so what is stored is exactly what was hashed.

select set_config('kai.saved_search_path', current_setting('search_path'), false);
select set_config('search_path', format('%I', current_schema()), false);

-- job_checkpoints (data_json, stage_index, bytes, expires_at) is created by the first migration.

-- ---------------------------------------------------------------------------------------------
-- Checkpoint helpers
-- ---------------------------------------------------------------------------------------------

-- Locks row p_id (FOR UPDATE, or FOR SHARE when p_share) and checks that the attempt holding
-- p_fence still runs it: KJ404 no row, KJ409 superseded fence, KJ412 not running.
create or replace function kai_lock_running(p_id text, p_fence text, p_operation text, p_share boolean default false,
  out o_type text, out o_row jsonb)
language plpgsql set search_path from current
as $$
begin
  select l.o_type, l.o_row into o_type, o_row from kai_lock_job(p_id, p_share) l;
  if o_row is null then
    raise exception 'job % not found', p_id using errcode = 'KJ404';
  end if;
  if (o_row ->> 'fence') is distinct from p_fence then
    raise exception '% for job % rejected: its fence token was superseded by a newer attempt', p_operation, p_id
      using errcode = 'KJ409', hint = 'another attempt owns the job now; stop working on it';
  end if;
  if o_row ->> 'status' not in ('processing', 'scraping') then
    raise exception 'job %: % refused: the job is %', p_id, p_operation, o_row ->> 'status'
      using errcode = 'KJ412', detail = format('%s refused: the job is %s', p_operation, o_row ->> 'status');
  end if;
end $$;

-- Hex sha256 of a text's UTF-8 bytes (what the TypeScript side computes).
create or replace function kai_sha256(p_text text) returns text
language sql immutable strict set search_path from current
as $$ select encode(sha256(convert_to(p_text, 'UTF8')), 'hex') $$;

-- Writes (or replaces) a stage's checkpoint of a job already locked by the caller, removes the
-- stage's resume state, and keeps the job's checkpoints from expiring (it runs again). Refuses
-- data that is not JSON (22P02) or does not hash to p_sha256 (KJ422). Returns created_at (ms).
create or replace function kai_put_checkpoint(
  p_job_id text, p_type text, p_fence text, p_stage text, p_stage_index integer, p_data_json text,
  p_sha256 text, p_schema_version integer, p_attempt integer)
returns bigint
language plpgsql set search_path from current
as $$
begin
  if coalesce(p_stage, '') = '' or p_stage_index is null or p_stage_index < 0 or p_attempt is null then
    raise exception 'checkpoint of job % needs a stage, a stage index ≥ 0 and an attempt', p_job_id
      using errcode = 'KJ422';
  end if;
  if p_data_json is null then
    raise exception 'checkpoint % of job % has no data', p_stage, p_job_id using errcode = 'KJ422';
  end if;
  perform p_data_json::json;
  if kai_sha256(p_data_json) is distinct from p_sha256 then
    raise exception 'checkpoint % of job %: the data does not hash to the sha256 sent (%)', p_stage, p_job_id,
      coalesce(left(p_sha256, 12), 'null')
      using errcode = 'KJ422', hint = 'the sha256 must be over the exact UTF-8 JSON text sent as p_data_json';
  end if;
  insert into job_checkpoints as c (job_id, job_type, stage, kind, seq, stage_index, data_json, bytes, sha256,
                                    schema_version, attempt, fence)
  values (p_job_id, p_type, p_stage, 'stage', 0, p_stage_index, p_data_json, octet_length(p_data_json), p_sha256,
          p_schema_version, p_attempt, p_fence)
  on conflict (job_id, stage, kind, seq) do update set
    stage_index = excluded.stage_index, data_json = excluded.data_json, bytes = excluded.bytes,
    sha256 = excluded.sha256, schema_version = excluded.schema_version, attempt = excluded.attempt,
    fence = excluded.fence, created_at = now(), expires_at = null;
  delete from job_checkpoints where job_id = p_job_id and stage = p_stage and kind = 'resume_state';
  update job_checkpoints set expires_at = null where job_id = p_job_id and expires_at is not null;
  return kai_ms(now());
end $$;

-- ---------------------------------------------------------------------------------------------
-- The checkpoint store's functions (called with supabase-js .rpc())
-- ---------------------------------------------------------------------------------------------

-- Saves one stage's checkpoint while the attempt holding p_fence runs the job, and in the same
-- transaction — when p_percent is given — the status progress: current_stage = p_next_stage
-- (null or '' keeps it), progress = p_percent, updated_at. One round trip per stage.
-- Returns {created_at} (ms).
create or replace function kai_save_checkpoint(
  p_job_id text, p_fence text, p_stage text, p_stage_index integer, p_data_json text, p_sha256 text,
  p_schema_version integer, p_attempt integer, p_next_stage text default null, p_percent numeric default null)
returns jsonb
language plpgsql set search_path from current
as $$
declare
  v_type text;
  v_row jsonb;
  v_at bigint;
begin
  select o_type, o_row into v_type, v_row
    from kai_lock_running(p_job_id, p_fence, format('checkpoint %s', p_stage), p_percent is null);
  v_at := kai_put_checkpoint(p_job_id, v_type, p_fence, p_stage, p_stage_index, p_data_json, p_sha256,
                             p_schema_version, p_attempt);
  if p_percent is not null then
    execute format('update %I set progress = round($3, 2), current_stage = coalesce($4, current_stage),'
                   ' updated_at = now(), progress_checked_at = now() where id = $1 and job_type = $2',
                   kai_table(v_type))
      using p_job_id, v_type, p_percent, nullif(p_next_stage, '');
  end if;
  return jsonb_build_object('created_at', v_at);
end $$;

-- The last stage's checkpoint and the job's completion in one transaction (kai_complete: status
-- completed, result, progress 100, duration, history "completed"): a crash cannot fall between
-- them. The job's checkpoints then expire after p_retention_ms. Returns {created_at} (ms).
create or replace function kai_save_checkpoint_and_complete(
  p_job_id text, p_fence text, p_stage text, p_stage_index integer, p_data_json text, p_sha256 text,
  p_schema_version integer, p_attempt integer, p_result jsonb default null, p_retention_ms bigint default 604800000)
returns jsonb
language plpgsql set search_path from current
as $$
declare
  v_type text;
  v_at bigint;
begin
  select o_type into v_type from kai_lock_running(p_job_id, p_fence, format('completing with checkpoint %s', p_stage));
  v_at := kai_put_checkpoint(p_job_id, v_type, p_fence, p_stage, p_stage_index, p_data_json, p_sha256,
                             p_schema_version, p_attempt);
  perform kai_complete(p_job_id, p_fence, p_result);
  update job_checkpoints set expires_at = now() + p_retention_ms * interval '1 millisecond' where job_id = p_job_id;
  return jsonb_build_object('created_at', v_at);
end $$;

-- Saves a running stage's intra-stage state (committed batches, a crawl frontier), overwriting
-- the previous one; counts as progress (updated_at moves: a long stage saving state is not
-- stuck). Returns saved_at (ms).
create or replace function kai_save_resume_state(p_job_id text, p_fence text, p_stage text, p_state_json text, p_attempt integer)
returns bigint
language plpgsql set search_path from current
as $$
declare
  v_type text;
begin
  select o_type into v_type from kai_lock_running(p_job_id, p_fence, format('resume state of %s', p_stage));
  if coalesce(p_stage, '') = '' or p_state_json is null or p_attempt is null then
    raise exception 'resume state of job % needs a stage, a state and an attempt', p_job_id using errcode = 'KJ422';
  end if;
  perform p_state_json::json;
  insert into job_checkpoints (job_id, job_type, stage, kind, seq, data_json, bytes, sha256, schema_version, attempt, fence)
  values (p_job_id, v_type, p_stage, 'resume_state', 0, p_state_json, octet_length(p_state_json),
          kai_sha256(p_state_json), 1, p_attempt, p_fence)
  on conflict (job_id, stage, kind, seq) do update set
    data_json = excluded.data_json, bytes = excluded.bytes, sha256 = excluded.sha256, attempt = excluded.attempt,
    fence = excluded.fence, created_at = now(), expires_at = null;
  execute format('update %I set updated_at = now(), progress_checked_at = now() where id = $1 and job_type = $2',
                 kai_table(v_type))
    using p_job_id, v_type;
  return kai_ms(now());
end $$;

-- A stage's resume state: {state_json, sha256, attempt, fence, saved_at (ms)}, or null.
create or replace function kai_load_resume_state(p_job_id text, p_stage text) returns jsonb
language sql stable set search_path from current
as $$
  select jsonb_build_object('state_json', c.data_json, 'sha256', c.sha256, 'attempt', c.attempt,
                            'fence', c.fence, 'saved_at', kai_ms(c.created_at))
    from job_checkpoints c
   where c.job_id = p_job_id and c.stage = p_stage and c.kind = 'resume_state' and c.seq = 0
     and (c.expires_at is null or c.expires_at > now())
$$;

-- A job's checkpoints of one kind (default: stage outputs), in stage order, without expired ones:
-- [{stage, kind, seq, stage_index, data_json, bytes, sha256, schema_version, attempt, fence,
--   created_at (ms)}].
create or replace function kai_list_checkpoints(p_job_id text, p_kind text default 'stage') returns jsonb
language sql stable set search_path from current
as $$
  select coalesce(jsonb_agg(jsonb_build_object(
           'stage', c.stage, 'kind', c.kind, 'seq', c.seq, 'stage_index', c.stage_index, 'data_json', c.data_json,
           'bytes', c.bytes, 'sha256', c.sha256, 'schema_version', c.schema_version, 'attempt', c.attempt,
           'fence', c.fence, 'created_at', kai_ms(c.created_at))
         order by c.stage_index nulls last, c.stage, c.seq), '[]'::jsonb)
    from job_checkpoints c
   where c.job_id = p_job_id and c.kind = coalesce(p_kind, 'stage')
     and (c.expires_at is null or c.expires_at > now())
$$;

-- Keeps a job's checkpoints and resume states for p_retention_ms more, then they are gone
-- (called when the job finishes). Returns how many rows were given an expiry.
create or replace function kai_expire_checkpoints(p_job_id text, p_retention_ms bigint) returns integer
language plpgsql set search_path from current
as $$
declare
  v_count integer;
begin
  if p_retention_ms is null or p_retention_ms <= 0 then
    raise exception 'checkpoint retention must be a positive number of ms' using errcode = 'KJ422';
  end if;
  update job_checkpoints set expires_at = now() + p_retention_ms * interval '1 millisecond' where job_id = p_job_id;
  get diagnostics v_count = row_count;
  return v_count;
end $$;

-- Deletes up to p_limit expired checkpoints and resume states. Returns how many.
create or replace function kai_purge_expired_checkpoints(p_limit integer default 10000) returns integer
language plpgsql set search_path from current
as $$
declare
  v_count integer;
begin
  delete from job_checkpoints c
   where (c.job_id, c.stage, c.kind, c.seq) in (
     select e.job_id, e.stage, e.kind, e.seq from job_checkpoints e
      where e.expires_at <= now() order by e.expires_at limit greatest(p_limit, 0));
  get diagnostics v_count = row_count;
  return v_count;
end $$;

-- Retention: for up to p_limit kai rows finished more than p_retention_ms ago, removes their
-- history and checkpoints and releases their idempotency key (the rows stay: the platform rows
-- are the platform's record), and removes expired checkpoints (of any job). Run it daily.
-- Returns {jobs, history, checkpoints} removed.
create or replace function kai_purge_finished(p_retention_ms bigint, p_limit integer default 1000) returns jsonb
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
  foreach v_table in array array['kai_background_jobs', 'kai_scraping_sessions', 'kai_data_import_jobs'] loop
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
  v_checkpoints := v_checkpoints + kai_purge_expired_checkpoints(greatest(p_limit, 0) * 10);
  return jsonb_build_object('jobs', coalesce(array_length(v_ids, 1), 0), 'history', v_history,
                            'checkpoints', v_checkpoints);
end $$;

-- ---------------------------------------------------------------------------------------------
-- Products (XML imports) and materials (PDFs)
-- ---------------------------------------------------------------------------------------------

-- Inserts or replaces products of one source, keyed (source_name, sku): importing a feed twice,
-- or resuming an import that had written a batch, never duplicates. p_products: an array of
-- product objects ({sku, name, ...every mapped field}); a SKU repeated in one call keeps its
-- last value. Unchanged products are not rewritten (content_sha256). One transaction: a batch
-- with a bad product (no SKU or name: 23502; empty: 23514) writes nothing.
-- Returns how many rows were inserted or changed.
create or replace function kai_upsert_products(p_source_name text, p_products jsonb, p_import_job_id text default null)
returns integer
language plpgsql set search_path from current
as $$
declare
  v_count integer;
  v_bad bigint;
begin
  if jsonb_typeof(p_products) is distinct from 'array' then
    raise exception 'p_products must be a JSON array of products' using errcode = 'KJ422';
  end if;
  select min(p.ordinality) into v_bad from jsonb_array_elements(p_products) with ordinality as p(value, ordinality)
   where jsonb_typeof(p.value) <> 'object';
  if v_bad is not null then
    raise exception 'product % of source % is not a JSON object', v_bad - 1, p_source_name using errcode = 'KJ422';
  end if;
  with input as (
    select distinct on (p.value ->> 'sku') p.value ->> 'sku' as sku, p.value as fields
      from jsonb_array_elements(p_products) with ordinality as p(value, ordinality)
     order by p.value ->> 'sku', p.ordinality desc
  )
  insert into imported_products as t (source_name, sku, name, fields, content_sha256, import_job_id)
  select p_source_name, i.sku, i.fields ->> 'name', i.fields, kai_sha256(i.fields::text), p_import_job_id from input i
  on conflict (source_name, sku) do update set
    name = excluded.name, fields = excluded.fields, content_sha256 = excluded.content_sha256,
    import_job_id = coalesce(excluded.import_job_id, t.import_job_id), updated_at = now()
  where t.content_sha256 is distinct from excluded.content_sha256
     or t.import_job_id is distinct from coalesce(excluded.import_job_id, t.import_job_id);
  get diagnostics v_count = row_count;
  return v_count;
end $$;

-- How many products a source has.
create or replace function kai_count_products(p_source_name text) returns bigint
language sql stable set search_path from current
as $$ select count(*) from imported_products where source_name = p_source_name $$;

-- One product's fields, or null.
create or replace function kai_get_product(p_source_name text, p_sku text) returns jsonb
language sql stable set search_path from current
as $$ select fields from imported_products where source_name = p_source_name and sku = p_sku $$;

-- Inserts or replaces materials of one document, keyed (document_id, material_key): running the
-- materials stage again never duplicates. p_materials: an array of material objects ({key, name,
-- ...}); a key repeated in one call keeps its last value. One transaction: a bad material writes
-- nothing. Returns how many rows were inserted or changed.
create or replace function kai_upsert_materials(p_document_id text, p_materials jsonb, p_job_id text default null)
returns integer
language plpgsql set search_path from current
as $$
declare
  v_count integer;
  v_bad bigint;
begin
  if jsonb_typeof(p_materials) is distinct from 'array' then
    raise exception 'p_materials must be a JSON array of materials' using errcode = 'KJ422';
  end if;
  select min(m.ordinality) into v_bad from jsonb_array_elements(p_materials) with ordinality as m(value, ordinality)
   where jsonb_typeof(m.value) <> 'object';
  if v_bad is not null then
    raise exception 'material % of document % is not a JSON object', v_bad - 1, p_document_id using errcode = 'KJ422';
  end if;
  with input as (
    select distinct on (m.value ->> 'key') m.value ->> 'key' as material_key, m.value as properties
      from jsonb_array_elements(p_materials) with ordinality as m(value, ordinality)
     order by m.value ->> 'key', m.ordinality desc
  )
  insert into extracted_materials as t (document_id, material_key, name, properties, job_id)
  select p_document_id, i.material_key, i.properties ->> 'name', i.properties, p_job_id from input i
  on conflict (document_id, material_key) do update set
    name = excluded.name, properties = excluded.properties, job_id = coalesce(excluded.job_id, t.job_id), updated_at = now()
  where t.properties is distinct from excluded.properties
     or t.job_id is distinct from coalesce(excluded.job_id, t.job_id);
  get diagnostics v_count = row_count;
  return v_count;
end $$;

-- A document's materials (their properties), by key.
create or replace function kai_list_materials(p_document_id text) returns jsonb
language sql stable set search_path from current
as $$
  select coalesce(jsonb_agg(m.properties order by m.material_key collate "C"), '[]'::jsonb)
    from extracted_materials m where m.document_id = p_document_id
$$;

-- How many materials a document has.
create or replace function kai_count_materials(p_document_id text) returns bigint
language sql stable set search_path from current
as $$ select count(*) from extracted_materials where document_id = p_document_id $$;

-- ---------------------------------------------------------------------------------------------
-- Privileges: as in the first migration, EXECUTE for service_role only
-- ---------------------------------------------------------------------------------------------

-- (PostgreSQL grants EXECUTE to PUBLIC by default and Supabase to anon and authenticated.)
-- Only the functions created here: the first migration's grants to authenticated stay.
do $$
declare
  v_function regprocedure;
begin
  for v_function in
    select p.oid::regprocedure from pg_proc p
     where p.pronamespace = current_schema()::regnamespace
       and p.proname = any (array[
         'kai_lock_running', 'kai_sha256', 'kai_put_checkpoint', 'kai_save_checkpoint',
         'kai_save_checkpoint_and_complete', 'kai_save_resume_state', 'kai_load_resume_state',
         'kai_list_checkpoints', 'kai_expire_checkpoints', 'kai_purge_expired_checkpoints',
         'kai_upsert_products', 'kai_count_products', 'kai_get_product',
         'kai_upsert_materials', 'kai_list_materials', 'kai_count_materials'])
  loop
    execute format('revoke all on function %s from public, anon, authenticated', v_function);
    execute format('grant execute on function %s to service_role', v_function);
  end loop;
end $$;

select set_config('search_path', current_setting('kai.saved_search_path'), false);
