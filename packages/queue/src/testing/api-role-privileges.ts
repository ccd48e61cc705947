/**
 * What the API roles of a Supabase-like database (`anon`, `authenticated`) may do: every
 * privilege they hold on a schema's objects, as PostgreSQL's own `has_*_privilege` checks see it
 * (grants to PUBLIC and through role membership included), each kai-jobs function with a call to
 * probe it, and the SQLSTATE a statement fails with as one of them — for tests of the grants.
 */
import pg from 'pg';

/** The roles Supabase's API runs anonymous and signed-in requests as. */
export const API_ROLES = ['anon', 'authenticated'] as const;
/** One of {@link API_ROLES}. */
export type ApiRole = (typeof API_ROLES)[number];
/** A pool or a client. */
export type Queryable = pg.Pool | pg.ClientBase;

/** A kai-jobs function and a statement calling it. */
export interface ProbedFunction {
  /** `name(argtypes)`, without the schema. */
  signature: string;
  /** `select "schema"."name"(literal, …)` (`call` for a procedure). */
  call: string;
  /** VOLATILE: may change state. */
  volatile: boolean;
  /** A trigger function (cannot be called directly at all). */
  trigger: boolean;
}

/**
 * Every privilege `anon` and `authenticated` hold on the objects of `schema` (or on the objects
 * `only` selects), as `<role> <PRIVILEGE> <kind> <name>` lines, sorted.
 */
export async function privilegesHeld(db: Queryable, schema: string, only?: (name: string) => boolean): Promise<string[]> {
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
export async function kaiFunctionsOf(db: Queryable, schema: string): Promise<ProbedFunction[]> {
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

/** A session running as one API role, as PostgREST runs a request after `SET ROLE`. */
export interface RoleSession {
  /**
   * The SQLSTATE `sql` fails with, or `ok`. Each statement runs in a transaction that is rolled
   * back, so a probe that unexpectedly succeeds leaves nothing behind.
   */
  sqlState(sql: string): Promise<string>;
  close(): Promise<void>;
}

/** Opens a {@link RoleSession} as `role` with `schema` on the search path. */
export async function openRoleSession(url: string, role: ApiRole, schema: string): Promise<RoleSession> {
  const client = await connectPostgres(url);
  await client.query(`set role ${role}`);
  await client.query(`set search_path to ${pg.escapeIdentifier(schema)}`);
  return {
    async sqlState(sql) {
      await client.query('begin');
      try {
        await client.query(sql);
        return 'ok';
      } catch (error) {
        return (error as { code?: string }).code ?? String(error);
      } finally {
        await client.query('rollback');
      }
    },
    close: () => client.end(),
  };
}

/** A connected client on `url` (another database of the test cluster, say); the caller ends it. */
export async function connectPostgres(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}
