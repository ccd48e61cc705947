import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, SCRUBBED } from '../src/index.js';
import { leakedSampleSecrets, SIGNED_URL_SAMPLES } from '../src/testing.js';

describe('createLogger', () => {
  it('writes JSON lines with child scopes and redacts secrets', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString());
        callback();
      },
    });
    const logger = createLogger({ destination, base: { service: 'test' } });
    const child = logger.child({ queue: 'pdf-processing', jobId: 'j1' });
    child.info('stage started', {
      stage: 'pdf_loaded',
      payload: { source: { url: 'https://x', token: 'abc' }, password: 'hunter2' },
      apiKey: 'sk-1',
    });
    await logger.flush();
    const line = JSON.parse(lines[0] as string) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'info', msg: 'stage started', service: 'test', queue: 'pdf-processing', jobId: 'j1' });
    expect(line['apiKey']).toBe(SCRUBBED);
    expect((line['payload'] as Record<string, unknown>)['password']).toBe(SCRUBBED);
    expect(((line['payload'] as Record<string, Record<string, unknown>>)['source'] ?? {})['token']).toBe(SCRUBBED);
    expect(JSON.stringify(line)).not.toMatch(/hunter2|sk-1|abc/);
  });

  it('scrubs signed URLs in the message, fields at any depth and child bindings, as Sentry events are', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString());
        callback();
      },
    });
    const logger = createLogger({ destination });
    for (const sample of SIGNED_URL_SAMPLES) {
      const child = logger.child({ sourceUrl: sample.url });
      child.warn(`fetch of ${sample.url} failed`, {
        error: new Error(`GET ${sample.url} answered 403`),
        deep: { a: { b: { c: { d: { e: { url: sample.url } } } } } },
        urls: [new URL(sample.url)],
        'X-Amz-Signature': 'header-signature-value',
      });
    }
    await logger.flush();
    expect(lines).toHaveLength(SIGNED_URL_SAMPLES.length);
    const text = lines.join('');
    expect(leakedSampleSecrets(text)).toEqual([]);
    expect(text).not.toContain('header-signature-value');
    // What is not secret stays readable.
    for (const sample of SIGNED_URL_SAMPLES) for (const kept of sample.kept) expect(text).toContain(kept);
  });
});
