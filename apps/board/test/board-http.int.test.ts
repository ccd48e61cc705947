import { bullPrefix, ConnectionRole, createJobClient, RedisMetricsRecorder, type Clock } from '@kai-jobs/queue';
import { expectErrorNamed, useRedisTestContext, waitFor } from '@kai-jobs/queue/testing';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { startBoard } from '../src/index.js';
import { AUTH, basicAuth, deadPort, PASSWORD, pdfPayload, startTestBoard, TOKEN, USER } from './support.js';

/** One request of every route class the board serves behind auth. */
const PROTECTED: { method: string; path: string }[] = [
  { method: 'GET', path: '/' },
  { method: 'GET', path: '/queue/pdf-processing' },
  { method: 'GET', path: '/static/images/logo.svg' },
  { method: 'GET', path: '/api/queues' },
  { method: 'PUT', path: '/api/queues/pdf-processing/pause' },
  { method: 'GET', path: '/monitoring' },
  { method: 'GET', path: '/metrics' },
  { method: 'POST', path: '/api/jobs/pdf' },
  { method: 'GET', path: '/api/jobs/some-id' },
  { method: 'GET', path: '/no-such-page' },
];

function manualClock(): Clock & { advance(ms: number): void } {
  let offset = 0;
  return { now: () => Date.now() + offset, sleep: () => Promise.resolve(), advance: (ms) => void (offset += ms) };
}

describe('board over HTTP', () => {
  const ctx = useRedisTestContext(import.meta.url);

  it('answers 401 with a challenge on every route class without credentials, and serves them with', async () => {
    const board = await startTestBoard(ctx);
    for (const { method, path } of PROTECTED) {
      const response = await fetch(new URL(path.slice(1), board.url), { method });
      expect(response.status, `${method} ${path}`).toBe(401);
      expect(response.headers.get('www-authenticate'), path).toBe(
        'Basic realm="kai-jobs board", charset="UTF-8", Bearer realm="kai-jobs board"',
      );
      await response.arrayBuffer();
    }
    for (const path of ['/', '/queue/pdf-processing', '/static/images/logo.svg', '/api/queues', '/monitoring', '/metrics']) {
      const response = await fetch(new URL(path.slice(1), board.url), { headers: AUTH });
      expect(response.status, path).toBe(200);
      await response.arrayBuffer();
    }
    const wrong = await fetch(new URL('monitoring', board.url), { headers: { authorization: basicAuth(USER, 'wrong') } });
    expect(wrong.status).toBe(401);
  });

  it('accepts the bearer token and refuses a wrong one', async () => {
    const board = await startTestBoard(ctx);
    const ok = await fetch(new URL('api/queues', board.url), { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
    const bad = await fetch(new URL('api/queues', board.url), { headers: { authorization: `Bearer ${TOKEN}x` } });
    expect(bad.status).toBe(401);
    await bad.arrayBuffer();
  });

  it('shows the three job queues and job-monitor with the catalog names', async () => {
    const board = await startTestBoard(ctx);
    const body = (await (await fetch(new URL('api/queues', board.url), { headers: AUTH })).json()) as {
      queues: { name: string; displayName: string; description: string; readOnlyMode: boolean }[];
    };
    expect(body.queues.map((q) => q.name).sort()).toEqual(['job-monitor', 'pdf-processing', 'web-scraping', 'xml-import']);
    expect(body.queues.find((q) => q.name === 'pdf-processing')).toMatchObject({
      displayName: 'PDF processing',
      description: 'Loads a PDF, extracts text, renders tiles, creates embeddings and extracts materials.',
      readOnlyMode: false,
    });
    expect(body.queues.find((q) => q.name === 'job-monitor')?.displayName).toBe('Monitor');
    // The header links (Bull Board's misc links) lead to the monitoring page.
    const page = await (await fetch(board.url, { headers: AUTH })).text();
    expect(page).toContain('"miscLinks":[{"text":"Monitoring","url":"/monitoring"}');
  });

  it('limits failed attempts per client: 429 with Retry-After, even for the right password, until a token is back', async () => {
    const clock = manualClock();
    const board = await startTestBoard(ctx, {
      clock,
      auth: { username: USER, password: PASSWORD, maxFailures: 3, failureRefillMs: 60_000 },
    });
    const attempt = async (authorization: string): Promise<Response> => {
      const response = await fetch(new URL('api/queues', board.url), { headers: { authorization } });
      await response.arrayBuffer();
      return response;
    };
    // Requests without credentials (a browser before its prompt) do not count.
    for (let i = 0; i < 5; i += 1) expect((await fetch(new URL('monitoring', board.url))).status).toBe(401);
    for (let i = 0; i < 3; i += 1) expect((await attempt(basicAuth(USER, `guess-${i}`))).status).toBe(401);
    const limited = await attempt(basicAuth(USER, 'guess-4'));
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('60');
    expect((await attempt(basicAuth())).status).toBe(429);
    clock.advance(60_000);
    expect((await attempt(basicAuth())).status).toBe(200);
  });

  it('answers /healthz and /readyz without credentials', async () => {
    const board = await startTestBoard(ctx);
    const health = await fetch(new URL('healthz', board.url));
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(new URL('readyz', board.url));
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok', checks: { redis: 'ok' } });
  });

  it('starts without Redis: /healthz 200, /readyz, /metrics, /monitoring and the enqueue API 503', async () => {
    const board = await startTestBoard(ctx, { redis: { url: `redis://127.0.0.1:${await deadPort()}`, prefix: ctx.prefix, connectTimeoutMs: 300 } });
    expect((await fetch(new URL('healthz', board.url))).status).toBe(200);
    const ready = await fetch(new URL('readyz', board.url));
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'unavailable', checks: { redis: 'unreachable' } });
    const metrics = await fetch(new URL('metrics', board.url), { headers: AUTH });
    expect(metrics.status).toBe(503);
    await metrics.arrayBuffer();
    const monitoring = await fetch(new URL('monitoring', board.url), { headers: AUTH });
    expect(monitoring.status).toBe(503);
    expect(await monitoring.text()).toContain('Monitoring data unavailable');
    const enqueue = await fetch(new URL('api/jobs/pdf', board.url), {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify(pdfPayload()),
    });
    expect(enqueue.status).toBe(503);
    expect(enqueue.headers.get('retry-after')).toBe('5');
    await enqueue.arrayBuffer();
  });

  it('serves /metrics as Prometheus text with the recorded metrics', async () => {
    const recorder = new RedisMetricsRecorder({ connection: ctx.redis, prefix: ctx.prefix });
    await recorder.jobCompleted('pdf', 1500);
    await recorder.jobCompleted('pdf', 2500);
    await recorder.jobFailed('scrape', 'site_crawled');
    const board = await startTestBoard(ctx);
    const response = await fetch(new URL('metrics', board.url), { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(text).toContain('kai_jobs_completed_total{job_type="pdf"} 2');
    expect(text).toContain('kai_jobs_stage_failures_total{job_type="scrape",stage="site_crawled"} 1');
  });

  it('refuses to start without credentials, and with auth off anywhere but loopback', async () => {
    const base = { port: 0, redis: ctx.redisOptions };
    const missing = await expectErrorNamed(startBoard(base), 'ConfigError');
    expect(missing.message).toMatch(/BOARD_USERNAME and BOARD_PASSWORD .* or BOARD_TOKEN/);
    const exposed = await expectErrorNamed(startBoard({ ...base, host: '0.0.0.0', auth: { mode: 'off' } }), 'ConfigError');
    expect(exposed.message).toMatch(/BOARD_AUTH=off is only allowed when the board is bound to a loopback address/);
    // Auth off on loopback: served without credentials.
    const open = ctx.manage('board', await startBoard({ ...base, host: '127.0.0.1', auth: { mode: 'off' } }));
    const response = await fetch(new URL('api/queues', open.url));
    expect(response.status).toBe(200);
    await response.arrayBuffer();
  });

  it('read-only: Bull Board and the enqueue API refuse every mutation with 403; reads still work', async () => {
    // A failed job to retry.
    const client = ctx.manage('client', createJobClient({ redis: ctx.redisOptions }));
    const { id } = await client.enqueue('pdf', pdfPayload());
    const worker = ctx.track(
      'worker',
      new Worker('pdf-processing', () => Promise.reject(new UnrecoverableError('broken PDF')), {
        connection: ctx.connection(ConnectionRole.Worker),
        prefix: bullPrefix(ctx.prefix, 'pdf-processing'),
      }),
    );
    const queue = client.queue('pdf');
    await waitFor(async () => (await queue.getJobState(id)) === 'failed', { message: 'the job did not fail' });
    await worker.close();

    const readOnly = await startTestBoard(ctx, { readOnly: true });
    const writable = await startTestBoard(ctx);
    const call = async (board: { url: string }, method: string, path: string, body?: unknown): Promise<Response> => {
      const response = await fetch(new URL(path, board.url), {
        method,
        headers: { ...AUTH, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return response;
    };
    for (const [method, path] of [
      ['PUT', `api/queues/pdf-processing/${id}/retry`],
      ['PUT', `api/queues/pdf-processing/${id}/clean`],
      ['PUT', 'api/queues/pdf-processing/retry/failed'],
      ['PUT', 'api/queues/pdf-processing/clean/failed'],
      ['PUT', 'api/queues/pdf-processing/pause'],
      ['PUT', 'api/queues/pdf-processing/obliterate'],
      ['POST', 'api/jobs/pdf'],
    ] as const) {
      const response = await call(readOnly, method, path, method === 'POST' ? pdfPayload('doc-2') : {});
      expect(response.status, `${method} ${path}`).toBe(403);
      expect(await response.json()).toMatchObject({ error: 'read-only' });
    }
    expect(await queue.getJobState(id)).toBe('failed');
    expect(await queue.isPaused()).toBe(false);
    const queues = (await (await call(readOnly, 'GET', 'api/queues')).json()) as { queues: { name: string; readOnlyMode: boolean }[] };
    expect(queues.queues.every((q) => q.readOnlyMode)).toBe(true);
    expect((await call(readOnly, 'GET', `api/jobs/${id}`)).status).toBe(200);

    // The same retry on a writable board goes through: the refusal above was the read-only mode.
    const retried = await call(writable, 'PUT', `api/queues/pdf-processing/${id}/retry`, {});
    expect(retried.ok).toBe(true);
    await retried.arrayBuffer();
    await waitFor(async () => (await queue.getJobState(id)) === 'waiting');
  });

  it("refuses Bull Board's add-job and edit-data even when writable (jobs need a status row)", async () => {
    const board = await startTestBoard(ctx);
    const add = await fetch(new URL('api/queues/pdf-processing/add', board.url), {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'pdf', data: pdfPayload(), options: {} }),
    });
    expect(add.status).toBe(403);
    expect(((await add.json()) as { message: string }).message).toMatch(/POST \/api\/jobs\/:type/);
    const edit = await fetch(new URL('api/queues/pdf-processing/some-id/update-data', board.url), {
      method: 'PATCH',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ data: {} }),
    });
    expect(edit.status).toBe(403);
    await edit.arrayBuffer();
    const queue = ctx.manage('queue', new Queue('pdf-processing', { connection: ctx.redis, prefix: bullPrefix(ctx.prefix, 'pdf-processing') }));
    expect(await queue.count()).toBe(0);
  });

  it('mounts every route under a base path', async () => {
    const board = await startTestBoard(ctx, { basePath: '/ops' });
    expect(board.url).toMatch(/\/ops\/$/);
    expect((await fetch(new URL('healthz', board.url))).status).toBe(200);
    const monitoring = await fetch(new URL('monitoring', board.url), { headers: AUTH });
    expect(monitoring.status).toBe(200);
    expect(await monitoring.text()).toContain('<a class="brand" href="/ops/">');
    const boardPage = await (await fetch(board.url, { headers: AUTH })).text();
    expect(boardPage).toContain('<base href="/ops/"');
    const outside = await fetch(new URL('/monitoring', board.url), { headers: AUTH });
    expect(outside.status).toBe(404);
    await outside.arrayBuffer();
  });
});
