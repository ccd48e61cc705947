/**
 * Attacker probes on the Supabase grants: what can the API roles (`anon`, and `authenticated`
 * — any signed-up user) do to kai-jobs' objects? Every privilege they hold — schema, tables,
 * columns, sequences, functions — is listed from PostgreSQL's own checks (`has_*_privilege`,
 * which count grants to PUBLIC and through role membership) and compared with the one expected
 * set; then, as `anon` and `authenticated` (SET ROLE, as PostgREST does), nextval on
 * `job_history_id_seq` and a call of every function they may not run must be refused. Run on a
 * schema of kai-jobs' own (as the test helper builds it, with Supabase's default privileges) and
 * on a database whose `public` schema kai-jobs shares with the platform.
 */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createMigratedSchema,
  DEFAULT_MIGRATIONS_DIR,
  ensureRealtimePublication,
  ensureSupabaseRoles,
  readMigrations,
  startSupabaseTestStack,
  testPostgresUrl,
  type SupabaseTestStack,
} from '@kai-jobs/queue/testing';

const API_ROLES = ['anon', 'authenticated'] as const;
type ApiRole = (typeof API_ROLES)[number];
type Queryable = pg.Pool | pg.ClientBase;
const PRIVILEGES_MIGRATION = '20261207080000_kai_jobs_api_privileges.sql';

/** The platform's three status tables and kai-jobs' own readable ones: signed-in users read them (under row-level security). */
const READABLE_TABLES = ['background_jobs', 'data_import_jobs', 'extracted_materials', 'imported_products', 'job_history', 'scraping_sessions'];
/** The read functions the platform's frontend calls as a signed-in user (each STABLE or IMMUTABLE). */
const READ_FUNCTIONS = [
  'kai_get_job(text)',
  'kai_history(text,integer)',
  'kai_list_jobs(text,text,integer,bigint)',
  'kai_locate(text)',
  'kai_ms(timestamp with time zone)',
  'kai_now()',
  'kai_table(text)',
];

/**
 * Everything anon and authenticated may do in `schema`, and nothing else. Schema USAGE is
 * Supabase's own grant (the API needs it to resolve names), not the migrations'.
 */
function expectedPrivileges(schema: string): string[] {
  return [
    `anon USAGE schema ${schema}`,
    `authenticated USAGE schema ${schema}`,
    ...READABLE_TABLES.map((table) => `authenticated SELECT table ${table}`),
    ...READ_FUNCTIONS.map((fn) => `authenticated EXECUTE function ${fn}`),
  ].sort();
}

/**
 * Every privilege `anon` and `authenticated` hold on the objects of `schema` (or on the objects
 * `only` selects), as `<role> <PRIVILEGE> <kind> <name>` lines, sorted.
 */
async function privilegesHeld(db: Queryable, schema: string, only?: (name: string) => boolean): Promise<string[]> {
  const version = Number((await db.query<{ v: string }>(`select current_setting('server_version_num') as v`)).rows[0]?.v);
  const tablePrivileges = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER', ...(version >= 170000 ? ['MAINTAIN'] : [])];
  const { rows } = await db.query<{ line: string; name: string }>(
    `with roles(role) as (select unnest($2::text[])),
     schema_privs as (
       select format('%s %s schema %s', r.role, p.priv, n.nspname) as line, n.nspname::text as name
         from roles r, pg_namespace n, unnest(array['USAGE', 'CREATE']) p(priv)
        where n.nspname = $1 and has_schema_privilege(r.role, n.oid, p.priv)),
     relations as (select c.oid, c.relname, c.relkind from pg_class c where c.relnamespace = $1::regnamespace),
     table_privs as (
       select format('%s %s table %s', r.role, p.priv, c.relname), c.relname::text
         from roles r, relations c, unnest($3::text[]) p(priv)
        where c.relkind in ('r', 'p', 'v', 'm', 'f') and has_table_privilege(r.role, c.oid, p.priv)),
     column_privs as (
       -- Column grants beyond the table's: has_any_column_privilege is true for either.
       select format('%s %s column-of %s', r.role, p.priv, c.relname), c.relname::text
         from roles r, relations c, unnest(array['SELECT', 'INSERT', 'UPDATE', 'REFERENCES']) p(priv)
        where c.relkind in ('r', 'p', 'v', 'm', 'f') and has_any_column_privilege(r.role, c.oid, p.priv)
          and not has_table_privilege(r.role, c.oid, p.priv)),
     sequence_privs as (
       select format('%s %s sequence %s', r.role, p.priv, c.relname), c.relname::text
         from roles r, relations c, unnest(array['USAGE', 'SELECT', 'UPDATE']) p(priv)
        where c.relkind = 'S' and has_sequence_privilege(r.role, c.oid, p.priv)),
     function_privs as (
       select format('%s EXECUTE function %s', r.role, regexp_replace(f.oid::regprocedure::text, '^.*\\.', '')), f.proname::text
         from roles r, pg_proc f
        where f.pronamespace = $1::regnamespace and has_function_privilege(r.role, f.oid, 'EXECUTE'))
     select * from schema_privs union all select * from table_privs union all select * from column_privs
     union all select * from sequence_privs union all select * from function_privs`,
    [schema, [...API_ROLES], tablePrivileges],
  );
  return rows
    .filter((row) => only === undefined || only(row.name))
    .map((row) => row.line)
    .sort();
}

/**
 * A literal of each argument type kai-jobs' functions take. Not NULL: PostgreSQL folds a STRICT
 * function called with a NULL constant to NULL at plan time, without checking EXECUTE, so a NULL
 * probe would pass even where the function is refused.
 */
const PROBE_VALUES: Record<string, string> = {
  text: 'probe',
  'text[]': '{}',
  integer: '1',
  bigint: '1',
  smallint: '1',
  numeric: '1',
  boolean: 'false',
  jsonb: '{}',
  json: '{}',
  'timestamp with time zone': '2026-01-01T00:00:00Z',
};

/** Each kai-jobs function (`kai_*`) of `schema`, with a call passing a non-NULL literal for every argument. */
async function functionsOf(db: Queryable, schema: string): Promise<{ signature: string; call: string; volatile: boolean; trigger: boolean }[]> {
  const { rows } = await db.query<{ signature: string; name: string; kind: string; args: string[]; volatile: boolean; trigger: boolean }>(
    `select regexp_replace(p.oid::regprocedure::text, '^.*\\.', '') as signature, p.proname as name, p.prokind as kind,
            array(select format_type(t, null) from unnest(p.proargtypes::oid[]) with ordinality a(t, i) order by i) as args,
            p.provolatile = 'v' as volatile, p.prorettype = 'trigger'::regtype as trigger
       from pg_proc p where p.pronamespace = $1::regnamespace and p.proname like 'kai\\_%' order by 1`,
    [schema],
  );
  return rows.map((row) => {
    const args = row.args.map((type) => {
      const value = PROBE_VALUES[type];
      if (value === undefined) throw new Error(`no probe value for argument type ${type} of ${row.signature}: add one`);
      return `${pg.escapeLiteral(value)}::${type}`;
    });
    const call = `${row.kind === 'p' ? 'call' : 'select'} ${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(row.name)}(${args.join(', ')})`;
    return { signature: row.signature, call, volatile: row.volatile, trigger: row.trigger };
  });
}

/** The SQLSTATE `sql` fails with as `role` in `schema`, or `ok`. */
async function sqlStateAs(url: string, role: ApiRole, schema: string, sql: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`set role ${role}`);
    await client.query(`set search_path to "${schema}"`);
    await client.query(sql);
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  } finally {
    await client.end();
  }
}

/** Applies the privileges migration once more, as a migration run would (search_path first). */
async function applyPrivilegesMigrationAgain(db: pg.ClientBase, schema: string): Promise<void> {
  const sql = readFileSync(join(DEFAULT_MIGRATIONS_DIR, PRIVILEGES_MIGRATION), 'utf8');
  await db.query(`set search_path to "${schema}"`);
  await db.query(sql);
  await db.query('reset search_path');
}

/** Probes every function anon or authenticated may not run, and the history sequence, as each role. */
async function expectRefusedAsApiRoles(url: string, db: Queryable, schema: string): Promise<number> {
  const functions = await functionsOf(db, schema);
  expect(functions.some((fn) => fn.signature.startsWith('kai_append_history('))).toBe(true);
  let probes = 0;
  for (const role of API_ROLES) {
    for (const statement of [
      `select nextval('job_history_id_seq')`,
      `select setval('job_history_id_seq', 9223372036854775807)`,
      `select last_value from job_history_id_seq`,
      `select currval('job_history_id_seq')`,
    ]) {
      expect(await sqlStateAs(url, role, schema, statement), `${role}: ${statement}`).toBe('42501');
      probes += 1;
    }
    for (const fn of functions) {
      const allowed = role === 'authenticated' && READ_FUNCTIONS.includes(fn.signature);
      // A trigger function cannot be called directly at all; its EXECUTE is checked in the inventory.
      if (allowed || fn.trigger) continue;
      expect(await sqlStateAs(url, role, schema, fn.call), `${role}: ${fn.call}`).toBe('42501');
      probes += 1;
    }
  }
  return probes;
}

describe('grants on a schema of kai-jobs own (Supabase default privileges in place)', () => {
  let stack: SupabaseTestStack;
  const schemas: string[] = [];

  beforeAll(async () => {
    stack = await startSupabaseTestStack({ schemaPrefix: 'ktgr' });
  });

  afterAll(async () => {
    await stack?.close();
  });

  afterEach(async () => {
    for (const schema of schemas.splice(0)) await stack.dropSchema(schema);
  });

  it('anon and authenticated hold exactly the expected privileges, and every function they may run only reads', async () => {
    const schema = await stack.createSchema('inventory');
    schemas.push(schema);
    expect(await privilegesHeld(stack.admin, schema)).toEqual(expectedPrivileges(schema));
    const { rows } = await stack.admin.query<{ fn: string }>(
      `select p.oid::regprocedure::text as fn from pg_proc p
        where p.pronamespace = $1::regnamespace and p.provolatile = 'v'
          and (has_function_privilege('anon', p.oid, 'EXECUTE') or has_function_privilege('authenticated', p.oid, 'EXECUTE'))`,
      [schema],
    );
    expect(rows).toEqual([]);
    // service_role keeps what the stores need: the history sequence and every kai-jobs function.
    const service = await stack.admin.query<{ seq: boolean; missing: string[] }>(
      `select has_sequence_privilege('service_role', $2::regclass, 'USAGE') as seq,
              array(select p.proname::text from pg_proc p where p.pronamespace = $1::regnamespace
                       and not has_function_privilege('service_role', p.oid, 'EXECUTE')) as missing`,
      [schema, `"${schema}".job_history_id_seq`],
    );
    expect(service.rows[0]).toEqual({ seq: true, missing: [] });
  });

  it('refuses nextval, setval and currval on job_history_id_seq and every state-changing function, as anon and authenticated', async () => {
    const schema = await stack.createSchema('probe');
    schemas.push(schema);
    const client = await stack.admin.connect();
    try {
      const probes = await expectRefusedAsApiRoles(testPostgresUrl(), client, schema);
      expect(probes).toBeGreaterThan(80);
      // And the service role still writes history (the sequence serves it).
      await client.query(`set role service_role`);
      await client.query(`set search_path to "${schema}"`);
      await client.query(`select kai_create_jobs($1)`, [JSON.stringify([{ id: 'g-1', job_type: 'pdf', payload: {} }])]);
      await client.query(`select kai_append_history('g-1', '{"event":"probe"}'::jsonb)`);
      const { rows } = await client.query<{ n: number }>(`select count(*)::int as n from job_history where job_id = 'g-1'`);
      expect(rows[0]?.n).toBeGreaterThan(0);
    } finally {
      await client.query('reset role').catch(() => undefined);
      await client.query('reset search_path').catch(() => undefined);
      client.release();
    }
  });

  it('applies to an empty project and any number of times, with the same result', async () => {
    // Empty: a schema where only this migration runs (none of kai-jobs' tables exist yet).
    const dir = mkdtempSync(join(tmpdir(), 'kai-grants-'));
    try {
      copyFileSync(join(DEFAULT_MIGRATIONS_DIR, PRIVILEGES_MIGRATION), join(dir, PRIVILEGES_MIGRATION));
      const emptySchema = `ktgr_empty_${randomBytes(4).toString('hex')}`;
      const client = await stack.admin.connect();
      try {
        await createMigratedSchema(client, emptySchema, dir);
        await applyPrivilegesMigrationAgain(client, emptySchema);
        expect(await privilegesHeld(client, emptySchema)).toEqual([`anon USAGE schema ${emptySchema}`, `authenticated USAGE schema ${emptySchema}`]);
      } finally {
        await client.query(`drop schema if exists "${emptySchema}" cascade`);
        client.release();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // After the others, then twice more: the same privileges every time.
    const schema = await stack.createSchema('again');
    schemas.push(schema);
    const client = await stack.admin.connect();
    try {
      const first = await privilegesHeld(client, schema);
      await applyPrivilegesMigrationAgain(client, schema);
      await applyPrivilegesMigrationAgain(client, schema);
      expect(await privilegesHeld(client, schema)).toEqual(first);
      expect(first).toEqual(expectedPrivileges(schema));
    } finally {
      client.release();
    }
  });

  it("closes what a later migration creates: Supabase's per-schema defaults are revoked, PUBLIC's EXECUTE by kai_revoke_api_privileges()", async () => {
    const schema = await stack.createSchema('later');
    schemas.push(schema);
    const client = await stack.admin.connect();
    const later = (name: string) => name.startsWith('kai_later');
    try {
      await client.query(`set search_path to "${schema}"`);
      await client.query(`create table kai_later_log (id bigint generated always as identity primary key, note text)`);
      await client.query(`create sequence kai_later_seq`);
      await client.query(`create function kai_later_write(p_note text) returns void language sql volatile as $$ insert into kai_later_log (note) values (p_note) $$`);
      // Default privileges no longer give the API roles the table or the sequences; PostgreSQL's
      // database-wide default still gives PUBLIC EXECUTE on the function (no per-schema revoke can)...
      expect(await privilegesHeld(client, schema, later)).toEqual([
        'anon EXECUTE function kai_later_write(text)',
        'authenticated EXECUTE function kai_later_write(text)',
      ]);
      // ...which the lock-down every migration ends with takes back.
      await client.query(`select kai_revoke_api_privileges()`);
      expect(await privilegesHeld(client, schema, later)).toEqual([]);
      expect(await privilegesHeld(client, schema)).toEqual(expectedPrivileges(schema));
    } finally {
      await client.query('reset search_path');
      client.release();
    }
  });
});

describe("grants in a public schema kai-jobs shares with the platform (the platform's defaults untouched)", () => {
  const database = `kai_grants_${randomBytes(4).toString('hex')}`;
  const url = (() => {
    const parsed = new URL(testPostgresUrl());
    parsed.pathname = `/${database}`;
    return parsed.toString();
  })();
  let admin: pg.Client;
  let db: pg.Client;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: testPostgresUrl() });
    await admin.connect();
    // The roles are cluster-wide: created as a Supabase project has them, if missing.
    await ensureSupabaseRoles(admin);
    await admin.query(`create database ${database}`);
    db = new pg.Client({ connectionString: url });
    await db.connect();
    await ensureRealtimePublication(db);
    // public as Supabase sets it up: usage and default privileges for the API roles.
    await db.query(`grant usage on schema public to anon, authenticated, service_role`);
    for (const kind of ['tables', 'functions', 'sequences']) {
      await db.query(`alter default privileges in schema public grant all on ${kind} to anon, authenticated, service_role`);
    }
  });

  afterAll(async () => {
    await db?.end();
    if (admin !== undefined) {
      await admin.query(`drop database if exists ${database} with (force)`);
      await admin.end();
    }
  });

  it('locks down kai-jobs objects, leaves default privileges and the platform objects as they were', async () => {
    const defaults = async () =>
      (await db.query<{ acl: string }>(`select format('%s %s %s %s', defaclrole::regrole, defaclnamespace::regnamespace, defaclobjtype, defaclacl) as acl from pg_default_acl order by 1`)).rows.map(
        (row) => row.acl,
      );
    const before = await defaults();
    expect(before).toHaveLength(3);
    // A platform table and function that exist before kai-jobs arrives.
    await db.query(`create table platform_widgets (id bigserial primary key, name text)`);
    await db.query(`create function platform_count() returns bigint language sql stable as $$ select count(*) from platform_widgets $$`);
    const platform = (name: string) => name.startsWith('platform_');
    const platformBefore = await privilegesHeld(db, 'public', platform);
    expect(platformBefore).toContain('anon USAGE sequence platform_widgets_id_seq');

    await db.query('begin');
    for (const migration of await readMigrations()) await db.query(migration.sql);
    await db.query('commit');
    await applyPrivilegesMigrationAgain(db, 'public');

    const kaiJobs = (name: string) => !platform(name) && name !== 'public';
    const expected = expectedPrivileges('public').filter((line) => !line.includes(' schema '));
    expect(await privilegesHeld(db, 'public', kaiJobs)).toEqual(expected);
    expect(await defaults()).toEqual(before);
    expect(await privilegesHeld(db, 'public', platform)).toEqual(platformBefore);

    // A platform object created later still gets what the platform's defaults give.
    await db.query(`create table platform_later (id bigserial primary key)`);
    expect(await privilegesHeld(db, 'public', (name) => name.startsWith('platform_later'))).toContain('anon USAGE sequence platform_later_id_seq');

    // A later kai-jobs migration: its objects get the defaults until it ends with the lock-down.
    await db.query(`create table kai_later_log (id bigint generated always as identity primary key)`);
    await db.query(`create function kai_later_write() returns void language sql volatile as $$ insert into kai_later_log default values $$`);
    const later = (name: string) => name.startsWith('kai_later');
    expect((await privilegesHeld(db, 'public', later)).length).toBeGreaterThan(0);
    await db.query(`select kai_revoke_api_privileges()`);
    expect(await privilegesHeld(db, 'public', later)).toEqual([]);
    expect(await privilegesHeld(db, 'public', platform)).toEqual(
      [...platformBefore, ...(await privilegesHeld(db, 'public', (name) => name.startsWith('platform_later')))].sort(),
    );

    expect(await expectRefusedAsApiRoles(url, db, 'public')).toBeGreaterThan(80);
    expect(readdirSync(DEFAULT_MIGRATIONS_DIR)).toContain(PRIVILEGES_MIGRATION);
  });
});
