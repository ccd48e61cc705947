/**
 * A small PostgREST-compatible HTTP endpoint for tests — PostgREST itself cannot be installed
 * in the test environment. It implements exactly what the kai-jobs Supabase adapters use, so
 * the real supabase-js client can talk to a real PostgreSQL over HTTP:
 *
 * - `POST /rest/v1/rpc/<function>` with a JSON object body whose keys are the function's
 *   argument names (arguments with defaults may be left out), as supabase-js `.rpc()` sends it.
 * - `apikey` header: must be a JWT signed with the test secret (Supabase's gateway refuses
 *   other keys: 401). `Authorization: Bearer <jwt>`: verified (HS256 signature, `exp`); its
 *   `role` claim is the role the call runs as; no Authorization header means the anon role.
 *   A bad token is 401 `PGRST301`.
 * - `Content-Profile` (or `Accept-Profile`) picks the schema among the exposed ones (default:
 *   the first); another schema is 406 `PGRST106`.
 * - Each call runs in its own transaction — `READ ONLY` for STABLE/IMMUTABLE functions, as
 *   PostgREST does — after `set_config('role', <role>, true)`, `request.jwt.claims`,
 *   `request.method`, `request.path` and `search_path`, so privileges and row-level security
 *   are exercised for real. Arguments are converted with `json_to_record`, as PostgREST does.
 * - Results: the function's single return value as JSON (`null` for void or NULL), HTTP 200.
 * - Errors: `{code, message, details, hint}` with PostgREST's status mapping (23505/23503 409,
 *   42501 401 for anon and 403 otherwise, 42883/42P01 404, P0001 and unknown SQLSTATEs 400,
 *   08* and 53* 503, the rest of its table 500); an unknown function is 404 `PGRST202`.
 *
 * - `POST /rest/v1/<table>` and `PATCH /rest/v1/<table>?<column>=eq.<value>`: inserts and
 *   updates, as the platform's edge functions write their rows (see postgrest-tables.ts).
 *
 * Not implemented (no adapter needs them): table reads and deletes, GET or
 * HEAD calls of functions, functions returning sets or with OUT parameters, `Prefer` headers,
 * single unnamed json parameters, CORS, the schema-cache reload (functions are looked up once
 * per schema and name).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { z } from 'zod';
import { parseOrThrow } from '../validation.js';
import { authenticate, errorBody, header, HttpError, httpStatusOfSqlState, type ErrorBody } from './postgrest-protocol.js';
import { runTableWrite } from './postgrest-tables.js';

const IdentifierSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'expected an SQL identifier' });

/** Options of {@link startPostgrestEndpoint}. */
export const PostgrestEndpointOptionsSchema = z
  .object({
    /** PostgreSQL URL of the role the endpoint logs in as (PostgREST's `authenticator`), which must be able to SET ROLE to the JWT roles. Required. */
    connectionString: z.string().min(1),
    /** The JWT secret keys and tokens are signed with (≥ 32 characters, as Supabase's). Required. */
    jwtSecret: z.string().min(32),
    /** Exposed schemas; the first is the default profile. More can be added with `exposeSchema`. Default none. */
    schemas: z.array(IdentifierSchema).default([]),
    /** The role of a request without an Authorization header. Default `anon`. */
    anonRole: IdentifierSchema.default('anon'),
    /** Interface to listen on. Default `127.0.0.1`. */
    host: z.string().default('127.0.0.1'),
    /** Port; 0 picks a free one. Pass the old port to restart an endpoint in place. Default 0. */
    port: z.number().int().min(0).max(65_535).default(0),
    /** PostgreSQL connections in the pool. Default 10. */
    poolSize: z.number().int().positive().default(10),
    /** Largest request body (bytes). Default 16 MiB. */
    maxBodyBytes: z.number().int().positive().default(16 * 1024 * 1024),
  })
  .strict();
/** What callers pass to {@link startPostgrestEndpoint}. */
export type PostgrestEndpointOptions = z.input<typeof PostgrestEndpointOptionsSchema>;

/** One RPC the endpoint served. */
export interface RpcCallRecord {
  fn: string;
  schema: string;
  role: string;
  status: number;
}

/** A running endpoint. */
export interface PostgrestEndpoint {
  /** The base URL to give supabase-js as the project URL (`http://127.0.0.1:<port>`). */
  readonly url: string;
  readonly port: number;
  /** Every RPC served so far, in order (to assert e.g. that 1,000 heartbeats were one call). */
  readonly calls: readonly RpcCallRecord[];
  /** Makes `schema` selectable with Content-Profile. */
  exposeSchema(schema: string): void;
  /** Makes `schema` unselectable again and forgets its functions. */
  hideSchema(schema: string): void;
  /** Stops listening, drops open connections and closes the pool. */
  close(): Promise<void>;
}

/** What the endpoint needs to know of a function to call it. */
interface FunctionDef {
  argNames: string[];
  argTypes: string[];
  requiredArgs: number;
  readOnly: boolean;
}

/** Quotes an SQL identifier. */
function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The request body, refused (413) beyond `maxBytes`. */
async function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new HttpError(413, errorBody('PGRST102', `request body larger than ${maxBytes} bytes`));
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Starts the endpoint; see the file header for what it implements. */
export async function startPostgrestEndpoint(options: PostgrestEndpointOptions): Promise<PostgrestEndpoint> {
  const parsed = parseOrThrow(PostgrestEndpointOptionsSchema, options, 'PostgREST endpoint options');
  const pool = new pg.Pool({ connectionString: parsed.connectionString, max: parsed.poolSize });
  // An idle client losing its connection must not crash the test process.
  pool.on('error', () => undefined);
  const schemas = [...parsed.schemas];
  const functions = new Map<string, FunctionDef[]>();
  const calls: RpcCallRecord[] = [];

  const lookup = async (schema: string, fn: string): Promise<FunctionDef[]> => {
    const key = `${schema}.${fn}`;
    const cached = functions.get(key);
    if (cached !== undefined) return cached;
    const { rows } = await pool.query<{
      argnames: string[] | null;
      argtypes: string[];
      nargdefaults: number;
      volatile: string;
      retset: boolean;
      argmodes: string[] | null;
    }>(
      `select p.proargnames as argnames, p.pronargdefaults as nargdefaults, p.provolatile as volatile,
              p.proretset as retset, p.proargmodes::text[] as argmodes,
              array(select format_type(t, null) from unnest(p.proargtypes::oid[]) as t) as argtypes
         from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = $1 and p.proname = $2 and p.prokind = 'f'`,
      [schema, fn],
    );
    const defs = rows
      .filter((row) => !row.retset && (row.argmodes === null || row.argmodes.every((mode) => mode === 'i')))
      .filter((row) => row.argtypes.length === 0 || (row.argnames ?? []).length === row.argtypes.length)
      .map((row) => ({
        argNames: row.argnames ?? [],
        argTypes: row.argtypes,
        requiredArgs: row.argtypes.length - row.nargdefaults,
        readOnly: row.volatile !== 'v',
      }));
    functions.set(key, defs);
    return defs;
  };

  const resolve = async (schema: string, fn: string, keys: string[]): Promise<FunctionDef> => {
    const defs = await lookup(schema, fn);
    const match = defs.find(
      (def) =>
        keys.every((key) => def.argNames.includes(key)) &&
        def.argNames.slice(0, def.requiredArgs).every((name) => keys.includes(name)),
    );
    if (match !== undefined) return match;
    const signature = [...keys].sort().join(', ');
    throw new HttpError(
      404,
      errorBody(
        'PGRST202',
        `Could not find the function ${schema}.${fn}(${signature}) in the schema cache`,
        `Searched for the function ${schema}.${fn} with parameters ${signature || '(none)'}, but no matches were found in the schema cache.`,
        'If a new function was created in the database with this name and parameters, try reloading the schema cache.',
      ),
    );
  };

  const call = async (
    schema: string,
    fn: string,
    args: Record<string, unknown>,
    auth: { role: string; claims: Record<string, unknown> },
    path: string,
  ): Promise<string> => {
    const keys = Object.keys(args);
    const def = await resolve(schema, fn, keys);
    const used = def.argNames.map((name, index) => ({ name, type: def.argTypes[index] as string })).filter((arg) => keys.includes(arg.name));
    const target = `${quoteIdent(schema)}.${quoteIdent(fn)}`;
    const sql =
      used.length === 0
        ? `select to_json(${target}())::text as body`
        : `select to_json(${target}(${used.map((a) => `${quoteIdent(a.name)} := pgrst_args.${quoteIdent(a.name)}`).join(', ')}))::text as body` +
          ` from json_to_record($1::json) as pgrst_args(${used.map((a) => `${quoteIdent(a.name)} ${a.type}`).join(', ')})`;
    return transaction({ schema, auth, path, method: 'POST', readOnly: def.readOnly }, async (client) => {
      const result = await client.query<{ body: string | null }>(sql, used.length === 0 ? [] : [JSON.stringify(args)]);
      return result.rows[0]?.body ?? 'null';
    });
  };

  /** Runs `work` in one transaction as the request's role, with PostgREST's request settings. */
  async function transaction<T>(
    request: { schema: string; auth: { role: string; claims: Record<string, unknown> }; path: string; method: string; readOnly: boolean },
    work: (client: pg.PoolClient) => Promise<T>,
  ): Promise<T> {
    const client = await pool.connect();
    let broken = false;
    try {
      await client.query(request.readOnly ? 'begin isolation level read committed read only' : 'begin isolation level read committed');
      await client.query(
        `select set_config('role', $1, true), set_config('request.jwt.claims', $2, true),
                set_config('request.method', $5, true), set_config('request.path', $3, true),
                set_config('search_path', $4, true)`,
        [request.auth.role, JSON.stringify(request.auth.claims), request.path, quoteIdent(request.schema), request.method],
      );
      const result = await work(client);
      await client.query('commit');
      return result;
    } catch (error) {
      await client.query('rollback').catch(() => {
        broken = true;
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }

  /** `POST`/`PATCH /rest/v1/<table>` (see postgrest-tables.ts); errors go to `handle`'s catch. */
  const writeTable = async (req: IncomingMessage, res: ServerResponse, url: URL, table: string, method: 'POST' | 'PATCH'): Promise<void> => {
    const auth = authenticate(req, parsed.jwtSecret, parsed.anonRole);
    const schema = header(req, 'content-profile') ?? header(req, 'accept-profile') ?? schemas[0] ?? 'public';
    if (!schemas.includes(schema)) {
      throw new HttpError(406, errorBody('PGRST106', `Invalid schema: ${schema}`, null, `Only the following schemas are exposed: ${schemas.join(', ')}`));
    }
    const text = await readBody(req, parsed.maxBodyBytes);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw new HttpError(400, errorBody('PGRST102', 'Empty or invalid json', (error as Error).message));
    }
    const answer = await transaction({ schema, auth, path: url.pathname, method, readOnly: false }, (client) =>
      runTableWrite(client, { schema, table, method, query: url.searchParams, body, prefer: header(req, 'prefer'), auth, path: url.pathname }),
    ).catch((error: unknown) => {
      // The status of a privilege error depends on the role (401 anon, 403 otherwise).
      if (!(error instanceof pg.DatabaseError)) throw error;
      const code = error.code ?? 'XX000';
      throw new HttpError(httpStatusOfSqlState(code, auth.role === parsed.anonRole), errorBody(code, error.message, error.detail ?? null, error.hint ?? null));
    });
    res.writeHead(answer.status, answer.body === null ? {} : { 'Content-Type': 'application/json; charset=utf-8' });
    res.end(answer.body ?? undefined);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = /^\/rest\/v1\/rpc\/([^/]+)$/.exec(url.pathname);
    const tableRoute = /^\/rest\/v1\/([A-Za-z_][A-Za-z0-9_]*)$/.exec(url.pathname);
    let record: RpcCallRecord | undefined;
    try {
      if (route === null && tableRoute !== null && (req.method === 'POST' || req.method === 'PATCH')) {
        await writeTable(req, res, url, tableRoute[1] as string, req.method);
        return;
      }
      if (route === null) {
        throw new HttpError(404, errorBody('PGRST125', `Invalid path specified in request URL: ${url.pathname}`, null, 'this test endpoint serves POST /rest/v1/rpc/<function> and POST/PATCH /rest/v1/<table> only'));
      }
      if (req.method !== 'POST') {
        throw new HttpError(405, errorBody('PGRST101', `${req.method ?? '?'} is not implemented for functions by this test endpoint; use POST`));
      }
      const auth = authenticate(req, parsed.jwtSecret, parsed.anonRole);
      const schema = header(req, 'content-profile') ?? header(req, 'accept-profile') ?? schemas[0] ?? 'public';
      if (!schemas.includes(schema)) {
        throw new HttpError(406, errorBody('PGRST106', `Invalid schema: ${schema}`, null, `Only the following schemas are exposed: ${schemas.join(', ')}`));
      }
      const fn = route[1] as string;
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(fn)) {
        throw new HttpError(404, errorBody('PGRST202', `Could not find the function ${schema}.${fn} in the schema cache`));
      }
      record = { fn, schema, role: auth.role, status: 0 };
      calls.push(record);
      const text = await readBody(req, parsed.maxBodyBytes);
      let args: unknown = {};
      if (text.trim() !== '') {
        try {
          args = JSON.parse(text);
        } catch (error) {
          throw new HttpError(400, errorBody('PGRST102', 'Empty or invalid json', (error as Error).message));
        }
      }
      if (typeof args !== 'object' || args === null || Array.isArray(args)) {
        throw new HttpError(400, errorBody('PGRST102', 'the body of a function call must be a JSON object of its arguments'));
      }
      const body = await call(schema, fn, args as Record<string, unknown>, auth, url.pathname);
      record.status = 200;
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
      res.end(body);
    } catch (error) {
      let status: number;
      let body: ErrorBody;
      let headers: Record<string, string> = {};
      if (error instanceof HttpError) {
        ({ status, body, headers } = error);
      } else if (error instanceof pg.DatabaseError) {
        const code = error.code ?? 'XX000';
        status = httpStatusOfSqlState(code, record?.role === parsed.anonRole);
        body = errorBody(code, error.message, error.detail ?? null, error.hint ?? null);
      } else {
        // Could not reach PostgreSQL (refused, reset): PostgREST answers 503 PGRST000.
        status = 503;
        body = errorBody('PGRST000', 'Database client error. Retrying the connection.', (error as Error).message);
      }
      if (record !== undefined) record.status = status;
      if (!res.headersSent) {
        res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers });
        res.end(JSON.stringify(body));
      } else {
        res.destroy();
      }
    }
  };

  const server: Server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(parsed.port, parsed.host, () => {
      server.off('error', rejectListen);
      resolveListen();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closed = false;

  return {
    url: `http://${parsed.host}:${port}`,
    port,
    calls,
    exposeSchema(schema) {
      IdentifierSchema.parse(schema);
      if (!schemas.includes(schema)) schemas.push(schema);
    },
    hideSchema(schema) {
      const index = schemas.indexOf(schema);
      if (index >= 0) schemas.splice(index, 1);
      for (const key of functions.keys()) if (key.startsWith(`${schema}.`)) functions.delete(key);
    },
    async close() {
      if (closed) return;
      closed = true;
      const stopped = new Promise<void>((resolveClose) => server.close(() => resolveClose()));
      // supabase-js (undici) keeps connections alive; drop them so close() does not wait for them.
      server.closeAllConnections();
      await stopped;
      await pool.end();
    },
  };
}
