import { createMemoryLogger } from '@kai-jobs/queue';
import { describe, expect, it } from 'vitest';
import { Alerter, captureException, captureMessage, installAlerter } from '../src/index.js';
import { scrapeRow, statusRow } from './fixtures/rows.js';

describe('Alerter without a DSN', () => {
  it('writes each alert to the structured log with the tags and fingerprint Sentry would get', async () => {
    const logger = createMemoryLogger();
    const alerter = new Alerter({ logger });
    expect(alerter.sendsToSentry).toBe(false);
    const outcome = await alerter.alert({ kind: 'stuck-job', row: statusRow(), reason: 'heartbeat_timeout', stuckForMs: 16 * 60_000 });
    expect(outcome).toMatchObject({ kind: 'stuck-job', status: 'logged', fingerprint: ['stuck-job', 'heartbeat_timeout'] });
    expect(outcome.eventId).toMatch(/^[0-9a-f]{32}$/);
    const line = logger.lines.find((l) => l.message.startsWith('alert:'));
    expect(line).toMatchObject({
      level: 'warn',
      message: 'alert: Stuck PDF job detected: job-1 (heartbeat_timeout)',
      fields: {
        component: 'alerter',
        sentry: 'not configured',
        alertKind: 'stuck-job',
        eventId: outcome.eventId,
        level: 'warning',
        tags: { job_id: 'job-1', document_id: 'doc-9', error_type: 'stuck_job', failure_reason: 'heartbeat_timeout' },
        fingerprint: ['stuck-job', 'heartbeat_timeout'],
      },
    });
    expect((line?.fields['contexts'] as Record<string, Record<string, unknown>>)['stuck_job']).toMatchObject({
      job_id: 'job-1',
      stuck_duration_ms: 16 * 60_000,
    });
    await alerter.close();
  });

  it('sends (logs) one alert per job, attempt and reason', async () => {
    const logger = createMemoryLogger();
    const alerter = new Alerter({ logger });
    const row = scrapeRow();
    const first = await alerter.alert({ kind: 'stuck-scraping-session', row, reason: 'update_timeout', stuckForMs: 1 });
    const again = await alerter.alert({ kind: 'stuck-scraping-session', row, reason: 'update_timeout', stuckForMs: 2 });
    const otherReason = await alerter.alert({ kind: 'stuck-scraping-session', row, reason: 'lost', stuckForMs: 2 });
    const nextAttempt = await alerter.alert({ kind: 'stuck-scraping-session', row, attempt: 2, reason: 'update_timeout', stuckForMs: 2 });
    expect([first.status, again.status, otherReason.status, nextAttempt.status]).toEqual(['logged', 'duplicate', 'logged', 'logged']);
    expect(again.eventId).toBeNull();
    expect(logger.lines.filter((l) => l.message.startsWith('alert:'))).toHaveLength(3);
    await alerter.close();
  });

  it('logs captureException and captureMessage, scrubbed, and the module-level functions use the installed alerter', async () => {
    const logger = createMemoryLogger();
    const alerter = new Alerter({ logger });
    expect(captureMessage('nobody listening')).toBeNull();
    const previous = installAlerter(alerter);
    try {
      const id = captureException(new Error('download of https://u:pw@x.example.com failed'), {
        tags: { function: 'fetcher' },
        extra: { apiKey: 'sk-live', page: 3 },
        fingerprint: ['fetch-failed'],
      });
      expect(id).toMatch(/^[0-9a-f]{32}$/);
      captureMessage('feed is empty', 'warning', { tags: { source_name: 'acme' } });
    } finally {
      installAlerter(previous);
    }
    const [error, warning] = logger.lines.filter((l) => l.message.startsWith('event:'));
    expect(error).toMatchObject({
      level: 'error',
      message: 'event: download of https://[scrubbed]@x.example.com failed',
      fields: { tags: { function: 'fetcher' }, extra: { apiKey: '[scrubbed]', page: 3 }, fingerprint: ['fetch-failed'] },
    });
    expect(JSON.stringify(error)).not.toMatch(/sk-live|pw@/);
    expect(warning).toMatchObject({ level: 'warn', message: 'event: feed is empty', fields: { tags: { source_name: 'acme' } } });
    await alerter.close();
  });

  it('sends anyway when the dedupe store fails or hangs (a duplicate beats a lost alert)', async () => {
    const logger = createMemoryLogger();
    const failing = new Alerter({ logger, dedupeStore: { claim: () => Promise.reject(new Error('store down')) } });
    expect((await failing.alert({ kind: 'stuck-job', row: statusRow(), reason: 'lost', stuckForMs: 1 })).status).toBe('logged');
    const hanging = new Alerter({ logger, dedupeTimeoutMs: 20, dedupeStore: { claim: () => new Promise<boolean>(() => undefined) } });
    expect((await hanging.alert({ kind: 'stuck-job', row: statusRow(), reason: 'lost', stuckForMs: 1 })).status).toBe('logged');
    expect(logger.lines.map((l) => l.message)).toEqual(
      expect.arrayContaining([
        'alert dedupe store failed; sending anyway',
        'alert dedupe store did not answer in time; sending anyway',
      ]),
    );
    await failing.close();
    await hanging.close();
  });
});

describe('Alerter options', () => {
  it('treats an empty DSN as none and refuses a malformed one without echoing it', async () => {
    const empty = new Alerter({ dsn: '' });
    expect(empty.sendsToSentry).toBe(false);
    await empty.close();
    for (const dsn of ['not a url', 'ftp://key@host/1', 'https://sentry.example.com/1', 'https://secretkey99@sentry.example.com/']) {
      let message = '';
      try {
        new Alerter({ dsn });
      } catch (error) {
        expect((error as Error).name).toBe('ConfigError');
        message = (error as Error).message;
      }
      expect(message).toContain('the Sentry DSN is not valid');
      expect(message).not.toContain('secretkey99');
    }
  });

  it('lists every bad option', () => {
    let message = '';
    try {
      new Alerter({ flushTimeoutMs: -1, crons: { intervalMinutes: 0 } } as never);
    } catch (error) {
      expect((error as Error).name).toBe('ValidationError');
      message = (error as Error).message;
    }
    expect(message).toContain('flushTimeoutMs');
    expect(message).toContain('crons.intervalMinutes');
  });
});
