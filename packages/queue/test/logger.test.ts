import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/index.js';

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
    expect(line['apiKey']).toBe('[redacted]');
    expect((line['payload'] as Record<string, unknown>)['password']).toBe('[redacted]');
    expect(((line['payload'] as Record<string, Record<string, unknown>>)['source'] ?? {})['token']).toBe('[redacted]');
    expect(JSON.stringify(line)).not.toMatch(/hunter2|sk-1|abc/);
  });
});
