import { describe, expect, it } from 'vitest';
import { maskRedisUrl, parseClusterNodes, parseRedisConnectionOptions, parseRedisUrl, splitClusterNode, statusKeys, toError } from '../src/index.js';

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

describe('Redis Cluster options', () => {
  it('parses REDIS_CLUSTER_NODES: comma- or space-separated host:port, blank means no cluster', () => {
    expect(parseClusterNodes('127.0.0.1:7101,127.0.0.1:7102, cache-3.internal:6379')).toEqual([
      '127.0.0.1:7101',
      '127.0.0.1:7102',
      'cache-3.internal:6379',
    ]);
    expect(parseClusterNodes('[::1]:7000 [fd00::5]:7001')).toEqual(['[::1]:7000', '[fd00::5]:7001']);
    expect(parseClusterNodes(undefined)).toEqual([]);
    expect(parseClusterNodes('  ')).toEqual([]);
  });

  it('refuses a malformed node, naming the variable and the entry', () => {
    expect(() => parseClusterNodes('127.0.0.1:7101,127.0.0.1')).toThrow(/REDIS_CLUSTER_NODES: "127.0.0.1" is not host:port/);
    expect(() => parseClusterNodes('redis://h:1')).toThrow(/"redis:\/\/h:1"/);
    expect(() => parseClusterNodes('h:70000')).toThrow(/"h:70000"/);
    expect(() => parseRedisConnectionOptions({ clusterNodes: ['h'] })).toThrow(/clusterNodes.0: expected host:port/);
  });

  it('splits a node into host and port, IPv6 brackets removed', () => {
    expect(splitClusterNode('10.0.0.5:6380')).toEqual({ host: '10.0.0.5', port: 6380 });
    expect(splitClusterNode('[::1]:7000')).toEqual({ host: '::1', port: 7000 });
  });

  it('refuses a database other than 0 on a cluster', () => {
    expect(() => parseRedisConnectionOptions({ url: 'redis://h:1/2', clusterNodes: ['h:2'] })).toThrow(
      /url: a Redis Cluster has only database 0; the URL asks for database 2/,
    );
    expect(parseRedisConnectionOptions({ url: 'redis://h:1/2' }).clusterNodes).toEqual([]);
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
