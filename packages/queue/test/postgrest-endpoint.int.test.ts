import { randomUUID } from 'node:crypto';
import { createClient } from '@supabase/supabase-js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signTestJwt, startPostgrestEndpoint, startSupabaseTestStack, testPostgresUrl, type SupabaseTestStack } from '../src/testing.js';

// The PostgREST-compatible test endpoint itself: routing, keys, profiles, errors, roles.
let stack: SupabaseTestStack;
let schema: string;

beforeAll(async () => {
  stack = await startSupabaseTestStack();
});

afterAll(async () => {
  await stack?.close();
});

beforeEach(async () => {
  schema = await stack.createSchema('endpoint');
  // Helpers the tests call: who am I, and a STABLE function that writes (PostgREST runs it read-only).
  await stack.admin.query(`create sequence "${schema}".probe_seq`);
  await stack.admin.query(
    `create function "${schema}".whoami(p_echo jsonb default null) returns jsonb language sql stable as $$
       select jsonb_build_object('role', current_user, 'claims', current_setting('request.jwt.claims', true)::jsonb,
                                 'search_path', current_setting('search_path'), 'echo', p_echo,
                                 'read_only', current_setting('transaction_read_only'))
     $$`,
  );
  await stack.admin.query(
    `create function "${schema}".stable_nextval() returns bigint language sql stable as $$ select nextval('"${schema}".probe_seq') $$`,
  );
  await stack.admin.query(`create table "${schema}".probe (id integer primary key)`);
  await stack.admin.query(
    `create function "${schema}".insert_twice() returns integer language sql as $$
       insert into "${schema}".probe values (1), (1) returning 1
     $$`,
  );
});

afterEach(async () => {
  await stack.dropSchema(schema);
});

class NoWebSocket {
  constructor() {
    throw new Error('no realtime in tests');
  }
}

async function post(path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${stack.url}${path}`, {
    method: 'POST',
    headers: {
      apikey: stack.anonKey,
      Authorization: `Bearer ${stack.serviceRoleKey}`,
      'Content-Type': 'application/json',
      'Content-Profile': schema,
      ...headers,
    },
    body,
  });
  return { status: response.status, json: await response.json() };
}

describe('PostgREST-compatible endpoint', () => {
  it('inserts and updates table rows as supabase-js sends them, under the role\'s privileges and policies', async () => {
    // Node 20 has no global WebSocket; supabase-js needs a transport even if realtime is never used.
    const options = { auth: { persistSession: false, autoRefreshToken: false }, db: { schema }, realtime: { transport: NoWebSocket as never } };
    const service = createClient(stack.url, stack.serviceRoleKey, options);
    // The platform's own table (uuid ids), written as its edge functions write it.
    const edge1 = randomUUID();
    const inserted = await service.from('scraping_sessions').insert({ id: edge1, status: 'pending' });
    expect(inserted).toMatchObject({ error: null, status: 201 });
    // Columns left out keep their defaults, as PostgREST writes only the body's columns.
    const { rows } = await stack.admin.query(`select status, total_pages, error_message from "${schema}".scraping_sessions where id = $1`, [edge1]);
    expect(rows).toEqual([{ status: 'pending', total_pages: 0, error_message: null }]);

    const updated = await service
      .from('scraping_sessions')
      .update({ status: 'failed', error_message: 'refused', updated_at: new Date().toISOString() })
      .eq('id', edge1)
      .eq('status', 'pending')
      .select();
    expect(updated.error).toBeNull();
    expect(updated.data).toEqual([expect.objectContaining({ id: edge1, status: 'failed', error_message: 'refused' })]);
    // The filter is applied: the row is no longer pending, so nothing matches.
    const again = await service.from('scraping_sessions').update({ error_message: 'twice' }).eq('id', edge1).eq('status', 'pending').select();
    expect(again.data).toEqual([]);

    expect((await service.from('scraping_sessions').insert({ id: randomUUID(), colour: 'red' })).error).toMatchObject({ code: 'PGRST204' });
    expect((await service.from('scraping_sessions').insert({ id: randomUUID(), status: 'sleeping' })).error).toMatchObject({ code: '23514' });
    expect((await service.from('no_such_table').insert({ id: 'x' })).error).toMatchObject({ code: '42P01' });
    // Other roles have no write privilege: refused before any row is written.
    const anon = await createClient(stack.url, stack.anonKey, options).from('scraping_sessions').insert({ id: randomUUID() });
    expect(anon).toMatchObject({ status: 401, error: { code: '42501' } });
    const user = createClient(stack.url, stack.anonKey, { ...options, global: { headers: { Authorization: `Bearer ${stack.userToken()}` } } });
    expect(await user.from('scraping_sessions').update({ status: 'failed' }).eq('id', edge1)).toMatchObject({ status: 403, error: { code: '42501' } });
    const count = await stack.admin.query(`select count(*)::int as n from "${schema}".scraping_sessions`);
    expect(count.rows[0]).toEqual({ n: 1 });
  });

  it('runs a function as the JWT role with the claims, search_path and transaction mode PostgREST sets', async () => {
    const asUser = await post('/rest/v1/rpc/whoami', '{"p_echo": {"a": [1, 2]}}', { Authorization: `Bearer ${stack.userToken('user-1')}` });
    expect(asUser).toEqual({
      status: 200,
      json: {
        role: 'authenticated',
        claims: expect.objectContaining({ role: 'authenticated', sub: 'user-1' }),
        search_path: `"${schema}"`,
        echo: { a: [1, 2] },
        read_only: 'on',
      },
    });
    const asAnon = await post('/rest/v1/rpc/whoami', '', { Authorization: '' });
    expect(asAnon.status).toBe(401); // an empty Authorization header is not a bearer token
    const withoutAuthorization = await fetch(`${stack.url}/rest/v1/rpc/whoami`, {
      method: 'POST',
      headers: { apikey: stack.anonKey, 'Content-Type': 'application/json', 'Content-Profile': schema },
      body: '{}',
    });
    expect(await withoutAuthorization.json()).toMatchObject({ role: 'anon' });
  });

  it('answers PostgREST errors for unknown functions, arguments, schemas, methods, paths and bodies', async () => {
    expect(await post('/rest/v1/rpc/nope', '{}')).toMatchObject({
      status: 404,
      json: { code: 'PGRST202', message: `Could not find the function ${schema}.nope() in the schema cache` },
    });
    expect(await post('/rest/v1/rpc/kai_get_job', '{"p_wrong": 1}')).toMatchObject({ status: 404, json: { code: 'PGRST202' } });
    expect(await post('/rest/v1/rpc/kai_get_job', '{}')).toMatchObject({ status: 404, json: { code: 'PGRST202' } });
    expect(await post('/rest/v1/rpc/kai_now', '{}', { 'Content-Profile': 'elsewhere' })).toMatchObject({
      status: 406,
      json: { code: 'PGRST106', message: 'Invalid schema: elsewhere' },
    });
    expect(await post('/rest/v1/rpc/kai_now', '{not json')).toMatchObject({ status: 400, json: { code: 'PGRST102' } });
    expect(await post('/rest/v1/rpc/kai_now', '[1]')).toMatchObject({ status: 400, json: { code: 'PGRST102' } });
    expect(await post('/rest/v1/background_jobs/x', '{}')).toMatchObject({ status: 404, json: { code: 'PGRST125' } });
    const get = await fetch(`${stack.url}/rest/v1/rpc/kai_now`, { headers: { apikey: stack.anonKey } });
    expect(get.status).toBe(405);
  });

  it('maps database errors to PostgREST statuses with code, message, details and hint', async () => {
    // A STABLE function runs in a read-only transaction: its write fails with 25006 → 405.
    expect(await post('/rest/v1/rpc/stable_nextval', '{}')).toMatchObject({
      status: 405,
      json: { code: '25006', message: 'cannot execute nextval() in a read-only transaction' },
    });
    expect(await post('/rest/v1/rpc/insert_twice', '{}')).toMatchObject({
      status: 409,
      json: { code: '23505', message: 'duplicate key value violates unique constraint "probe_pkey"', details: 'Key (id)=(1) already exists.' },
    });
    // A KJ state from the kai-jobs functions: 400.
    expect(await post('/rest/v1/rpc/kai_progress', '{"p_id": "missing", "p_fence": "f"}')).toEqual({
      status: 400,
      json: { code: 'KJ404', message: 'job missing not found', details: null, hint: null },
    });
    expect(await post('/rest/v1/rpc/kai_find_stale', '{"p_type": "pdf", "p_heartbeat_older_than_ms": "soon", "p_update_older_than_ms": null}')).toMatchObject({
      status: 400,
      json: { code: '22P02' },
    });
  });

  it('refuses keys signed with another secret, expired tokens and tokens that are not JWTs', async () => {
    const expired = signTestJwt({ role: 'service_role', exp: Math.floor(Date.now() / 1000) - 1 }, stack.jwtSecret);
    expect(await post('/rest/v1/rpc/kai_now', '{}', { Authorization: `Bearer ${expired}` })).toMatchObject({
      status: 401,
      json: { code: 'PGRST301', message: 'JWT expired' },
    });
    expect(await post('/rest/v1/rpc/kai_now', '{}', { Authorization: 'Bearer abc' })).toMatchObject({ status: 401, json: { code: 'PGRST301' } });
    expect(await post('/rest/v1/rpc/kai_now', '{}', { apikey: 'abc' })).toMatchObject({
      status: 401,
      json: { code: 'PGRST301', message: 'Invalid API key' },
    });
  });

  it('restarts on the same port and answers 503 while PostgreSQL is unreachable', async () => {
    const first = await startPostgrestEndpoint({
      connectionString: 'postgres://nobody@127.0.0.1:1/none',
      jwtSecret: stack.jwtSecret,
      schemas: [schema],
    });
    const { port } = first;
    const call = () =>
      fetch(`http://127.0.0.1:${port}/rest/v1/rpc/kai_now`, {
        method: 'POST',
        headers: { apikey: stack.serviceRoleKey, Authorization: `Bearer ${stack.serviceRoleKey}` },
        body: '{}',
      });
    const down = await call();
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ code: 'PGRST000' });
    await first.close();
    await expect(call()).rejects.toThrow();
    const authenticatorUrl = new URL(testPostgresUrl());
    authenticatorUrl.username = 'authenticator';
    authenticatorUrl.password = 'kai-jobs-test-authenticator';
    const second = await startPostgrestEndpoint({ connectionString: authenticatorUrl.toString(), jwtSecret: stack.jwtSecret, schemas: [schema], port });
    try {
      const up = await call();
      expect(up.status).toBe(200);
      expect(typeof (await up.json())).toBe('number');
    } finally {
      await second.close();
    }
  });
});
