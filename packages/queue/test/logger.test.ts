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

  it('writes every key once per line: child bindings merge, the innermost value wins', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(...chunk.toString().split('\n').filter((line) => line !== ''));
        callback();
      },
    });
    const logger = createLogger({ destination, base: { service: 'worker', component: 'root' } });
    // What the runtime does: the worker binds workerId, the attempt binds it again, a store binds component.
    const worker = logger.child({ workerId: 'w-1', component: 'worker-runtime' });
    const attempt = worker.child({ queue: 'pdf-processing', jobId: 'j1', workerId: 'w-2' });
    const store = attempt.child({ component: 'buffered-status-store', monitorId: 'm-1' }).child({ monitorId: 'm-2' });
    store.info('progress written', { component: 'line-level', jobId: 'j1', stage: 'tiles_generated' });
    attempt.warn('attempt note', { workerId: 'w-3', msg: 'a field named msg', level: 'a field named level' });
    worker.error('plain');
    logger.info('root', { service: 'override' });
    await logger.flush();
    expect(lines).toHaveLength(4);
    const parsed = lines.map(parseStrictJson) as Record<string, unknown>[];
    expect(parsed[0]).toMatchObject({
      service: 'worker',
      component: 'line-level',
      workerId: 'w-2',
      monitorId: 'm-2',
      jobId: 'j1',
      queue: 'pdf-processing',
      stage: 'tiles_generated',
      msg: 'progress written',
      level: 'info',
    });
    expect(parsed[1]).toMatchObject({ workerId: 'w-3', msg: 'attempt note', level: 'warn', field_msg: 'a field named msg', field_level: 'a field named level' });
    expect(parsed[2]).toMatchObject({ workerId: 'w-1', component: 'worker-runtime', msg: 'plain', level: 'error' });
    expect(parsed[3]).toMatchObject({ service: 'override', component: 'root', msg: 'root' });
  });

  it('the strict parser used above rejects duplicate keys', () => {
    expect(() => parseStrictJson('{"a":1,"b":{"c":2,"c":3}}')).toThrow(/duplicate key "c"/);
    expect(parseStrictJson('{"a":[1,{"b":"x\\"y"}],"c":null,"d":-1.5e3,"e":true}')).toEqual({ a: [1, { b: 'x"y' }], c: null, d: -1500, e: true });
  });
});

/**
 * A strict JSON parser: like `JSON.parse`, but an object with the same key twice is an
 * error (as in Go's and Python's strict decoders), instead of the last value silently winning.
 */
function parseStrictJson(text: string): unknown {
  let at = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at ${at} in ${text.slice(0, 200)}`);
  };
  const space = (): void => {
    while (at < text.length && ' \t\n\r'.includes(text[at] as string)) at++;
  };
  const token = (pattern: RegExp): string => {
    pattern.lastIndex = at;
    const match = pattern.exec(text);
    if (match === null) return fail('unexpected token');
    at += match[0].length;
    return match[0];
  };
  const value = (): unknown => {
    space();
    const char = text[at];
    if (char === '{') {
      at++;
      const object: Record<string, unknown> = {};
      const seen = new Set<string>();
      space();
      if (text[at] === '}') {
        at++;
        return object;
      }
      for (;;) {
        space();
        const key = JSON.parse(token(/"(?:[^"\\]|\\.)*"/y)) as string;
        if (seen.has(key)) fail(`duplicate key "${key}"`);
        seen.add(key);
        space();
        token(/:/y);
        object[key] = value();
        space();
        if (token(/[,}]/y) === '}') return object;
      }
    }
    if (char === '[') {
      at++;
      const array: unknown[] = [];
      space();
      if (text[at] === ']') {
        at++;
        return array;
      }
      for (;;) {
        array.push(value());
        space();
        if (token(/[,\]]/y) === ']') return array;
      }
    }
    return JSON.parse(token(/"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y));
  };
  const result = value();
  space();
  if (at !== text.length) fail('trailing text');
  return result;
}
