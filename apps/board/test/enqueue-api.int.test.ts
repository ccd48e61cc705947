import { bullPrefix } from '@kai-jobs/queue';
import { useRedisTestContext } from '@kai-jobs/queue/testing';
import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { AUTH, pdfPayload, startTestBoard, TOKEN } from './support.js';

interface ErrorBody {
  error: string;
  message: string;
  issues?: { path: string; message: string; received?: string }[];
  types?: string[];
}

describe('enqueue API', () => {
  const ctx = useRedisTestContext(import.meta.url);

  async function post(url: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(new URL(path, url), {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  }

  function pdfQueue(): Queue {
    return ctx.manage('queue', new Queue('pdf-processing', { connection: ctx.redis, prefix: bullPrefix(ctx.prefix, 'pdf-processing') }));
  }

  it('201: enqueues a validated job with its status row; GET gives the merged status', async () => {
    const board = await startTestBoard(ctx);
    const response = await post(board.url, 'api/jobs/pdf', pdfPayload('doc-201'));
    expect(response.status).toBe(201);
    const body = (await response.json()) as { id: string; type: string; created: boolean };
    expect(body).toMatchObject({ type: 'pdf', created: true });
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers.get('location')).toBe(`/api/jobs/${body.id}`);
    expect(await pdfQueue().getJobState(body.id)).toBe('waiting');

    const status = await fetch(new URL(`api/jobs/${body.id}`, board.url), { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(status.status).toBe(200);
    const view = (await status.json()) as { row: Record<string, unknown>; bullmq: Record<string, unknown> };
    expect(view.row).toMatchObject({ id: body.id, type: 'pdf', status: 'pending', refs: { documentId: 'doc-201' } });
    expect(view.row).not.toHaveProperty('fence');
    expect(view.bullmq).toMatchObject({ state: 'waiting', attemptsMade: 0 });
  });

  it('400: lists every bad field by path; nothing is enqueued', async () => {
    const board = await startTestBoard(ctx);
    const response = await post(board.url, 'api/jobs/pdf', {
      source: { kind: 'url', url: 'ftp://example.com/a.pdf' },
      options: { tileSizePx: 'big' },
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as ErrorBody;
    expect(body.error).toBe('validation failed');
    const paths = body.issues?.map((issue) => issue.path) ?? [];
    expect(paths).toEqual(expect.arrayContaining(['payload.documentId', 'payload.source.url', 'payload.options.tileSizePx']));
    expect(body.issues?.find((issue) => issue.path === 'payload.source.url')?.message).toMatch(/http\(s\) URL/);
    expect(await pdfQueue().count()).toBe(0);

    const badKey = await post(board.url, 'api/jobs/pdf', pdfPayload(), { 'idempotency-key': 'k'.repeat(201) });
    expect(badKey.status).toBe(400);
    expect(((await badKey.json()) as ErrorBody).issues?.map((issue) => issue.path)).toEqual(['Idempotency-Key (header)']);
  });

  it('xml-import: a preset with one field added enqueues the resolved mapping; a bad field spec is a 400 naming its path', async () => {
    const board = await startTestBoard(ctx);
    const payload = { importJobId: 'imp-api', sourceName: 'shop', source: { kind: 'url', url: 'https://shop.example/merchant.xml' }, preset: 'google-merchant', fieldMapping: { colour: 'g:color' } };
    const created = await post(board.url, 'api/jobs/xml-import', payload);
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const queue = ctx.manage('queue', new Queue('xml-import', { connection: ctx.redis, prefix: bullPrefix(ctx.prefix, 'xml-import') }));
    const job = await queue.getJob(id);
    expect(job?.data).toMatchObject({ recordElement: ['item', 'entry'], fieldMapping: { price: { path: 'g:price', type: 'money', required: true }, colour: 'g:color' } });
    expect(job?.data).not.toHaveProperty('preset');

    const bad = await post(board.url, 'api/jobs/xml-import', { ...payload, importJobId: 'imp-api-2', fieldMapping: { colour: { path: 'g:color', decimalComma: true }, price: { path: 'g:price', type: 'cash' } } });
    expect(bad.status).toBe(400);
    const issues = ((await bad.json()) as ErrorBody).issues ?? [];
    expect(issues.map((issue) => issue.path)).toEqual(['payload.fieldMapping.price.type']);
    const spec = await post(board.url, 'api/jobs/xml-import', { ...payload, importJobId: 'imp-api-3', fieldMapping: { colour: { path: 'g:color', decimalComma: true } } });
    expect(spec.status).toBe(400);
    expect(((await spec.json()) as ErrorBody).issues).toEqual([
      expect.objectContaining({ path: 'payload.fieldMapping.colour.decimalComma', message: '"decimalComma" applies to number, integer, money, weight fields, not text' }),
    ]);
    expect(await queue.count()).toBe(1);
  });

  it('400 for a body that is not JSON, 415 for another media type, 404 for an unknown type', async () => {
    const board = await startTestBoard(ctx);
    const broken = await post(board.url, 'api/jobs/pdf', '{"documentId": ');
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as ErrorBody).error).toBe('invalid JSON');
    const text = await post(board.url, 'api/jobs/pdf', 'documentId=1', { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    await text.arrayBuffer();
    const unknown = await post(board.url, 'api/jobs/video', pdfPayload());
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as ErrorBody).types).toEqual(['pdf', 'scrape', 'xml-import']);
    const missing = await fetch(new URL('api/jobs/no-such-job', board.url), { headers: AUTH });
    expect(missing.status).toBe(404);
    await missing.arrayBuffer();
  });

  it('400 naming options.drill: the drill switch is not accepted from the API', async () => {
    const board = await startTestBoard(ctx);
    const response = await post(board.url, 'api/jobs/pdf', { ...pdfPayload('doc-drill'), options: { drill: { hangOnceInStage: 'text_extracted' } } });
    expect(response.status).toBe(400);
    const body = (await response.json()) as ErrorBody;
    expect(body.issues).toEqual([expect.objectContaining({ path: 'payload.options.drill', message: expect.stringMatching(/not accepted in a public payload/) })]);
    expect(await pdfQueue().count()).toBe(0);
  });

  it('400 for JSON nested deeper than 64 levels (5,000 too), 413 over the size limit; the board lives on', async () => {
    const board = await startTestBoard(ctx);
    const deep = await post(board.url, 'api/jobs/pdf', `{"documentId":"d","source":${'['.repeat(5000)}${']'.repeat(5000)}}`);
    expect(deep.status).toBe(400);
    expect(await deep.json()).toEqual({ error: 'JSON too deep', message: 'the JSON body nests deeper than 64 levels of arrays and objects' });
    // 64 levels parse (and fail validation as an ordinary bad payload).
    const nested = (levels: number): string => `${'{"a":'.repeat(levels - 1)}{}${'}'.repeat(levels - 1)}`;
    const at64 = await post(board.url, 'api/jobs/pdf', `{"documentId":"d","source":${nested(63)}}`);
    expect(at64.status).toBe(400);
    expect(((await at64.json()) as ErrorBody).error).toBe('validation failed');
    const at65 = await post(board.url, 'api/jobs/pdf', `{"documentId":"d","source":${nested(64)}}`);
    expect(((await at65.json()) as ErrorBody).error).toBe('JSON too deep');
    const huge = await post(board.url, 'api/jobs/pdf', JSON.stringify({ documentId: 'd', pad: 'x'.repeat(3 * 1024 * 1024) }));
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as ErrorBody).error).toBe('payload too large');
    expect((await post(board.url, 'api/jobs/pdf', pdfPayload('after'))).status).toBe(201);
    expect(await pdfQueue().count()).toBe(1);
  });

  it('Idempotency-Key: the same key twice gives the same job, created once', async () => {
    const board = await startTestBoard(ctx);
    const first = await post(board.url, 'api/jobs/scrape', { sessionId: 's-1', sourceUrl: 'https://shop.example.com/' }, { 'idempotency-key': 'upload-77' });
    expect(first.status).toBe(201);
    const a = (await first.json()) as { id: string; created: boolean };
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const second = await post(board.url, 'api/jobs/scrape', { sessionId: 's-1', sourceUrl: 'https://shop.example.com/' }, { 'idempotency-key': 'upload-77' });
    expect(second.status).toBe(201);
    const b = (await second.json()) as { id: string; created: boolean };
    expect(b).toEqual({ id: a.id, type: 'scrape', created: false });
    expect(a.created).toBe(true);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    const queue = ctx.manage('queue', new Queue('web-scraping', { connection: ctx.redis, prefix: bullPrefix(ctx.prefix, 'web-scraping') }));
    expect(await queue.count()).toBe(1);
    // Without a key, the same payload is a new job.
    const third = await post(board.url, 'api/jobs/scrape', { sessionId: 's-1', sourceUrl: 'https://shop.example.com/' });
    expect(((await third.json()) as { id: string }).id).not.toBe(a.id);
  });

  it('Job-Id: the job runs under the platform row\'s id; a bad one is a 400 naming the header', async () => {
    const board = await startTestBoard(ctx);
    const sessionId = '6f1c2a7e-4b1d-4c55-9a8e-0d2f1e3a4b5c';
    const response = await post(board.url, 'api/jobs/scrape', { sessionId, sourceUrl: 'https://shop.example.com/' }, { 'job-id': sessionId });
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ id: sessionId, type: 'scrape', created: true });
    const queue = ctx.manage('queue', new Queue('web-scraping', { connection: ctx.redis, prefix: bullPrefix(ctx.prefix, 'web-scraping') }));
    expect(await queue.getJobState(sessionId)).toBe('waiting');
    const again = await post(board.url, 'api/jobs/scrape', { sessionId, sourceUrl: 'https://shop.example.com/' }, { 'job-id': sessionId });
    expect(await again.json()).toEqual({ id: sessionId, type: 'scrape', created: false });

    const bad = await post(board.url, 'api/jobs/scrape', { sessionId: 's-2', sourceUrl: 'https://shop.example.com/' }, { 'job-id': 'a:b' });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as ErrorBody;
    expect(body.issues?.map((issue) => issue.path)).toEqual(['Job-Id (header)']);
    expect(await queue.count()).toBe(1);
  });
});
