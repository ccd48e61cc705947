/**
 * A Supabase-like PostgreSQL for tests: the roles a Supabase database has (`anon`,
 * `authenticated`, `service_role`, and `authenticator` that PostgREST logs in as), the
 * `supabase_realtime` publication, a fresh schema per test with Supabase's default privileges
 * and the kai-jobs migrations applied, the PostgREST-compatible endpoint, and JWTs.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { signTestJwt } from './jwt.js';
import { startPostgrestEndpoint, type PostgrestEndpoint } from './postgrest-endpoint.js';

/** The JWT secret of the test "project" (tests only; never a real secret). */
export const TEST_JWT_SECRET = 'kai-jobs-test-jwt-secret-not-for-production-use';
/** Password of the `authenticator` role created by {@link ensureSupabaseRoles} (tests only). */
export const TEST_AUTHENTICATOR_PASSWORD = 'kai-jobs-test-authenticator';

/** The PostgreSQL tests use: `DATABASE_URL`, or the local default. */
export function testPostgresUrl(): string {
  return process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
}

/** The folder holding `supabase/migrations/*.sql` of this repository. */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../../../supabase/migrations/', import.meta.url));

const ROLE_STATEMENTS: readonly [string, string][] = [
  ['anon', 'create role anon nologin noinherit'],
  ['authenticated', 'create role authenticated nologin noinherit'],
  ['service_role', 'create role service_role nologin noinherit bypassrls'],
  ['authenticator', `create role authenticator login noinherit password '${TEST_AUTHENTICATOR_PASSWORD}'`],
];

/** True for the errors two processes get when they create the same cluster-wide object at once. */
function isCreateRace(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === '42710' || code === '23505' || code === 'XX000';
}

/**
 * Creates the Supabase roles if missing. Roles are cluster-wide and test files run in
 * parallel, so a creation lost to another process is retried, not failed.
 */
export async function ensureSupabaseRoles(admin: pg.ClientBase): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const { rows } = await admin.query<{ rolname: string }>(
        `select rolname from pg_roles where rolname = any($1::text[])`,
        [ROLE_STATEMENTS.map(([name]) => name)],
      );
      const existing = new Set(rows.map((row) => row.rolname));
      for (const [name, statement] of ROLE_STATEMENTS) if (!existing.has(name)) await admin.query(statement);
      const { rows: members } = await admin.query<{ missing: number }>(
        `select count(*)::int as missing from unnest(array['anon', 'authenticated', 'service_role']) as r(name)
          where not pg_has_role('authenticator', r.name, 'member')`,
      );
      if ((members[0]?.missing ?? 0) > 0) await admin.query('grant anon, authenticated, service_role to authenticator');
      return;
    } catch (error) {
      if (!isCreateRace(error) || attempt >= 5) throw error;
    }
  }
}

/** Creates the `supabase_realtime` publication (empty) if the database has none, as a Supabase database does. */
export async function ensureRealtimePublication(admin: pg.ClientBase): Promise<void> {
  try {
    await admin.query(
      `do $$ begin
         if not exists (select from pg_publication where pubname = 'supabase_realtime') then
           create publication supabase_realtime;
         end if;
       end $$`,
    );
  } catch (error) {
    if (!isCreateRace(error)) throw error;
  }
}

/** The migration files of `dir`, in the order the Supabase CLI applies them (by name). */
export async function readMigrations(dir = DEFAULT_MIGRATIONS_DIR): Promise<{ name: string; sql: string }[]> {
  const names = (await readdir(dir)).filter((name) => name.endsWith('.sql')).sort();
  return Promise.all(names.map(async (name) => ({ name, sql: await readFile(`${dir}/${name}`, 'utf8') })));
}

/**
 * Creates `schema` with Supabase's grants (usage for the API roles, and default privileges
 * giving them everything created in it — which the migrations must take back) and applies the
 * migrations to it in one transaction.
 */
export async function createMigratedSchema(admin: pg.ClientBase, schema: string, migrationsDir?: string): Promise<void> {
  const migrations = await readMigrations(migrationsDir);
  const quoted = `"${schema}"`;
  await admin.query('begin');
  try {
    await admin.query(`create schema ${quoted}`);
    await admin.query(`grant usage on schema ${quoted} to anon, authenticated, service_role`);
    for (const kind of ['tables', 'functions', 'sequences']) {
      await admin.query(`alter default privileges in schema ${quoted} grant all on ${kind} to anon, authenticated, service_role`);
    }
    await admin.query(`set local search_path to ${quoted}`);
    for (const migration of migrations) {
      try {
        await admin.query(migration.sql);
      } catch (error) {
        throw new Error(`migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
      }
    }
    await admin.query('commit');
  } catch (error) {
    await admin.query('rollback');
    throw error;
  }
}

/** A Supabase-like stack for one test file: see {@link startSupabaseTestStack}. */
export interface SupabaseTestStack {
  /** The project URL to give supabase-js (the endpoint). */
  readonly url: string;
  readonly jwtSecret: string;
  /** A key with role `service_role`. */
  readonly serviceRoleKey: string;
  /** A key with role `anon`. */
  readonly anonKey: string;
  readonly endpoint: PostgrestEndpoint;
  /** A superuser pool, for setup and assertions that bypass the API. */
  readonly admin: pg.Pool;
  /** A signed-in user's access token (role `authenticated`). */
  userToken(userId?: string): string;
  /** A fresh schema with the migrations applied, exposed by the endpoint. */
  createSchema(label?: string): Promise<string>;
  /** Drops a schema made by {@link createSchema} (tables leave the publication with it). */
  dropSchema(schema: string): Promise<void>;
  /**
   * Starts one more endpoint on the same database, keys and roles, exposing `schemas` — one a
   * test may stop and start again (see `startRestartableEndpoint`). The caller closes it.
   */
  startEndpoint(options: { schemas: string[]; port?: number }): Promise<PostgrestEndpoint>;
  /** Drops the remaining schemas, stops the endpoint, closes the pool. */
  close(): Promise<void>;
}

/** Options of {@link startSupabaseTestStack}. */
export interface SupabaseTestStackOptions {
  /** Superuser URL. Default {@link testPostgresUrl}. */
  adminUrl?: string;
  migrationsDir?: string;
  /** Prefix of schema names (lowercase letters, digits, `_`). Default `kt`. */
  schemaPrefix?: string;
  /** Keep schemas on close (for inspection). Default false. */
  keepSchemas?: boolean;
}

/**
 * Prepares the database (roles, publication) and starts the PostgREST-compatible endpoint,
 * logged in as `authenticator`. Call once per test file; create a schema per test.
 */
export async function startSupabaseTestStack(options: SupabaseTestStackOptions = {}): Promise<SupabaseTestStack> {
  const adminUrl = options.adminUrl ?? testPostgresUrl();
  const admin = new pg.Pool({ connectionString: adminUrl, max: 4 });
  admin.on('error', () => undefined);
  const setup = await admin.connect();
  try {
    await ensureSupabaseRoles(setup);
    await ensureRealtimePublication(setup);
  } finally {
    setup.release();
  }
  const authenticatorUrl = new URL(adminUrl);
  authenticatorUrl.username = 'authenticator';
  authenticatorUrl.password = TEST_AUTHENTICATOR_PASSWORD;
  const endpoint = await startPostgrestEndpoint({ connectionString: authenticatorUrl.toString(), jwtSecret: TEST_JWT_SECRET });
  const schemas = new Set<string>();
  const prefix = options.schemaPrefix ?? 'kt';
  const farFuture = Math.floor(Date.now() / 1000) + 10 * 365 * 24 * 3600;

  const dropSchema = async (schema: string): Promise<void> => {
    endpoint.hideSchema(schema);
    schemas.delete(schema);
    await admin.query(`drop schema if exists "${schema}" cascade`);
  };

  return {
    url: endpoint.url,
    jwtSecret: TEST_JWT_SECRET,
    serviceRoleKey: signTestJwt({ role: 'service_role', iss: 'supabase', exp: farFuture }, TEST_JWT_SECRET),
    anonKey: signTestJwt({ role: 'anon', iss: 'supabase', exp: farFuture }, TEST_JWT_SECRET),
    endpoint,
    admin,
    userToken(userId = '00000000-0000-4000-8000-000000000001') {
      return signTestJwt({ role: 'authenticated', sub: userId, exp: farFuture }, TEST_JWT_SECRET);
    },
    async createSchema(label = 'test') {
      const clean = label.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 30);
      const schema = `${prefix}_${clean}_${randomBytes(4).toString('hex')}`;
      const client = await admin.connect();
      try {
        await createMigratedSchema(client, schema, options.migrationsDir);
      } finally {
        client.release();
      }
      schemas.add(schema);
      endpoint.exposeSchema(schema);
      return schema;
    },
    dropSchema,
    startEndpoint({ schemas: exposed, port }) {
      return startPostgrestEndpoint({
        connectionString: authenticatorUrl.toString(),
        jwtSecret: TEST_JWT_SECRET,
        schemas: exposed,
        ...(port === undefined ? {} : { port }),
      });
    },
    async close() {
      if (!options.keepSchemas) for (const schema of [...schemas]) await dropSchema(schema);
      await endpoint.close();
      await admin.end();
    },
  };
}
