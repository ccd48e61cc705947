import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient } from '@supabase/supabase-js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SupabaseJobStore, type CreateStatusInput } from '../src/index.js';
import { expectErrorNamed, signTestJwt, startSupabaseTestStack, type SupabaseTestStack } from '../src/testing.js';

// SupabaseJobStore beyond the contract: batching, keys and roles, the database's checks,
// rows the platform created, retention, and failures of the endpoint itself.
let stack: SupabaseTestStack;
let schema: string;
let stores: SupabaseJobStore[] = [];

/** Realtime is not used; Node 20 has no WebSocket, so plain clients get a transport that fails if used. */
class NoWebSocket {
  constructor() {
    throw new Error('no realtime in tests');
  }
}

beforeAll(async () => {
  stack = await startSupabaseTestStack();
});

afterAll(async () => {
  await stack?.close();
});

beforeEach(async () => {
  schema = await stack.createSchema('api');
});

afterEach(async () => {
  await Promise.all(stores.map((store) => store.close()));
  stores = [];
  await stack.dropSchema(schema);
});

function storeWith(overrides: Partial<ConstructorParameters<typeof SupabaseJobStore>[0]> = {}): SupabaseJobStore {
  const store = new SupabaseJobStore({ url: stack.url, serviceRoleKey: stack.serviceRoleKey, schema, ...overrides });
  stores.push(store);
  return store;
}

/** A supabase-js client as the platform's frontend makes one: the anon key, a user's token. */
function userClient() {
  return createClient(stack.url, stack.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    db: { schema },
    global: { headers: { Authorization: `Bearer ${stack.userToken()}` } },
    realtime: { transport: NoWebSocket as never },
  });
}

function pdfInput(overrides: Partial<CreateStatusInput> = {}): CreateStatusInput {
  return { id: randomUUID(), type: 'pdf', payload: { documentId: 'd' }, refs: { documentId: 'd' }, ...overrides };
}

describe('SupabaseJobStore', () => {
  it('writes the heartbeats of 1,000 running jobs in one RPC and one transaction', async () => {
    const store = storeWith();
    const inputs = Array.from({ length: 1000 }, () => pdfInput());
    const before = stack.endpoint.calls.length;
    await store.createMany(inputs);
    expect(stack.endpoint.calls.slice(before).map((call) => call.fn)).toEqual(['kai_create_jobs']);
    // Start them all at once behind the API's back (setup, not under test), a minute ago.
    await stack.admin.query(
      `update "${schema}".kai_background_jobs set status = 'processing', fence = 'f-' || id, worker_id = 'w', attempt = 1,
         started_at = now(), last_heartbeat = now() - interval '1 minute'`,
    );
    const beforeBeat = stack.endpoint.calls.length;
    const result = await store.heartbeat([
      ...inputs.map((input) => ({ id: input.id, type: 'pdf' as const, fence: `f-${input.id}` })),
      { id: 'gone', type: 'pdf' as const, fence: 'x' },
    ]);
    expect(result.rejected).toEqual(['gone']);
    expect(stack.endpoint.calls.slice(beforeBeat)).toEqual([{ fn: 'kai_heartbeat', schema, role: 'service_role', status: 200 }]);
    const { rows } = await stack.admin.query<{ stamps: number; fresh: boolean }>(
      `select count(distinct last_heartbeat)::int as stamps, min(last_heartbeat) > now() - interval '50 seconds' as fresh
         from "${schema}".background_jobs`,
    );
    expect(rows[0]).toEqual({ stamps: 1, fresh: true });
  });

  it('is refused with a wrong key, an expired key and the anon key', async () => {
    const wrongKey = signTestJwt({ role: 'service_role' }, 'another-secret-another-secret-another-secret');
    const wrong = await expectErrorNamed(storeWith({ serviceRoleKey: wrongKey }).now(), 'StoreError');
    expect(wrong).toMatchObject({ retryable: false });
    expect(wrong.message).toMatch(/refused the key.*Invalid API key.*HTTP 401, PGRST301/);

    const expiredKey = signTestJwt({ role: 'service_role', exp: Math.floor(Date.now() / 1000) - 60 }, stack.jwtSecret);
    const expired = await expectErrorNamed(storeWith({ serviceRoleKey: expiredKey }).create(pdfInput()), 'StoreError');
    expect(expired.message).toContain('JWT expired');

    const anon = await expectErrorNamed(storeWith({ serviceRoleKey: stack.anonKey }).create(pdfInput()), 'StoreError');
    expect(anon).toMatchObject({ retryable: false });
    expect(anon.message).toMatch(/permission denied for function kai_create_jobs.*HTTP 401, 42501/);
    expect((await stack.admin.query(`select count(*)::int as n from "${schema}".background_jobs`)).rows[0]?.n).toBe(0);

    // What the endpoint answers, as PostgREST and Supabase's gateway do.
    const response = await fetch(`${stack.url}/rest/v1/rpc/kai_now`, {
      method: 'POST',
      headers: { apikey: stack.serviceRoleKey, Authorization: `Bearer ${wrongKey}`, 'Content-Type': 'application/json', 'Content-Profile': schema },
      body: '{}',
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('invalid_token');
    expect(await response.json()).toEqual({ code: 'PGRST301', message: 'JWSError JWSInvalidSignature', details: null, hint: null });
  });

  it('lets a signed-in user read a job through supabase-js but not write it', async () => {
    const store = storeWith();
    const { row } = await store.create(pdfInput());
    await store.markProcessing(row.id, { fence: 'f', workerId: 'w' });
    const user = userClient();
    const read = await user.rpc('kai_get_job', { p_id: row.id });
    expect(read.error).toBeNull();
    expect(read.data).toMatchObject({ id: row.id, status: 'processing' });
    const write = await user.rpc('kai_progress', { p_id: row.id, p_fence: 'f', p_percent: 50 });
    expect(write.status).toBe(403);
    expect(write.error).toMatchObject({ code: '42501', message: 'permission denied for function kai_progress' });
    expect((await store.get(row.id))?.progress).toBe(0);
  });

  it('reports a row the database checks refuse, with the constraint, and writes nothing', async () => {
    const store = storeWith();
    const { row } = await store.create(pdfInput());
    await store.markProcessing(row.id, { fence: 'f', workerId: 'w' });
    const raw = createClient(stack.url, stack.serviceRoleKey, {
      auth: { persistSession: false, autoRefreshToken: false },
      db: { schema },
      realtime: { transport: NoWebSocket as never },
    });
    const response = await raw.rpc('kai_progress', { p_id: row.id, p_fence: 'f', p_percent: 150 });
    expect(response.status).toBe(400);
    expect(response.error).toMatchObject({
      code: '23514',
      message: 'new row for relation "kai_background_jobs" violates check constraint "progress_range"',
    });
    expect(response.error?.details).toMatch(/^Failing row contains/);
    const error = await expectErrorNamed(store.progress(row.id, 'f', { percent: 150 }), 'ValidationError');
    expect(error['issues']).toEqual([{ path: 'progress_range', message: expect.stringContaining('violates check constraint "progress_range"') }]);
    const counters = await expectErrorNamed(store.progress(row.id, 'f', { counters: { failed_products: 2 } }), 'ValidationError');
    expect(counters.message).toContain('pdf jobs have no counter failed_products');
    expect(await expectErrorNamed(store.progress(row.id, 'f', { percent: Number.NaN }), 'ValidationError')).toBeTruthy();
    expect((await store.get(row.id))?.progress).toBe(0);
  });

  it('adopts a session row the platform created and keeps its background_jobs row in step', async () => {
    const store = storeWith();
    // The platform creates the session and its background job first, then enqueues with jobId = session id.
    // Its ids are uuids, as the platform's are.
    const sess = randomUUID();
    const bg = randomUUID();
    await stack.admin.query(`insert into "${schema}".background_jobs (id) values ($1)`, [bg]);
    await stack.admin.query(`insert into "${schema}".scraping_sessions (id) values ($1)`, [sess]);
    const payload = { sessionId: sess, sourceUrl: 'https://example.com/' };
    const created = await store.create({
      id: sess,
      type: 'scrape',
      payload,
      refs: { sessionId: sess, sourceUrl: 'https://example.com/', backgroundJobId: bg },
    });
    expect(created).toMatchObject({ created: true, row: { id: sess, payload, refs: { backgroundJobId: bg } } });
    expect((await store.create({ id: sess, type: 'scrape', payload: {} })).created).toBe(false);

    const follower = async () =>
      (await stack.admin.query(
        `select job_type, status, progress::float as progress, current_stage, error, last_heartbeat is not null as beating
           from "${schema}".background_jobs where id = $1`,
        [bg],
      )).rows[0];
    await store.markProcessing(sess, { fence: 'f', workerId: 'w', stage: 'site_crawled' });
    await store.progress(sess, 'f', { status: 'scraping', percent: 40, counters: { total_pages: 10, completed_pages: 4 } });
    expect(await follower()).toEqual({ job_type: 'scrape', status: 'processing', progress: 40, current_stage: 'site_crawled', error: null, beating: true });
    await store.fail(sess, 'f', 'site unreachable');
    expect(await follower()).toMatchObject({ status: 'failed', error: 'site unreachable' });
    // A follower is not a PDF job.
    expect(await store.get(bg)).toBeNull();
    expect(await store.list({ type: 'pdf', status: 'failed' })).toEqual([]);
    // Without a platform row, one is made for the session.
    const own = await store.create({ id: randomUUID(), type: 'xml-import', payload: {}, refs: { importJobId: 'imp-1', sourceName: 'acme' } });
    expect(own.row.refs.backgroundJobId).toMatch(/^[0-9a-f-]{36}$/);
    const { rows } = await stack.admin.query(`select job_type, status from "${schema}".background_jobs where id = $1`, [own.row.refs.backgroundJobId]);
    expect(rows).toEqual([{ job_type: 'xml-import', status: 'pending' }]);
  });

  it('releases an idempotency key and purges history after the retention; the row stays', async () => {
    const store = storeWith({ retention: { finishedRetentionMs: 24 * 60 * 60 * 1000 } });
    const first = await store.create(pdfInput({ idempotencyKey: 'upload-1' }));
    await store.markProcessing(first.row.id, { fence: 'f', workerId: 'w' });
    await store.complete(first.row.id, 'f', {});
    expect((await store.create(pdfInput({ idempotencyKey: 'upload-1' }))).row.id).toBe(first.row.id);
    expect(await store.purgeFinished()).toEqual({ jobs: 0, history: 0, checkpoints: 0 });
    await stack.admin.query(
      `update "${schema}".kai_background_jobs set completed_at = completed_at - interval '2 days', started_at = started_at - interval '2 days',
         created_at = created_at - interval '2 days' where id = $1`,
      [first.row.id],
    );
    const again = await store.create(pdfInput({ idempotencyKey: 'upload-1' }));
    expect(again).toMatchObject({ created: true });
    expect(again.row.id).not.toBe(first.row.id);
    expect(await store.purgeFinished()).toEqual({ jobs: 1, history: 3, checkpoints: 0 });
    expect(await store.history(first.row.id)).toEqual([]);
    expect((await store.get(first.row.id))?.status).toBe('completed');
  });

  it('refuses bad options, listing each problem', async () => {
    const error = await expectErrorNamed(
      Promise.resolve().then(() => new SupabaseJobStore({ url: 'ftp://x', serviceRoleKey: '', schema: 'bad-name' })),
      'ValidationError',
    );
    expect((error['issues'] as { path: string }[]).map((issue) => issue.path)).toEqual(['url', 'serviceRoleKey', 'schema']);
  });

  it('names a schema without the migrations', async () => {
    stack.endpoint.exposeSchema('public');
    try {
      const error = await expectErrorNamed(storeWith({ schema: 'public' }).now(), 'StoreError');
      expect(error).toMatchObject({ retryable: false });
      expect(error.message).toMatch(/no kai_now .*PGRST202.*are the kai-jobs migrations applied/);
    } finally {
      stack.endpoint.hideSchema('public');
    }
  });
});

describe('SupabaseJobStore when Supabase does not answer', () => {
  let silent: Server | undefined;

  afterEach(async () => {
    if (silent !== undefined) {
      const closed = new Promise((resolve) => silent?.close(resolve));
      silent.closeAllConnections();
      await closed;
      silent = undefined;
    }
  });

  it('fails a call that outlives the request timeout with a retryable error', async () => {
    silent = createServer(() => undefined); // accepts, never answers
    await new Promise<void>((resolve) => silent?.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    const store = storeWith({ url: `http://127.0.0.1:${port}`, requestTimeoutMs: 200 });
    const error = await expectErrorNamed(store.heartbeat([{ id: 'a', type: 'pdf', fence: 'f' }]), 'StoreError');
    expect(error).toMatchObject({ retryable: true });
    expect(error.message).toMatch(/did not answer heartbeat .*aborted/i);
  });

  it('fails a call to a closed port with a retryable error', async () => {
    silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent?.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    await new Promise((resolve) => silent?.close(resolve));
    silent = undefined;
    const error = await expectErrorNamed(storeWith({ url: `http://127.0.0.1:${port}` }).get('x'), 'StoreError');
    expect(error).toMatchObject({ retryable: true });
    expect(error.message).toContain('ECONNREFUSED');
  });
});
