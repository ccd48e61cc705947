import { afterEach, describe, expect, it } from 'vitest';
import { Alerter, captureException, captureMessage, installedAlerter, installProcessAlerter, parseSentryEnv, type ProcessAlerter } from '../src/index.js';
import { startSentryReceiver, type SentryReceiver } from '../src/testing.js';

// The process-wide alerter the entry points install: the module-level captures deliver to
// Sentry while it is installed and return null again once it is closed.
let receiver: SentryReceiver | undefined;
let alerts: ProcessAlerter | undefined;
afterEach(async () => {
  await alerts?.close();
  await receiver?.close();
  alerts = undefined;
  receiver = undefined;
});

describe('installProcessAlerter', () => {
  it('makes the module-level captureException and captureMessage deliver; close uninstalls', async () => {
    receiver = await startSentryReceiver();
    expect(captureException(new Error('before'))).toBeNull();
    alerts = installProcessAlerter({ service: 'kai-test', sentry: parseSentryEnv({ SENTRY_DSN: receiver.dsn, SENTRY_ENVIRONMENT: 'unit' }) });
    const id = captureException(new Error('disk full'), { tags: { function: 'scrape-session-manager' }, fingerprint: ['scraping-session-failed', 'https://a.example/'] });
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(captureMessage('hello', 'warning')).toMatch(/^[0-9a-f]{32}$/);
    await alerts.reportFatal(new Error('start failed'), { command: 'worker' });
    const events = await receiver.waitForEvents(3);
    expect(events[0]).toMatchObject({ event_id: id, tags: { function: 'scrape-session-manager' }, fingerprint: ['scraping-session-failed', 'https://a.example/'], environment: 'unit' });
    expect(events[1]).toMatchObject({ level: 'warning' });
    expect(events[2]).toMatchObject({ level: 'fatal', tags: { service: 'kai-test', command: 'worker' } });
    expect(events[2]?.exception?.values?.[0]?.value).toBe('start failed');
    await alerts.close();
    expect(installedAlerter()).toBeNull();
    expect(captureException(new Error('after'))).toBeNull();
  });

  it('shares an alerter the process already has and leaves it open on close', async () => {
    const own = new Alerter({});
    alerts = installProcessAlerter({ service: 'kai-monitor', alerter: own });
    expect(installedAlerter()).toBe(own);
    await alerts.close();
    expect(installedAlerter()).toBeNull();
    // Still usable by its owner (log-only without a DSN): close() was not called on it.
    expect(own.captureMessage('still open')).toMatch(/^[0-9a-f]{32}$/);
    await own.close();
  });

  it('parseSentryEnv: an empty DSN is none; a malformed DSN is refused when the alerter is built', () => {
    expect(parseSentryEnv({ SENTRY_DSN: '  ' })).toEqual({ dsn: undefined, environment: 'production', release: undefined });
    expect(() => installProcessAlerter({ service: 'x', sentry: parseSentryEnv({ SENTRY_DSN: 'not a url' }) })).toThrow(/SENTRY_DSN|DSN/);
    expect(installedAlerter()).toBeNull();
  });
});
