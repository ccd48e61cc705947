-- kai-jobs: the alert outbox and the failure kind (issue 15, one recovery path).
--
-- kai_recover_with_alert() is kai_recover() plus, in the same transaction: the failure kind on the
-- failed row (`failure_kind`, a nullable column of kai-jobs' own kai_* tables) and in the
-- history entry, and — when the transition raises an alert — a kai_alert_outbox row numbered by the
-- job's incident counter (kai_alert_incidents). Monitors deliver the outbox (kai_pending_alerts)
-- and mark what Sentry took (kai_mark_alert_sent); a monitor dying between the transition and the
-- send loses nothing, and the Sentry event id derived from (job id, incident) makes a resend a
-- no-op in Sentry.
--
-- Idempotent: `if not exists` and `create or replace` throughout.

select set_config('kai.saved_search_path', current_setting('search_path'), false);
select set_config('search_path', format('%I', current_schema()), false);

-- On kai-jobs' own bookkeeping tables, never on the platform's (they are only added to where
-- the platform reads kai's progress; the kind of a failure is kai-jobs' own).
alter table kai_background_jobs add column if not exists failure_kind text;
alter table kai_scraping_sessions add column if not exists failure_kind text;
alter table kai_data_import_jobs add column if not exists failure_kind text;

-- Incidents per job: the counter that numbers a job's alerts (1, 2, …).
create table if not exists kai_alert_incidents (
  job_id text primary key,
  incident_count integer not null default 0
);

-- Alerts written with the transition that raised them; sent_at is set once Sentry took them.
create table if not exists kai_alert_outbox (
  job_id text not null,
  incident integer not null,
  job_type text not null,
  alert jsonb not null,
  created_at timestamptz not null default now(),
  sent_at timestamptz,
  primary key (job_id, incident)
);
-- Only service_role (through the kai_* functions) reaches them: RLS on, no policy.
alter table kai_alert_incidents enable row level security;
alter table kai_alert_outbox enable row level security;
-- Internal to kai-jobs: the service role (the monitor) writes and reads them; no one else.
revoke all on kai_alert_incidents, kai_alert_outbox from public, anon, authenticated;
grant select, insert, update, delete on kai_alert_incidents, kai_alert_outbox to service_role;
drop policy if exists "service role keeps alert incidents" on kai_alert_incidents;
create policy "service role keeps alert incidents" on kai_alert_incidents for all to service_role using (true) with check (true);
drop policy if exists "service role keeps the alert outbox" on kai_alert_outbox;
create policy "service role keeps the alert outbox" on kai_alert_outbox for all to service_role using (true) with check (true);
create index if not exists kai_alert_outbox_unsent on kai_alert_outbox (job_type, created_at) where sent_at is null;

create or replace function kai_recover_with_alert(
  p_id text, p_expected_fence text, p_expected_restart_count integer, p_action text,
  p_error text default null, p_history jsonb default null, p_failure_kind text default null,
  p_alert jsonb default null)
returns jsonb
language plpgsql set search_path from current
as $$
declare
  v_history jsonb := coalesce(p_history, '{}'::jsonb);
  v_result jsonb;
  v_type text;
  v_incident integer;
begin
  if p_action = 'fail' and p_failure_kind is not null then
    v_history := v_history || jsonb_build_object('failureKind', p_failure_kind);
  end if;
  -- kai_recover locks the row, checks the fence and restart count, moves it and writes the history.
  v_result := kai_recover(p_id, p_expected_fence, p_expected_restart_count, p_action, p_error, v_history);
  if not coalesce((v_result ->> 'applied')::boolean, false) then
    return v_result || jsonb_build_object('incident', null);
  end if;
  v_type := kai_locate(p_id);
  if v_type is null then
    -- A platform row kai-jobs does not own (failed by kai_recover): no bookkeeping row to mark;
    -- its type comes from the row kai_recover returned.
    v_type := v_result -> 'row' ->> 'job_type';
  elsif p_action = 'fail' and p_failure_kind is not null then
    execute format('update %I t set failure_kind = $3 where t.id = $1 and t.job_type = $2 returning to_jsonb(t)', kai_table(v_type))
      into v_result using p_id, v_type, p_failure_kind;
    v_result := jsonb_build_object('applied', true, 'row', v_result);
  end if;
  if p_alert is null then
    return v_result || jsonb_build_object('incident', null);
  end if;
  insert into kai_alert_incidents as i (job_id, incident_count) values (p_id, 1)
    on conflict (job_id) do update set incident_count = i.incident_count + 1
    returning incident_count into v_incident;
  insert into kai_alert_outbox (job_id, incident, job_type, alert) values (p_id, v_incident, v_type, p_alert);
  update job_history set entry = entry || jsonb_build_object('incident', v_incident)
    where id = (select max(h.id) from job_history h where h.job_id = p_id);
  return v_result || jsonb_build_object('incident', v_incident);
end $$;

-- Unsent alerts of one type, oldest first: [{jobId, incident, at (ms), alert}].
create or replace function kai_pending_alerts(p_type text, p_limit integer default 100) returns jsonb
language sql stable set search_path from current
as $$
  select coalesce(jsonb_agg(jsonb_build_object('jobId', o.job_id, 'incident', o.incident,
    'at', kai_ms(o.created_at), 'alert', o.alert) order by o.created_at, o.job_id, o.incident), '[]'::jsonb)
    from (select * from kai_alert_outbox where job_type = p_type and sent_at is null
          order by created_at, job_id, incident limit greatest(p_limit, 0)) o
$$;

-- Marks one alert delivered; true when this call marked it (false: already marked).
create or replace function kai_mark_alert_sent(p_id text, p_incident integer) returns boolean
language plpgsql set search_path from current
as $$
declare
  v_count integer;
begin
  update kai_alert_outbox set sent_at = now() where job_id = p_id and incident = p_incident and sent_at is null;
  get diagnostics v_count = row_count;
  return v_count = 1;
end $$;

-- kai_fail and kai_cancel record their failure kind (`processing`, `cancelled`) on the row and
-- in the history, in the same transaction as the transition (kai_finish returns null, and
-- changes nothing, when a cancelled job had finished already).
create or replace function kai_set_failure_kind(p_id text, p_kind text) returns jsonb
language plpgsql set search_path from current
as $$
declare
  v_type text := kai_locate(p_id);
  v_row jsonb;
begin
  execute format('update %I t set failure_kind = $3 where t.id = $1 and t.job_type = $2 returning to_jsonb(t)', kai_table(v_type))
    into v_row using p_id, v_type, p_kind;
  return v_row;
end $$;

-- kai_fail with the worker's "processing failed" alert: written to the outbox under the job's next
-- incident, in the transaction of the failure (a refused failure — superseded fence, finished
-- row — raises before anything is written). The 4-argument form of the first migration is
-- replaced (a second overload would make 4-argument calls ambiguous).
drop function if exists kai_fail(text, text, text, text);
create or replace function kai_fail(p_id text, p_fence text, p_error text, p_stage text default null,
                                    p_alert jsonb default null) returns jsonb
language plpgsql set search_path from current
as $$
declare
  v_row jsonb;
  v_incident integer;
begin
  v_row := kai_finish(p_id, coalesce(p_fence, ''), 'failed', null, p_error, p_stage,
                      jsonb_strip_nulls(jsonb_build_object('event', 'failed', 'error', p_error, 'stage', nullif(p_stage, ''),
                                                           'failureKind', 'processing')),
                      'fail');
  v_row := kai_set_failure_kind(p_id, 'processing');
  if p_alert is not null then
    insert into kai_alert_incidents as i (job_id, incident_count) values (p_id, 1)
      on conflict (job_id) do update set incident_count = i.incident_count + 1
      returning incident_count into v_incident;
    insert into kai_alert_outbox (job_id, incident, job_type, alert) values (p_id, v_incident, kai_locate(p_id), p_alert);
    update job_history set entry = entry || jsonb_build_object('incident', v_incident)
      where id = (select max(h.id) from job_history h where h.job_id = p_id);
  end if;
  return v_row;
end $$;

create or replace function kai_cancel(p_id text, p_reason text) returns jsonb
language plpgsql set search_path from current
as $$
declare
  v_row jsonb;
begin
  v_row := kai_finish(p_id, null, 'failed', null, 'cancelled: ' || p_reason, null,
                      jsonb_build_object('event', 'cancelled', 'reason', p_reason, 'failureKind', 'cancelled'), 'cancel');
  if v_row is null then
    return null;
  end if;
  return kai_set_failure_kind(p_id, 'cancelled');
end $$;

select kai_revoke_api_privileges();
select set_config('search_path', current_setting('kai.saved_search_path'), false);
