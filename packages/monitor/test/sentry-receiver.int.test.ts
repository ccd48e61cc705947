import { request } from 'node:http';
import { deflateSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Alerter } from '../src/index.js';
import { parseEnvelope, startSentryReceiver, type SentryReceiver } from '../src/testing.js';

function post(port: number, path: string, body: Buffer, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('startSentryReceiver', () => {
  let receiver: SentryReceiver;
  beforeEach(async () => {
    receiver = await startSentryReceiver();
  });
  afterEach(async () => {
    await receiver.close();
  });

  it('parses a gzip-encoded envelope from the SDK (events over 32 KiB are compressed)', async () => {
    const alerter = new Alerter({ dsn: receiver.dsn });
    const bulky = 'x'.repeat(40_000);
    alerter.captureMessage('large', 'info', { extra: { bulky } });
    const [event] = await receiver.waitForEvents(1);
    await alerter.close();
    expect(receiver.envelopes[0]?.encoding).toBe('gzip');
    expect(event?.extra?.['bulky']).toBe(bulky);
  });

  it('parses deflate bodies, length-prefixed and newline-delimited items, and auth from the header', async () => {
    const event = JSON.stringify({ event_id: 'e1', message: 'line\nbreak inside' });
    const checkIn = JSON.stringify({ check_in_id: 'c1', monitor_slug: 'm', status: 'ok' });
    const envelope = Buffer.from(
      `{"event_id":"e1"}\n{"type":"event","length":${Buffer.byteLength(event)}}\n${event}\n{"type":"check_in"}\n${checkIn}\n`,
    );
    const status = await post(receiver.port, '/api/42/envelope/', deflateSync(envelope), {
      'content-encoding': 'deflate',
      'x-sentry-auth': 'Sentry sentry_version=7, sentry_key=abc123, sentry_client=test',
    });
    expect(status).toBe(200);
    expect(receiver.envelopes[0]).toMatchObject({ projectId: '42', publicKey: 'abc123', encoding: 'deflate', header: { event_id: 'e1' } });
    expect(receiver.events).toEqual([{ event_id: 'e1', message: 'line\nbreak inside' }]);
    expect(receiver.checkIns).toEqual([{ check_in_id: 'c1', monitor_slug: 'm', status: 'ok' }]);
  });

  it('refuses other paths and unparsable bodies, recording why', async () => {
    expect(await post(receiver.port, '/api/1/store/', Buffer.from('{}'), {})).toBe(404);
    expect(await post(receiver.port, '/api/1/envelope/', Buffer.from('not json'), {})).toBe(400);
    expect(receiver.errors).toHaveLength(2);
    expect(receiver.envelopes).toEqual([]);
    await expect(receiver.waitForEvents(1, 50)).rejects.toThrow('expected 1 events within 50 ms, received 0');
  });

  it('exposes the envelope parser for raw bodies', () => {
    const parsed = parseEnvelope(Buffer.from('{"dsn":"x"}\n{"type":"attachment","length":3}\nabc\n'));
    expect(parsed).toEqual({ header: { dsn: 'x' }, items: [{ header: { type: 'attachment', length: 3 }, payload: 'abc' }] });
  });
});
