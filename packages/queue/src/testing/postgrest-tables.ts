/**
 * Table writes for the test endpoint: `POST /rest/v1/<table>` (insert) and `PATCH
 * /rest/v1/<table>?<column>=eq.<value>` (update), as supabase-js `.from(t).insert()` and
 * `.update().eq()` send them — what the platform's edge functions use to create and close
 * their rows. Only the columns present in the body are written (the others keep their
 * defaults, as PostgREST does), values are converted with `json_to_recordset`, filters are
 * `eq.` only, and `Prefer: return=representation` returns the written rows (else 201/204 with
 * no body). Reads, deletes, upserts and other filter operators are not implemented.
 */
import type pg from 'pg';
import { errorBody, HttpError } from './postgrest-protocol.js';

/** What a table write needs from the endpoint's request. */
export interface TableWriteRequest {
  schema: string;
  table: string;
  method: 'POST' | 'PATCH';
  query: URLSearchParams;
  body: unknown;
  /** The `Prefer` header, if any. */
  prefer: string | undefined;
  auth: { role: string; claims: Record<string, unknown> };
  path: string;
}

/** A table write's answer. */
export interface TableWriteResponse {
  status: number;
  /** JSON text, or null for no body. */
  body: string | null;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The table's columns and their SQL types (empty when the table does not exist). */
async function columnTypes(client: pg.ClientBase, schema: string, table: string): Promise<Map<string, string>> {
  const { rows } = await client.query<{ name: string; type: string }>(
    `select a.attname as name, format_type(a.atttypid, a.atttypmod) as type
       from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = $1 and c.relname = $2 and c.relkind in ('r', 'p', 'v') and a.attnum > 0 and not a.attisdropped`,
    [schema, table],
  );
  return new Map(rows.map((row) => [row.name, row.type]));
}

function unknownColumn(table: string, column: string): HttpError {
  return new HttpError(400, errorBody('PGRST204', `Could not find the '${column}' column of '${table}' in the schema cache`));
}

/** Runs one table write in the caller's transaction (role and claims already set). */
export async function runTableWrite(client: pg.ClientBase, request: TableWriteRequest): Promise<TableWriteResponse> {
  const { schema, table, method, query } = request;
  const types = await columnTypes(client, schema, table);
  if (types.size === 0) {
    throw new HttpError(404, errorBody('42P01', `relation "${schema}.${table}" does not exist`));
  }
  const rows = Array.isArray(request.body) ? request.body : [request.body];
  if (rows.length === 0 || rows.some((row) => typeof row !== 'object' || row === null || Array.isArray(row))) {
    throw new HttpError(400, errorBody('PGRST102', 'the body must be a JSON object or a non-empty array of objects'));
  }
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row as object)))];
  for (const column of columns) if (!types.has(column)) throw unknownColumn(table, column);
  const recordType = columns.map((column) => `${quoteIdent(column)} ${types.get(column) as string}`).join(', ');
  const target = `${quoteIdent(schema)}.${quoteIdent(table)}`;
  const representation = /return=representation/.test(request.prefer ?? '');
  const returning = representation ? ' returning to_json(pgrst_t.*)::text as row' : '';

  let sql: string;
  const params: unknown[] = [JSON.stringify(rows)];
  if (method === 'POST' && columns.length === 0) {
    if (rows.length !== 1) throw new HttpError(400, errorBody('PGRST102', 'rows without columns can only be inserted one at a time'));
    params.length = 0;
    sql = `insert into ${target} as pgrst_t default values${returning}`;
  } else if (method === 'POST') {
    const list = columns.map(quoteIdent).join(', ');
    sql = `insert into ${target} as pgrst_t (${list}) select ${list} from json_to_recordset($1::json) as pgrst_r(${recordType})${returning}`;
  } else {
    if (rows.length !== 1 || columns.length === 0) throw new HttpError(400, errorBody('PGRST102', 'an update takes one JSON object with at least one column'));
    const filters: string[] = [];
    for (const [column, value] of query) {
      if (column === 'select' || column === 'columns') continue;
      if (!IDENTIFIER.test(column) || !types.has(column)) throw unknownColumn(table, column);
      if (!value.startsWith('eq.')) {
        throw new HttpError(400, errorBody('PGRST100', `this test endpoint supports only eq. filters (got ${column}=${value})`));
      }
      params.push(value.slice(3));
      filters.push(`pgrst_t.${quoteIdent(column)} = $${params.length}::${types.get(column) as string}`);
    }
    // PostgREST refuses nothing here, but an unfiltered update from a test is always a bug.
    if (filters.length === 0) throw new HttpError(400, errorBody('PGRST100', 'an update needs at least one eq. filter'));
    const sets = columns.map((column) => `${quoteIdent(column)} = pgrst_r.${quoteIdent(column)}`).join(', ');
    sql =
      `update ${target} as pgrst_t set ${sets} from json_to_recordset($1::json) as pgrst_r(${recordType})` +
      ` where ${filters.join(' and ')}${returning}`;
  }
  const result = await client.query<{ row: string }>(sql, params);
  const status = method === 'POST' ? 201 : representation ? 200 : 204;
  return { status, body: representation ? `[${result.rows.map((row) => row.row).join(',')}]` : null };
}
