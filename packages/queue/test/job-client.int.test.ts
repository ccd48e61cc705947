import { Queue, Worker } from 'bullmq';
import { describe, expect, it } from 'vitest';
import {
  AbortAction,
  bullPrefix,
  createJobClient,
  enqueueRecoveryDrill,
  jobCatalog,
  parseAbortRequest,
  abortChannel,
  repairPendingWithoutJob,
  RedisJobStore,
  type JobClient,
} from '../src/index.js';
import { expectErrorNamed, scanKeys, useRedisTestContext, waitFor } from '../src/testing.js';

const ctx = useRedisTestContext(import.meta.url);

function client(extra: Parameters<typeof createJobClient>[0] = {}): JobClient {
  return ctx.manage(
    'job client',
    createJobClient({ redis: ctx.redisOptions, waitPollIntervalMs: 20, ...extra }),
  );
}

const pdfPayload = (documentId = 'doc-1') => ({ documentId, source: { kind: 'file' as const, path: '/data/a.pdf' } });

describe('createJobClient: enqueue', () => {
  it('creates the BullMQ job and its pending status row together, with defaults applied', async () => {
    const jobs = client();
    const { id, created, type } = await jobs.enqueue('pdf', pdfPayload());
    expect(created).toBe(true);
    expect(type).toBe('pdf');
    const status = await jobs.getStatus(id);
    expect(status?.row).toMatchObject({ id, type: 'pdf', status: 'pending', refs: { documentId: 'doc-1' } });
    expect(status?.row.payload).toMatchObject({ options: { tileSizePx: 512, renderScale: 1.5 } });
    expect(status?.bullmq.state).toBe('waiting');
    const bullJob = await jobs.queue('pdf').getJob(id);
    expect(bullJob?.name).toBe('pdf');
    expect(bullJob?.data).toEqual(status?.row.payload);
    expect(bullJob?.opts.attempts).toBe(jobCatalog.pdf.defaults.attempts);
  });

  it('returns the same job for the same idempotency key and creates no second row or job', async () => {
    const jobs = client();
    const first = await jobs.enqueue('pdf', pdfPayload('a'), { idempotencyKey: 'upload-77' });
    const second = await jobs.enqueue('pdf', pdfPayload('b'), { idempotencyKey: 'upload-77' });
    expect(second).toEqual({ id: first.id, type: 'pdf', created: false });
    expect(await jobs.queue('pdf').getJobCounts('waiting')).toEqual({ waiting: 1 });
    expect((await jobs.getStatus(first.id))?.row.refs.documentId).toBe('a');
    const pending = await jobs.statusStore.list({ type: 'pdf', status: 'pending' });
    expect(pending).toHaveLength(1);
  });

  it('honours priority, delay and a caller-chosen job id', async () => {
    const jobs = client();
    const delayed = await jobs.enqueue('xml-import', {
      importJobId: 'imp-1',
      sourceName: 'acme',
      source: { kind: 'url', url: 'https://feeds.example.com/acme.xml' },
    }, { delayMs: 60_000, jobId: 'import-imp-1' });
    expect(delayed.id).toBe('import-imp-1');
    expect((await jobs.getStatus('import-imp-1'))?.bullmq.state).toBe('delayed');
    const urgent = await jobs.enqueue('pdf', pdfPayload(), { priority: 1 });
    expect((await jobs.getStatus(urgent.id))?.bullmq.state).toBe('prioritized');
  });

  it('enqueueBulk validates every item first and enqueues nothing when one is bad', async () => {
    const jobs = client();
    const error = await expectErrorNamed(
      jobs.enqueueBulk('scrape', [
        { payload: { sessionId: 's1', sourceUrl: 'https://a.example/' } },
        { payload: { sessionId: '', sourceUrl: 'ftp://nope' } as never },
        { payload: { sessionId: 's3', sourceUrl: 'https://c.example/', maxPages: 0 } },
      ]),
      'ValidationError',
    );
    const paths = (error['issues'] as { path: string }[]).map((issue) => issue.path).sort();
    expect(paths).toEqual(['[1].payload.sessionId', '[1].payload.sourceUrl', '[2].payload.maxPages']);
    expect(await jobs.queue('scrape').count()).toBe(0);
    expect(await jobs.statusStore.list({ type: 'scrape', status: 'pending' })).toEqual([]);

    const made = await jobs.enqueueBulk('scrape', [
      { payload: { sessionId: 's1', sourceUrl: 'https://a.example/' } },
      { payload: { sessionId: 's2', sourceUrl: 'https://b.example/' }, options: { idempotencyKey: 'x' } },
      { payload: { sessionId: 's2', sourceUrl: 'https://b.example/' }, options: { idempotencyKey: 'x' } },
    ]);
    expect(made.map((job) => job.created)).toEqual([true, true, false]);
    expect(await jobs.queue('scrape').count()).toBe(2);
  });
});

describe('createJobClient: bad input', () => {
  it('rejects a wrong payload with every bad field path and writes nothing', async () => {
    const jobs = client();
    const error = await expectErrorNamed(
      jobs.enqueue('pdf', { documentId: 42, source: { kind: 'url', url: 'not a url' }, options: { tileSizePx: 5 } } as never),
      'ValidationError',
    );
    const issues = error['issues'] as { path: string; message: string }[];
    expect(issues.map((issue) => issue.path).sort()).toEqual(['payload.documentId', 'payload.options.tileSizePx', 'payload.source.url']);
    expect(error.message).toContain('payload.documentId');
    expect(await scanKeys(ctx.redis, `${ctx.prefix}:*`)).toEqual([]);
  });

  it('rejects an unknown job type, unknown fields and bad options', async () => {
    const jobs = client();
    const unknown = await expectErrorNamed(jobs.enqueue('video' as never, {} as never), 'ValidationError');
    expect(unknown.message).toContain('expected one of pdf, scrape, xml-import');
    const extra = await expectErrorNamed(jobs.enqueue('pdf', { ...pdfPayload(), colour: 'red' } as never), 'ValidationError');
    expect(extra.message).toContain('colour');
    const badOptions = await expectErrorNamed(jobs.enqueue('pdf', pdfPayload(), { jobId: 'a:b', priority: -1 }), 'ValidationError');
    expect((badOptions['issues'] as { path: string }[]).map((issue) => issue.path).sort()).toEqual(['options.jobId', 'options.priority']);
  });

  it('refuses the drill switch (options.drill) from enqueue and enqueueBulk; only enqueueRecoveryDrill sets it', async () => {
    const jobs = client();
    const hanging = { ...pdfPayload('doc-drill'), options: { drill: { hangOnceInStage: 'text_extracted' as const } } };
    const single = await expectErrorNamed(jobs.enqueue('pdf', hanging), 'ValidationError');
    expect(single['issues']).toEqual([expect.objectContaining({ path: 'payload.options.drill', message: expect.stringMatching(/^not accepted in a public payload: the recovery-drill switch/) })]);
    expect(single.message).toContain('payload.options.drill');
    // Any value, even one the schema would refuse, is named as the internal field it is.
    const nulled = await expectErrorNamed(jobs.enqueue('pdf', { ...pdfPayload(), options: { drill: null } } as never), 'ValidationError');
    expect((nulled['issues'] as { path: string }[]).map((issue) => issue.path)).toContain('payload.options.drill');
    const bulk = await expectErrorNamed(jobs.enqueueBulk('pdf', [{ payload: pdfPayload('ok') }, { payload: hanging }]), 'ValidationError');
    expect((bulk['issues'] as { path: string }[]).map((issue) => issue.path)).toEqual(['[1].payload.options.drill']);
    expect(await scanKeys(ctx.redis, `${ctx.prefix}:*`)).toEqual([]);

    // The drill's canary source (a spec the worker writes a PDF from) is the drill's only.
    const canary = await expectErrorNamed(jobs.enqueue('pdf', { documentId: 'c', source: { kind: 'canary', text: 'x' } }), 'ValidationError');
    expect(canary['issues']).toEqual([expect.objectContaining({ path: 'payload.source.kind', message: expect.stringMatching(/^not accepted in a public payload: a 'canary' source/) })]);

    const { id } = await enqueueRecoveryDrill(jobs, pdfPayload('doc-drill'), { hangOnceInStage: 'text_extracted' }, { jobId: 'drill-canary-1' });
    expect(id).toBe('drill-canary-1');
    expect((await jobs.queue('pdf').getJob(id))?.data.options).toMatchObject({ drill: { hangOnceInStage: 'text_extracted' } });
    expect(() => enqueueRecoveryDrill({} as JobClient, pdfPayload(), { hangOnceInStage: 'text_extracted' })).toThrow(/needs a client made by createJobClient/);
  });

  it('rejects a payload over the size limit', async () => {
    const jobs = client({ maxPayloadBytes: 1024 });
    const error = await expectErrorNamed(
      jobs.enqueue('xml-import', {
        importJobId: 'i',
        sourceName: 'x'.repeat(150),
        source: { kind: 'storage', key: 'k'.repeat(2000) },
      }),
      'ValidationError',
    );
    expect(error.message).toMatch(/over the limit of 1024/);
  });

  it('refuses a malformed Redis URL at construction', () => {
    expect(() => createJobClient({ redis: { url: 'http://localhost:6379' } })).toThrow(/expected redis:\/\/ or rediss:\/\//);
    expect(() => createJobClient({ redis: { url: 'redis://:6379' } })).toThrow(/not a URL|no host/);
    expect(() => createJobClient({ redis: { url: 'redis://h:6379/abc' } })).toThrow(/database "abc"/);
  });

  it('reports an unreachable Redis naming the URL within the connect timeout', async () => {
    const jobs = createJobClient({ redis: { url: 'redis://:s3cret@127.0.0.1:1/0', connectTimeoutMs: 1500 } });
    const started = Date.now();
    const error = await expectErrorNamed(jobs.enqueue('pdf', pdfPayload()), 'RedisUnreachableError');
    expect(Date.now() - started).toBeLessThan(4000);
    expect(error.message).toContain('redis://:***@127.0.0.1:1/0');
    expect(error.message).not.toContain('s3cret');
    await jobs.close();
  });
});

describe('createJobClient: status, cancel, wait', () => {
  it('waitForResult resolves with the result once a worker completes the row', async () => {
    const jobs = client();
    const { id } = await jobs.enqueue('pdf', pdfPayload());
    const store = new RedisJobStore({ connection: ctx.redis, prefix: ctx.prefix });
    const worker = ctx.track(
      'worker',
      new Worker(
        jobCatalog.pdf.queueName,
        async (job, token) => {
          await store.markProcessing(job.id as string, { fence: token as string, workerId: 'w' });
          const result = { documentId: 'doc-1', pages: 2, chunks: 1, tiles: 0, materials: 0, artifacts: [] };
          await store.complete(job.id as string, token as string, result);
          return result;
        },
        { connection: ctx.connection(), prefix: bullPrefix(ctx.prefix, jobCatalog.pdf.queueName) },
      ),
    );
    await expect(jobs.waitForResult<'pdf'>(id, { timeoutMs: 10_000 })).resolves.toMatchObject({ pages: 2 });
    await worker.close();
  });

  it('waitForResult rejects with the failure, and times out with a clear error', async () => {
    const jobs = client();
    const failing = await jobs.enqueue('pdf', pdfPayload());
    const store = new RedisJobStore({ connection: ctx.redis, prefix: ctx.prefix });
    await store.markProcessing(failing.id, { fence: 't', workerId: 'w', stage: 'pdf_loaded' });
    await store.fail(failing.id, 't', 'not a PDF');
    const failure = await expectErrorNamed(jobs.waitForResult(failing.id), 'JobFailedError');
    expect(failure.message).toBe(`job ${failing.id} failed in stage pdf_loaded: not a PDF`);
    const slow = await jobs.enqueue('pdf', pdfPayload());
    const timeout = await expectErrorNamed(jobs.waitForResult(slow.id, { timeoutMs: 100 }), 'TimeoutError');
    expect(timeout.message).toContain('status pending');
  });

  it('cancel removes a waiting job and fails its row', async () => {
    const jobs = client();
    const { id } = await jobs.enqueue('pdf', pdfPayload());
    const outcome = await jobs.cancel(id, 'duplicate upload');
    expect(outcome).toEqual({ cancelled: true, previousStatus: 'pending', abortRequested: false });
    expect(await jobs.queue('pdf').getJob(id)).toBeUndefined();
    const status = await jobs.getStatus(id);
    expect(status?.row).toMatchObject({ status: 'failed', error: 'cancelled: duplicate upload', failureKind: 'cancelled' });
    // Applied by the one executor: the history entry names the path and the kind, and no alert is written.
    const history = await jobs.statusStore.history(id);
    expect(history.at(-1)).toMatchObject({ event: 'cancelled', reason: 'duplicate upload', path: 'operator-cancel', failureKind: 'cancelled' });
    expect(history.at(-1)?.incident).toBeUndefined();
    expect(await jobs.statusStore.pendingAlerts('pdf')).toEqual([]);
    expect(status?.bullmq.state).toBe('missing');
    expect(await jobs.cancel(id)).toMatchObject({ cancelled: false, previousStatus: 'failed' });
    expect(await jobs.cancel('no-such-job')).toEqual({ cancelled: false, previousStatus: null, abortRequested: false });
  });

  it('cancel of a running job publishes an abort request and fences the attempt off', async () => {
    const jobs = client();
    const { id } = await jobs.enqueue('pdf', pdfPayload());
    const subscriber = ctx.connection();
    const messages: string[] = [];
    await subscriber.subscribe(abortChannel(ctx.prefix));
    subscriber.on('message', (_channel, message: string) => messages.push(message));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const store = jobs.statusStore;
    let writeError = '';
    const worker = ctx.track(
      'worker',
      new Worker(
        jobCatalog.pdf.queueName,
        async (job, token) => {
          await store.markProcessing(job.id as string, { fence: token as string, workerId: 'w' });
          await released;
          await store.progress(job.id as string, token as string, { percent: 50 }).catch((e: Error) => (writeError = e.name));
        },
        { connection: ctx.connection(), prefix: bullPrefix(ctx.prefix, jobCatalog.pdf.queueName) },
      ),
    );
    await waitFor(async () => (await store.get(id))?.status === 'processing');
    const outcome = await jobs.cancel(id, 'user cancelled');
    expect(outcome).toEqual({ cancelled: true, previousStatus: 'processing', abortRequested: true });
    await waitFor(() => messages.length === 1);
    expect(parseAbortRequest(messages[0] as string)).toEqual({ jobId: id, action: AbortAction.Cancel, reason: 'user cancelled' });
    release();
    await waitFor(() => writeError !== '');
    expect(writeError).toBe('StaleFenceError');
    await worker.close();
    await subscriber.quit();
  });
});

describe('a crash between the status row and the BullMQ job', () => {
  it('leaves a pending row without a job, which the repair pass re-adds under the same id', async () => {
    const jobs = client();
    const store = new RedisJobStore({ connection: ctx.redis, prefix: ctx.prefix });
    // Simulate the producer dying after writing the row and before adding the job.
    const { row } = await store.create({ id: 'orphan-1', type: 'pdf', payload: pdfPayload('doc-9'), refs: { documentId: 'doc-9' } });
    const queue = ctx.manage(
      'queue',
      new Queue(jobCatalog.pdf.queueName, { connection: ctx.connection(), prefix: bullPrefix(ctx.prefix, 'pdf-processing') }),
    );
    const { id: healthyId } = await jobs.enqueue('pdf', pdfPayload('doc-ok'));
    const result = await repairPendingWithoutJob({ store, queue, type: 'pdf', olderThanMs: 0 });
    expect(result.readded).toEqual([row.id]);
    expect(result.checked).toBe(2);
    expect(result.healthy).toBe(1);
    const readded = await queue.getJob(row.id);
    expect(readded?.data).toEqual(pdfPayload('doc-9'));
    expect(await readded?.getState()).toBe('waiting');
    expect((await store.history(row.id)).map((entry) => entry.event)).toContain('recovery:readded');
    // Healthy and repaired rows are not re-checked until a full threshold has passed.
    const again = await repairPendingWithoutJob({ store, queue, type: 'pdf', olderThanMs: 60_000 });
    expect(again).toEqual({ checked: 0, readded: [], healthy: 0 });
    expect(healthyId).not.toBe(row.id);
    await queue.close();
  });

  it('a retried enqueue with the same idempotency key re-adds a job lost after its row', async () => {
    const jobs = client();
    const store = new RedisJobStore({ connection: ctx.redis, prefix: ctx.prefix });
    await store.create({ id: 'lost-2', type: 'pdf', payload: pdfPayload(), idempotencyKey: 'retry-me' });
    const again = await jobs.enqueue('pdf', pdfPayload(), { idempotencyKey: 'retry-me' });
    expect(again).toEqual({ id: 'lost-2', type: 'pdf', created: false });
    expect(await (await jobs.queue('pdf').getJob('lost-2'))?.getState()).toBe('waiting');
  });
});
