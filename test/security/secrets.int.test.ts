/**
 * Attacker probes: signed URLs (S3, GCS, Azure SAS, tokens, keys, user info) put where a
 * payload or an error can carry them — an alert's message, exception, tags, fingerprint,
 * contexts, extra and breadcrumbs, the log, a failed job's row, history and BullMQ
 * `failedReason` — must never reach Sentry, a log line or the board. Sentry is the real
 * `@sentry/node` SDK sending to the local envelope receiver; the worker is the real runtime on
 * the real Redis. Every probe also checks that the non-secret parts arrived, so it fails if
 * the URL never got there (a probe that cannot fail proves nothing).
 */
import { Writable } from 'node:stream';
import { UnrecoverableError } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Alerter, type AlertInput } from '@kai-jobs/monitor';
import { sentryGlobalScope, startSentryReceiver, type SentryReceiver } from '@kai-jobs/monitor/testing';
import { createJobClient, createLogger, PdfStage, type JobClient, type Logger, type PdfResult } from '@kai-jobs/queue';
import { leakedSampleSecrets, SIGNED_URL_SAMPLES, useRedisTestContext, waitFor } from '@kai-jobs/queue/testing';
import { createWorkerRuntime, defineStage, defineStagedJob, type StagedJobDefinition } from '@kai-jobs/workers';
import { z } from 'zod';
import { scrapeRow, statusRow } from '../../packages/monitor/test/fixtures/rows.js';

const URLS = SIGNED_URL_SAMPLES.map((sample) => sample.url);
/** Every non-secret part of the samples: present in what was sent, or the probe proved nothing. */
const KEPT = SIGNED_URL_SAMPLES.flatMap((sample) => sample.kept);
/** One line quoting every signed URL, as a failed download or a config dump would. */
const QUOTING_ALL = `could not read any source: ${URLS.map((url) => `GET ${url} answered 403`).join('; ')}`;

function expectNoSecrets(text: string, where: string): void {
  expect(leakedSampleSecrets(text), where).toEqual([]);
}

function expectKept(text: string, where: string): void {
  for (const kept of KEPT) expect(text, `${where} should still show ${kept}`).toContain(kept);
}

/** A logger writing JSON lines into `lines`: the real pino logger, as entry points build it. */
function capturingLogger(lines: string[]): Logger {
  return createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString());
        callback();
      },
    }),
  });
}

describe('signed URLs never reach Sentry (real SDK, local envelope receiver)', () => {
  let receiver: SentryReceiver;
  let alerter: Alerter | undefined;

  beforeEach(async () => {
    receiver = await startSentryReceiver();
  });

  afterEach(async () => {
    await alerter?.close();
    alerter = undefined;
    sentryGlobalScope().clearBreadcrumbs();
    await receiver.close();
  });

  it("in an alert's message, exception, cause, tags, fingerprint and context", async () => {
    alerter = new Alerter({ dsn: receiver.dsn });
    const [first, second, third] = URLS;
    const inputs: AlertInput[] = [
      // source_url is a tag, a fingerprint part, a context field and part of the message.
      { kind: 'stuck-scraping-session', row: scrapeRow({ refs: { sessionId: 's-1', sourceUrl: first ?? '' } }), reason: 'update_timeout', stuckForMs: 31 * 60_000 },
      { kind: 'scraping-session-failed', row: scrapeRow({ id: 'job-s2', refs: { sessionId: 's-2', sourceUrl: second ?? '' } }), error: new Error(QUOTING_ALL) },
      {
        kind: 'pdf-processing-failed',
        row: statusRow({ status: 'failed', errorStage: 'pdf_loaded', progressDetail: `reading ${third ?? ''}` }),
        error: new Error(`download of ${third ?? ''} failed`, { cause: new Error(QUOTING_ALL) }),
      },
      // The row's own error text (what a worker wrote) is the message when no error is given.
      { kind: 'xml-import-job-failed', row: statusRow({ id: 'job-x', type: 'xml-import', status: 'failed', error: QUOTING_ALL, refs: { importJobId: 'imp-1', sourceName: 'acme' } }) },
    ];
    for (const input of inputs) expect((await alerter.alert(input)).status).toBe('sent');
    const events = await receiver.waitForEvents(inputs.length);
    expect(events).toHaveLength(inputs.length);
    const raw = receiver.envelopes.map((envelope) => envelope.raw).join('\n');
    expectNoSecrets(raw, 'the envelopes');
    expectKept(raw, 'the envelopes');
    // The signed URL still groups: its scrubbed form is the fingerprint and the tag.
    const stuck = events.find((event) => event.fingerprint?.[0] === 'stuck-scraping-session');
    expect(stuck?.fingerprint?.[1]).toMatch(/^https:\/\/kai-docs\.s3\.eu-central-1\.amazonaws\.com\/uploads\/catalog\.pdf\?.*X-Amz-Signature=\[scrubbed\]$/);
    const tag = stuck?.tags?.['source_url'] ?? '';
    expect(tag.length).toBeLessThanOrEqual(200);
    expect(tag).toMatch(/^https:\/\/kai-docs\.s3\.eu-central-1\.amazonaws\.com\/uploads\/catalog\.pdf\?/);
    expect(stuck?.fingerprint?.[1]?.startsWith(tag)).toBe(true);
    expect(receiver.errors).toEqual([]);
  });

  it('in captured contexts, extra, tags and breadcrumbs — its own and those merged from the global scope', async () => {
    // Ambient breadcrumbs on Sentry's global scope are merged into every event by the SDK.
    sentryGlobalScope().addBreadcrumb({ category: 'http', message: `GET ${URLS[4] ?? ''}`, data: { url: URLS[0], method: 'GET' } });
    alerter = new Alerter({ dsn: receiver.dsn });
    let nested: Record<string, unknown> = { url: URLS[1], headers: { 'X-Amz-Security-Token': 'ambient-session-token-value' } };
    for (let depth = 0; depth < 4; depth++) nested = { level: depth, nested };
    const breadcrumbs = SIGNED_URL_SAMPLES.map((sample) => ({
      category: 'fetch',
      message: `fetched ${sample.url}`,
      data: { url: sample.url, 'http.query': new URL(sample.url).search, status_code: 403 },
    }));
    const exceptionId = alerter.captureException(new Error(QUOTING_ALL), {
      tags: { source_url: URLS[2] ?? '', feed: URLS[5] ?? '' },
      contexts: { download: { urls: URLS, attempt: 2, nested } },
      extra: { [`retry of ${URLS[3] ?? ''}`]: true, sas: { sv: '2022-11-02', sig: 'extra-sas-signature-value', se: '2026-12-07T15:00:00Z' } },
      fingerprint: ['download-failed', URLS[6] ?? ''],
      breadcrumbs,
    });
    const messageId = alerter.captureMessage(QUOTING_ALL, 'warning', { breadcrumbs });
    const events = await receiver.waitForEvents(2);
    const raw = receiver.envelopes.map((envelope) => envelope.raw).join('\n');
    expectNoSecrets(raw, 'the envelopes');
    expect(raw).not.toMatch(/ambient-session-token-value|extra-sas-signature-value/);
    expectKept(raw, 'the envelopes');
    for (const id of [exceptionId, messageId]) {
      const event = events.find((candidate) => candidate.event_id === id);
      const sent = event?.['breadcrumbs'] as { category?: string; message?: string; data?: Record<string, unknown> }[] | undefined;
      // Ours and the ambient one all arrived — scrubbed, not dropped.
      expect(sent?.map((crumb) => crumb.category).sort()).toEqual(['fetch', 'fetch', 'fetch', 'fetch', 'fetch', 'fetch', 'fetch', 'fetch', 'http']);
      expect(sent?.find((crumb) => crumb.category === 'http')?.data?.['url']).toMatch(/^https:\/\/kai-docs\.s3\..*X-Amz-Signature=\[scrubbed\]$/);
    }
    const exception = events.find((event) => event.event_id === exceptionId);
    expect(exception?.extra?.['sas']).toEqual({ sv: '[scrubbed]', sig: '[scrubbed]', se: '2026-12-07T15:00:00Z' });
  });

  it('in the log-only fallback when no DSN is set', async () => {
    const lines: string[] = [];
    alerter = new Alerter({ logger: capturingLogger(lines) });
    await alerter.alert({ kind: 'scraping-session-failed', row: scrapeRow({ refs: { sessionId: 's-3', sourceUrl: URLS[0] ?? '' } }), error: new Error(QUOTING_ALL) });
    alerter.captureMessage(QUOTING_ALL, 'error', { contexts: { download: { urls: URLS } }, breadcrumbs: [{ message: `GET ${URLS[1] ?? ''}`, data: { url: URLS[2] } }] });
    await waitFor(() => lines.length >= 2, { timeoutMs: 5000, message: 'two log lines' });
    const text = lines.join('');
    expectNoSecrets(text, 'the log');
    expectKept(text, 'the log');
    expect(receiver.envelopes).toEqual([]);
  });
});

describe('signed URLs never reach a failed job\'s row, history, failedReason or the worker log', () => {
  const ctx = useRedisTestContext(import.meta.url);

  /** A pdf job whose first stage fails quoting its (signed) source URL and every other one: transient, then for good. */
  function failingJob(): StagedJobDefinition<'pdf'> {
    const Output = z.object({ ok: z.boolean() });
    const stages = Object.values(PdfStage).map((name) =>
      defineStage<'pdf', (typeof PdfStage)[keyof typeof PdfStage], typeof Output>({
        name,
        output: Output,
        run(stageCtx) {
          const source = stageCtx.payload.source;
          const url = source.kind === 'url' ? source.url : '';
          stageCtx.logger.warn(`download of ${url} refused`, { url, options: { accessToken: 'ya29.stage-field-token' } });
          if (stageCtx.attempt === 1) throw new Error(`GET ${url} answered 503; ${QUOTING_ALL}`);
          throw new UnrecoverableError(`GET ${url} answered 403; ${QUOTING_ALL}`);
        },
      }),
    );
    return defineStagedJob<'pdf'>({
      type: 'pdf',
      stages,
      result: (_outputs, { payload }): PdfResult => ({ documentId: payload.documentId, pages: 0, chunks: 0, tiles: 0, materials: 0, artifacts: [] }),
    });
  }

  it('a stage error quoting signed URLs is scrubbed everywhere it is written', async () => {
    const lines: string[] = [];
    const runtime = ctx.track(
      'runtime',
      createWorkerRuntime({
        redis: ctx.redisOptions,
        jobs: [failingJob() as StagedJobDefinition],
        workerId: 'w-secrets',
        cpuThreads: 1,
        heartbeatIntervalMs: 500,
        progressThrottleMs: 0,
        backoff: { baseMs: 20, capMs: 50 },
        logger: capturingLogger(lines),
      }),
    );
    const emitted: string[] = [];
    runtime.on('job:failed', (event) => emitted.push(event.error));
    await runtime.start();
    const jobs: JobClient = ctx.manage('client', createJobClient({ redis: ctx.redisOptions, waitPollIntervalMs: 25 }));
    try {
      const { id } = await jobs.enqueue('pdf', { documentId: 'doc-signed', source: { kind: 'url', url: URLS[0] ?? '' } });
      await waitFor(async () => (await jobs.getStatus(id))?.row.status === 'failed', { timeoutMs: 20_000, message: 'the job to fail' });
      const status = await jobs.getStatus(id);
      const bullJob = await jobs.queue('pdf').getJob(id);
      const history = await jobs.statusStore.history(id);
      expect(status?.bullmq.attemptsMade).toBe(2);
      expect(history.some((entry) => entry.event === 'attempt:failed')).toBe(true);
      const written = {
        row: status?.row.error,
        failedReason: status?.bullmq.failedReason,
        bullFailedReason: bullJob?.failedReason,
        stacktrace: bullJob?.stacktrace,
        history,
        emitted,
      };
      const text = JSON.stringify(written);
      expectNoSecrets(text, 'the row, history, failedReason, stack traces and events');
      expectKept(text, 'the row, history, failedReason, stack traces and events');
      expect(status?.row.error).toMatch(/^GET https:\/\/kai-docs\.s3\.eu-central-1\.amazonaws\.com\/uploads\/catalog\.pdf\?.* answered 403; /);
      await runtime.close();
      const log = lines.join('');
      expect(log).toContain('download of');
      expectNoSecrets(log, 'the worker log');
      expect(log).not.toContain('ya29.stage-field-token');
    } finally {
      await runtime.close();
    }
  });

  it('a payload that fails validation while quoting a signed URL is scrubbed in the row and failedReason', async () => {
    const runtime = ctx.track(
      'runtime',
      createWorkerRuntime({ redis: ctx.redisOptions, jobs: [failingJob() as StagedJobDefinition], workerId: 'w-bad-payload', cpuThreads: 1, heartbeatIntervalMs: 500 }),
    );
    await runtime.start();
    const jobs: JobClient = ctx.manage('client', createJobClient({ redis: ctx.redisOptions, waitPollIntervalMs: 25 }));
    // Added straight to BullMQ, as a producer that skips the typed client would: an ftp URL the catalog refuses.
    const queue = jobs.queue('pdf');
    try {
      // Short enough that the validation message quotes it whole (it cuts values after 40 characters).
      const badUrl = 'ftp://k.io/?sig=AzSasSig0123456789xyz';
      await queue.add('pdf', { documentId: 'doc-bad', source: { kind: 'url', url: badUrl } }, { jobId: 'bad-payload-1', attempts: 1 });
      await waitFor(async () => (await jobs.getStatus('bad-payload-1'))?.row.status === 'failed', { timeoutMs: 20_000, message: 'the job to fail' });
      const status = await jobs.getStatus('bad-payload-1');
      for (const text of [status?.row.error, status?.bullmq.failedReason]) {
        expect(text).toContain('source.url');
        expect(text).toContain('ftp://k.io/?sig=[scrubbed]');
        expect(text).not.toContain('AzSasSig0123456789xyz');
      }
    } finally {
      await runtime.close();
    }
  });
});
