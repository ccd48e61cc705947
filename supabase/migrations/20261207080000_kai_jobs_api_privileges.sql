-- kai-jobs, third migration: the API roles (`anon`, `authenticated`) hold nothing on kai-jobs'
-- objects but the reads the platform's frontend needs.
--
-- Why: Supabase's default privileges grant ALL on every new table, sequence and function to anon,
-- authenticated and service_role, and PostgreSQL grants EXECUTE on every new function to PUBLIC.
-- The first two migrations took back tables and functions but left the identity sequence of
-- job_history granted: anon could call nextval('job_history_id_seq') (or setval it to its
-- maximum) through any SQL it can reach and stop every history write.
--
-- What it does, on kai-jobs' objects only — never on the platform's:
--   1. kai_revoke_api_privileges(): one function holding the whole policy, called at the end of
--      this migration and by every later kai-jobs migration (`select kai_revoke_api_privileges();`
--      as its last statement), so what a later migration creates is locked down as well:
--      - sequences owned by kai-jobs' tables (job_history, job_checkpoints, imported_products,
--        extracted_materials) or named kai_*: no privilege for PUBLIC, anon, authenticated;
--        USAGE and SELECT for service_role (it inserts the history);
--      - functions named kai_*: no EXECUTE for PUBLIC, anon, authenticated; EXECUTE for
--        service_role; then EXECUTE for authenticated on the read functions the platform's
--        frontend calls, listed by name below — each STABLE or IMMUTABLE, so it cannot write;
--      - kai-jobs' own tables (the four above, and any table or view named kai_*): nothing for
--        PUBLIC and anon; SELECT for authenticated on job_history, imported_products,
--        extracted_materials and the three kai status tables (kai_background_jobs,
--        kai_scraping_sessions, kai_data_import_jobs — read under row-level security), nothing
--        on job_checkpoints or another kai_* table (a later migration grants what it means to).
--        The platform's three tables are never touched here.
--   2. Default privileges, where kai-jobs has a schema of its own (any schema but `public`): the
--      per-schema defaults that give anon and authenticated every new table, sequence and
--      function are revoked, for every role holding such defaults that the migrating role may act
--      for (default privileges are per creating role). In `public`, which kai-jobs shares with the
--      platform, default privileges are left exactly as they are: they decide what the platform's
--      own future objects get, which is not kai-jobs' business. There, step 1 — called by every
--      migration — is what keeps later kai-jobs objects closed. PUBLIC's EXECUTE on new functions
--      is a database-wide default that cannot be revoked per schema; step 1 takes it back too.
--
-- Idempotent: applies any number of times, to an empty project (nothing of kai-jobs there yet:
-- it only creates the function) and after the other migrations.

select set_config('kai.saved_search_path', current_setting('search_path'), false);
select set_config('search_path', format('%I', current_schema()), false);

create or replace function kai_revoke_api_privileges() returns void
language plpgsql volatile set search_path from current
as $$
declare
  -- kai-jobs' own tables (the platform's three status tables are the platform's).
  v_own_tables constant text[] := array['job_history', 'job_checkpoints', 'imported_products', 'extracted_materials'];
  -- Own tables signed-in users read (the platform's frontend, under row-level security).
  v_readable_tables constant text[] := array['job_history', 'imported_products', 'extracted_materials',
    'kai_background_jobs', 'kai_scraping_sessions', 'kai_data_import_jobs'];
  -- Functions signed-in users may call: reads only (each STABLE or IMMUTABLE).
  v_readable_functions constant text[] := array['kai_now', 'kai_ms', 'kai_table', 'kai_locate', 'kai_get_job', 'kai_history', 'kai_list_jobs'];
  v_schema constant regnamespace := current_schema()::regnamespace;
  v_object record;
begin
  for v_object in
    select c.oid::regclass as name, c.relname
      from pg_class c
     where c.relnamespace = v_schema and c.relkind in ('r', 'p', 'v', 'm')
       and (c.relname = any (v_own_tables) or c.relname like 'kai\_%')
  loop
    execute format('revoke all on table %s from public, anon, authenticated', v_object.name);
    if v_object.relname = any (v_readable_tables) then
      execute format('grant select on table %s to authenticated', v_object.name);
    end if;
  end loop;

  -- Sequences of kai-jobs' tables (serial and identity columns depend on their table) and kai_*.
  for v_object in
    select distinct s.oid::regclass as name
      from pg_class s
      left join pg_depend d on d.classid = 'pg_class'::regclass and d.objid = s.oid
                           and d.refclassid = 'pg_class'::regclass and d.deptype in ('a', 'i')
      left join pg_class t on t.oid = d.refobjid
     where s.relnamespace = v_schema and s.relkind = 'S'
       and (s.relname like 'kai\_%'
            or (t.relnamespace = v_schema and (t.relname = any (v_own_tables) or t.relname like 'kai\_%')))
  loop
    execute format('revoke all on sequence %s from public, anon, authenticated', v_object.name);
    execute format('grant usage, select on sequence %s to service_role', v_object.name);
  end loop;

  for v_object in
    select p.oid::regprocedure as name, p.proname, p.provolatile
      from pg_proc p
     where p.pronamespace = v_schema and p.proname like 'kai\_%' and p.prokind in ('f', 'p')
  loop
    execute format('revoke all on routine %s from public, anon, authenticated', v_object.name);
    -- This function included: run by service_role it changes nothing (only an object's owner
    -- may grant or revoke on it), and every kai_* function stays executable by service_role only.
    execute format('grant execute on routine %s to service_role', v_object.name);
    if v_object.proname = any (v_readable_functions) and v_object.provolatile in ('s', 'i') then
      execute format('grant execute on function %s to authenticated', v_object.name);
    end if;
  end loop;
end $$;

-- Default privileges in a schema of kai-jobs' own (see 2. above); never in `public`.
do $$
declare
  v_schema constant text := current_schema();
  v_role regrole;
begin
  if v_schema = 'public' then
    raise notice 'kai-jobs shares schema public with the platform: its default privileges are left as they are; '
                 'every kai-jobs migration ends with select kai_revoke_api_privileges()';
    return;
  end if;
  for v_role in
    select distinct d.defaclrole::regrole
      from pg_default_acl d
     where d.defaclnamespace = v_schema::regnamespace
       and pg_has_role(current_user, d.defaclrole, 'member')
    union
    select current_user::regrole
  loop
    execute format('alter default privileges for role %s in schema %I revoke all on tables from anon, authenticated', v_role, v_schema);
    execute format('alter default privileges for role %s in schema %I revoke all on sequences from anon, authenticated', v_role, v_schema);
    execute format('alter default privileges for role %s in schema %I revoke all on functions from anon, authenticated', v_role, v_schema);
  end loop;
end $$;

select kai_revoke_api_privileges();

select set_config('search_path', current_setting('kai.saved_search_path'), false);
