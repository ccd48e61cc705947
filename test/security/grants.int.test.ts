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
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  API_ROLES,
  connectPostgres,
  createMigratedSchema,
  kaiFunctionsOf,
  privilegesHeld,
  openRoleSession,
  type Queryable,
  DEFAULT_MIGRATIONS_DIR,
  ensureRealtimePublication,
  ensureSupabaseRoles,
  readMigrations,
  startSupabaseTestStack,
  testPostgresUrl,
  type SupabaseTestStack,
} from '@kai-jobs/queue/testing';

const PRIVILEGES_MIGRATION = '20261207080000_kai_jobs_api_privileges.sql';

/** The platform's three status tables and kai-jobs' own readable ones: signed-in users read them (under row-level security). */
const READABLE_TABLES = [
  'background_jobs',
  'data_import_jobs',
  'extracted_materials',
  'imported_products',
  'job_history',
  'kai_background_jobs',
  'kai_data_import_jobs',
  'kai_scraping_sessions',
  'scraping_sessions',
];
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

/** Applies the privileges migration once more, as a migration run would (search_path first). */
async function applyPrivilegesMigrationAgain(db: Queryable, schema: string): Promise<void> {
  const sql = readFileSync(join(DEFAULT_MIGRATIONS_DIR, PRIVILEGES_MIGRATION), 'utf8');
  await db.query(`set search_path to "${schema}"`);
  await db.query(sql);
  await db.query('reset search_path');
}

/** Probes every function anon or authenticated may not run, and the history sequence, as each role. */
async function expectRefusedAsApiRoles(url: string, db: Queryable, schema: string): Promise<number> {
  const functions = await kaiFunctionsOf(db, schema);
  expect(functions.some((fn) => fn.signature.startsWith('kai_append_history('))).toBe(true);
  let probes = 0;
  for (const role of API_ROLES) {
    const session = await openRoleSession(url, role, schema);
    try {
      for (const statement of [
        `select nextval('job_history_id_seq')`,
        `select setval('job_history_id_seq', 9223372036854775807)`,
        `select last_value from job_history_id_seq`,
        `select currval('job_history_id_seq')`,
      ]) {
        expect(await session.sqlState(statement), `${role}: ${statement}`).toBe('42501');
        probes += 1;
      }
      for (const fn of functions) {
        const allowed = role === 'authenticated' && READ_FUNCTIONS.includes(fn.signature);
        // A trigger function cannot be called directly at all; its EXECUTE is checked in the inventory.
        if (allowed || fn.trigger) continue;
        expect(await session.sqlState(fn.call), `${role}: ${fn.call}`).toBe('42501');
        probes += 1;
      }
    } finally {
      await session.close();
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
  let admin: Awaited<ReturnType<typeof connectPostgres>>;
  let db: Awaited<ReturnType<typeof connectPostgres>>;

  beforeAll(async () => {
    admin = await connectPostgres(testPostgresUrl());
    // The roles are cluster-wide: created as a Supabase project has them, if missing.
    await ensureSupabaseRoles(admin);
    await admin.query(`create database ${database}`);
    db = await connectPostgres(url);
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
