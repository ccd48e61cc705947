import * as Sentry from '@sentry/node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Alerter, type AlertInput } from '../src/index.js';
import { startSentryReceiver, type ReceivedEvent, type SentryReceiver } from '../src/testing.js';
import { importRow, scrapeRow, statusRow } from './fixtures/rows.js';

const TIMES = {
  created_at: '2026-03-01T09:00:00.000Z',
  started_at: '2026-03-01T09:10:00.000Z',
  updated_at: '2026-03-01T09:40:00.000Z',
  last_heartbeat: '2026-03-01T09:44:00.000Z',
};

class TileRenderError extends Error {
  override name = 'TileRenderError';
}

/** Each alert kind: its input and exactly what Sentry must receive. */
const CASES: { input: AlertInput; level: string; message?: string; exception?: { type: string; value: string }; tags: Record<string, string>; context: [string, Record<string, unknown>]; fingerprint: string[] }[] = [
  {
    input: {
      kind: 'pdf-processing-failed',
      row: statusRow({ status: 'failed', errorStage: 'tiles_generated' }),
      error: new TileRenderError('renderer crashed on page 13'),
    },
    level: 'error',
    exception: { type: 'TileRenderError', value: 'renderer crashed on page 13' },
    tags: { job_id: 'job-1', document_id: 'doc-9', job_type: 'pdf_processing', error_type: 'tile_render_error', stage: 'tiles_generated' },
    context: [
      'pdf_processing_failed',
      {
        job_id: 'job-1',
        document_id: 'doc-9',
        queue_job_id: 'job-1',
        status: 'failed',
        attempt: 2,
        restart_count: 1,
        worker_id: 'worker-a:101:ff',
        current_stage: 'tiles_generated',
        progress: 40,
        progress_detail: 'page 12 of 30',
        stage: 'tiles_generated',
        error_type: 'tile_render_error',
        error_message: 'renderer crashed on page 13',
        total_pages: 30,
        completed_pages: 12,
        ...TIMES,
      },
    ],
    fingerprint: ['pdf-processing-failed', 'tiles_generated'],
  },
  {
    input: { kind: 'stuck-job', row: statusRow(), reason: 'heartbeat_timeout', stuckForMs: 16 * 60_000 },
    level: 'warning',
    message: 'Stuck PDF job detected: job-1 (heartbeat_timeout)',
    tags: { job_id: 'job-1', document_id: 'doc-9', error_type: 'stuck_job', failure_reason: 'heartbeat_timeout' },
    context: [
      'stuck_job',
      {
        job_id: 'job-1',
        document_id: 'doc-9',
        queue_job_id: 'job-1',
        status: 'processing',
        attempt: 2,
        restart_count: 1,
        worker_id: 'worker-a:101:ff',
        current_stage: 'tiles_generated',
        progress: 40,
        progress_detail: 'page 12 of 30',
        ...TIMES,
        stuck_duration_ms: 960_000,
        stuck_duration_minutes: 16,
        failure_reason: 'heartbeat_timeout',
      },
    ],
    fingerprint: ['stuck-job', 'heartbeat_timeout'],
  },
  {
    input: { kind: 'stuck-scraping-session', row: scrapeRow(), reason: 'update_timeout', stuckForMs: 31 * 60_000 },
    level: 'warning',
    message: 'Stuck scraping session detected: session-7 (https://shop.example.com/catalog)',
    tags: { session_id: 'session-7', job_type: 'web_scraping', error_type: 'stuck_scraping_session', source_url: 'https://shop.example.com/catalog' },
    context: [
      'stuck_scraping_session',
      {
        session_id: 'session-7',
        source_url: 'https://shop.example.com/catalog',
        background_job_id: 'bg-7',
        queue_job_id: 'job-s',
        status: 'scraping',
        attempt: 1,
        restart_count: 0,
        worker_id: 'worker-a:101:ff',
        current_stage: 'site_crawled',
        progress: 40,
        progress_detail: null,
        total_pages: 50,
        completed_pages: 20,
        failed_pages: 3,
        ...TIMES,
        stuck_duration_ms: 1_860_000,
        stuck_duration_minutes: 31,
        failure_reason: 'update_timeout',
      },
    ],
    fingerprint: ['stuck-scraping-session', 'https://shop.example.com/catalog'],
  },
  {
    input: { kind: 'scraping-session-failed', row: scrapeRow({ status: 'failed' }), error: 'robots.txt forbids crawling' },
    level: 'error',
    exception: { type: 'ScrapingSessionError', value: 'robots.txt forbids crawling' },
    tags: { function: 'scrape-session-manager', error_type: 'scraping_session_failed', session_id: 'session-7', source_url: 'https://shop.example.com/catalog' },
    context: [
      'scraping_session_failed',
      {
        session_id: 'session-7',
        source_url: 'https://shop.example.com/catalog',
        background_job_id: 'bg-7',
        queue_job_id: 'job-s',
        status: 'failed',
        attempt: 1,
        restart_count: 0,
        worker_id: 'worker-a:101:ff',
        current_stage: 'site_crawled',
        progress: 40,
        progress_detail: null,
        total_pages: 50,
        completed_pages: 20,
        failed_pages: 3,
        stage: 'site_crawled',
        error_message: 'robots.txt forbids crawling',
        ...TIMES,
      },
    ],
    fingerprint: ['scraping-session-failed', 'https://shop.example.com/catalog'],
  },
  {
    input: { kind: 'stuck-import-job', row: importRow(), reason: 'update_timeout', stuckForMs: 21 * 60_000 },
    level: 'warning',
    message: 'Stuck XML import job detected: import-3 (acme-feed)',
    tags: { import_job_id: 'import-3', job_type: 'xml_import', error_type: 'stuck_import_job', source_name: 'acme-feed' },
    context: [
      'stuck_import_job',
      {
        import_job_id: 'import-3',
        source_name: 'acme-feed',
        background_job_id: 'bg-3',
        queue_job_id: 'job-x',
        status: 'processing',
        attempt: 3,
        restart_count: 0,
        worker_id: 'worker-a:101:ff',
        current_stage: 'products_imported',
        progress: 40,
        progress_detail: null,
        total_products: 1000,
        processed_products: 640,
        failed_products: 5,
        ...TIMES,
        stuck_duration_ms: 1_260_000,
        stuck_duration_minutes: 21,
        failure_reason: 'update_timeout',
      },
    ],
    fingerprint: ['stuck-import-job', 'acme-feed'],
  },
  {
    input: {
      kind: 'xml-import-job-failed',
      row: importRow({ status: 'failed', errorStage: 'feed_fetched' }),
      error: new Error('feed returned HTTP 503'),
    },
    level: 'error',
    exception: { type: 'Error', value: 'feed returned HTTP 503' },
    tags: { function: 'xml-import-orchestrator', error_type: 'xml_import_job_failed', job_id: 'import-3', source_name: 'acme-feed' },
    context: [
      'xml_import_job_failed',
      {
        job_id: 'import-3',
        source_name: 'acme-feed',
        background_job_id: 'bg-3',
        queue_job_id: 'job-x',
        status: 'failed',
        attempt: 3,
        restart_count: 0,
        worker_id: 'worker-a:101:ff',
        current_stage: 'products_imported',
        progress: 40,
        progress_detail: null,
        total_products: 1000,
        processed_products: 640,
        failed_products: 5,
        retry_count: 2,
        stage: 'feed_fetched',
        error_message: 'feed returned HTTP 503',
        ...TIMES,
      },
    ],
    fingerprint: ['xml-import-job-failed', 'acme-feed'],
  },
];

function byFingerprint(events: ReceivedEvent[], first: string): ReceivedEvent {
  const event = events.find((e) => e.fingerprint?.[0] === first);
  if (event === undefined) throw new Error(`no event with fingerprint ${first}`);
  return event;
}

describe('Alerter → Sentry (real SDK, local envelope receiver)', () => {
  let receiver: SentryReceiver;
  let alerter: Alerter | undefined;

  beforeEach(async () => {
    receiver = await startSentryReceiver();
  });
  afterEach(async () => {
    await alerter?.close();
    alerter = undefined;
    await receiver.close();
  });

  it('sends each of the six alerts with exactly its tags, context and fingerprint', async () => {
    alerter = new Alerter({ dsn: receiver.dsn, environment: 'staging', release: 'kai-jobs@1.2.3', serverName: 'monitor-1' });
    const outcomes = await Promise.all(CASES.map((c) => alerter?.alert(c.input)));
    expect(outcomes.map((o) => o?.status)).toEqual(CASES.map(() => 'sent'));
    const events = await receiver.waitForEvents(6);
    await alerter.flush();
    expect(receiver.events).toHaveLength(6);
    expect(receiver.errors).toEqual([]);
    for (const [index, c] of CASES.entries()) {
      const event = byFingerprint(events, c.fingerprint[0] as string);
      expect(event.event_id).toBe(outcomes[index]?.eventId);
      expect(event.tags).toEqual(c.tags);
      expect(event.fingerprint).toEqual(c.fingerprint);
      expect(event.contexts?.[c.context[0]]).toEqual(c.context[1]);
      expect(event.level).toBe(c.level);
      if (c.message !== undefined) expect(event.message).toBe(c.message);
      if (c.exception !== undefined) expect(event.exception?.values?.at(-1)).toMatchObject(c.exception);
      expect(event).toMatchObject({ environment: 'staging', release: 'kai-jobs@1.2.3', server_name: 'monitor-1' });
      // A dedicated client: no integration but linked errors, so nothing else reports or adds data.
      expect((event['sdk'] as { integrations: string[] }).integrations).toEqual(['LinkedErrors']);
    }
    expect(receiver.envelopes.every((e) => e.publicKey === 'publickey' && e.projectId === '1')).toBe(true);
  });

  it('sends captureException and captureMessage with exactly the given tags, extra, contexts and fingerprint', async () => {
    // Ambient data on Sentry's global scope must not leak into the alerts' exact tags.
    Sentry.getGlobalScope().setTag('ambient', 'yes');
    try {
      alerter = new Alerter({ dsn: receiver.dsn });
      const errorId = alerter.captureException(new Error('upsert failed'), {
        tags: { function: 'xml-import-orchestrator', batch: 7 },
        extra: { batch_size: 500, product_ids: ['a', 'b'] },
        contexts: { import: { source_name: 'acme-feed' } },
        fingerprint: ['upsert-failed', 'acme-feed'],
      });
      const messageId = alerter.captureMessage('feed is empty', 'warning', { tags: { source_name: 'acme-feed' } });
      const events = await receiver.waitForEvents(2);
      const error = events.find((e) => e.event_id === errorId);
      const message = events.find((e) => e.event_id === messageId);
      expect(error).toMatchObject({
        level: 'error',
        tags: { function: 'xml-import-orchestrator', batch: '7' },
        extra: { batch_size: 500, product_ids: ['a', 'b'] },
        fingerprint: ['upsert-failed', 'acme-feed'],
        contexts: { import: { source_name: 'acme-feed' } },
        exception: { values: [{ type: 'Error', value: 'upsert failed' }] },
      });
      expect(error?.tags).toEqual({ function: 'xml-import-orchestrator', batch: '7' });
      expect(message).toMatchObject({ level: 'warning', message: 'feed is empty' });
      expect(message?.tags).toEqual({ source_name: 'acme-feed' });
      expect(message?.fingerprint).toBeUndefined();
    } finally {
      Sentry.getGlobalScope().setTag('ambient', undefined);
    }
  });

  it('scrubs secrets from everything it sends', async () => {
    alerter = new Alerter({ dsn: receiver.dsn });
    await alerter.alert({
      kind: 'scraping-session-failed',
      row: scrapeRow({ refs: { sessionId: 's-1', sourceUrl: 'https://crawler:hunter2@shop.example.com/?token=tok-123' } }),
      error: new Error('login refused: password=hunter2 (Authorization: Bearer abcdefghijklmnop)'),
    });
    alerter.captureMessage('config dump', 'info', {
      extra: { options: { apiKey: 'sk-live-999', serviceRoleKey: 'srk-888', cookie: 'sid=777', pages: 3 } },
      contexts: { sentry: { dsn: receiver.dsn } },
    });
    const events = await receiver.waitForEvents(2);
    const raw = JSON.stringify(receiver.envelopes);
    for (const secret of ['hunter2', 'tok-123', 'abcdefghijklmnop', 'sk-live-999', 'srk-888', 'sid=777', receiver.dsn]) {
      expect(raw).not.toContain(secret);
    }
    const failed = byFingerprint(events, 'scraping-session-failed');
    expect(failed.tags?.['source_url']).toBe('https://[scrubbed]@shop.example.com/?token=[scrubbed]');
    expect(failed.fingerprint).toEqual(['scraping-session-failed', 'https://[scrubbed]@shop.example.com/?token=[scrubbed]']);
    const dump = events.find((e) => e.message === 'config dump');
    expect(dump?.extra).toEqual({ options: { apiKey: '[scrubbed]', serviceRoleKey: '[scrubbed]', cookie: '[scrubbed]', pages: 3 } });
  });

  it('checks in with Sentry Crons: in_progress, then ok or error, with the schedule and margin', async () => {
    alerter = new Alerter({ dsn: receiver.dsn, environment: 'staging', crons: { intervalMinutes: 1, checkinMarginMinutes: 3 } });
    const started = alerter.checkIn({ monitorSlug: 'kai-jobs-monitor', status: 'in_progress' });
    alerter.checkIn({ monitorSlug: 'kai-jobs-monitor', status: 'ok', checkInId: started, durationMs: 1500 });
    const failed = alerter.checkIn({ monitorSlug: 'kai-jobs-monitor', status: 'in_progress' });
    alerter.checkIn({ monitorSlug: 'kai-jobs-monitor', status: 'error', checkInId: failed, durationMs: 250 });
    const checkIns = await receiver.waitForCheckIns(4);
    const monitorConfig = {
      schedule: { type: 'interval', value: 1, unit: 'minute' },
      checkin_margin: 3,
      max_runtime: 5,
      timezone: 'UTC',
      failure_issue_threshold: 1,
      recovery_threshold: 1,
    };
    expect(started).not.toBe(failed);
    // Each run's ok/error follows its own in_progress (sent once that was answered); two runs may interleave.
    const ofRun = (id: string) => checkIns.filter((c) => c.check_in_id === id).map((c) => [c.status, c.duration]);
    expect(ofRun(started)).toEqual([
      ['in_progress', undefined],
      ['ok', 1.5],
    ]);
    expect(ofRun(failed)).toEqual([
      ['in_progress', undefined],
      ['error', 0.25],
    ]);
    for (const checkIn of checkIns) {
      expect(checkIn).toMatchObject({ monitor_slug: 'kai-jobs-monitor', environment: 'staging', monitor_config: monitorConfig });
    }
    expect(receiver.events).toEqual([]);
  });

  it('installs nothing global: no Sentry.init, no process handlers', async () => {
    const before = ['uncaughtException', 'unhandledRejection'].map((name) => process.listenerCount(name));
    alerter = new Alerter({ dsn: receiver.dsn });
    alerter.captureMessage('hello', 'info');
    await receiver.waitForEvents(1);
    expect(['uncaughtException', 'unhandledRejection'].map((name) => process.listenerCount(name))).toEqual(before);
    expect(Sentry.getClient()).toBeUndefined();
    expect(Sentry.isInitialized()).toBe(false);
  });
});
