import { describe, expect, it } from 'vitest';
import { maskRedisUrl, parseRedisConnectionOptions, parseRedisUrl, statusKeys, toError } from '../src/index.js';

describe('parseRedisUrl', () => {
  it('parses host, port, db, credentials and TLS', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6379')).toEqual({ host: '127.0.0.1', port: 6379, db: 0, tls: false });
    expect(parseRedisUrl('rediss://user:p%40ss@cache.internal:6380/2')).toEqual({
      host: 'cache.internal',
      port: 6380,
      db: 2,
      username: 'user',
      password: 'p@ss',
      tls: true,
    });
    expect(parseRedisUrl('redis://localhost').port).toBe(6379);
  });

  it('refuses malformed URLs with a reason', () => {
    expect(() => parseRedisUrl('localhost:6379')).toThrow(/scheme "localhost"|not a URL/);
    expect(() => parseRedisUrl('127.0.0.1')).toThrow(/not a URL/);
    expect(() => parseRedisUrl('http://a:1')).toThrow(/scheme "http"/);
    expect(() => parseRedisUrl('redis://a:1/x')).toThrow(/database "x"/);
  });

  it('never shows a password', () => {
    expect(maskRedisUrl('redis://u:secret@h:1/0')).toBe('redis://u:***@h:1/0');
    expect(maskRedisUrl('redis://h:1')).toBe('redis://h:1');
    try {
      parseRedisUrl('http://u:secret@h:1');
    } catch (error) {
      expect(String(error)).not.toContain('secret');
    }
  });

  it('checks connection options as a whole', () => {
    expect(parseRedisConnectionOptions({}).prefix).toBe('kai');
    expect(() => parseRedisConnectionOptions({ prefix: 'a{b}' })).toThrow(/prefix/);
    expect(() => parseRedisConnectionOptions({ connectTimeoutMs: -1 })).toThrow(/connectTimeoutMs/);
  });
});

describe('keys', () => {
  it('hash-tags every key of a queue', () => {
    const keys = statusKeys('kai', 'pdf');
    expect(keys.row('j1')).toBe('kai:{pdf-processing}:status:j1');
    expect(keys.heartbeatIndex).toBe('kai:{pdf-processing}:status-idx:heartbeat');
    expect(statusKeys('p', 'xml-import').history('x')).toBe('p:{xml-import}:history:x');
  });
});

describe('toError', () => {
  it('normalises anything thrown', () => {
    const original = new Error('x');
    expect(toError(original)).toBe(original);
    expect(toError('text').message).toBe('text');
    expect(toError({ a: 1 }).message).toBe('{"a":1}');
  });
});
