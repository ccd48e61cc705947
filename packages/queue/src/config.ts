import { z } from 'zod';
import { ConfigError } from './errors.js';

/** The Redis URL used when none is configured. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
/** The key prefix used when none is configured. */
export const DEFAULT_KEY_PREFIX = 'kai';

/** A key prefix: letters, digits, `_`, `-`, `:`, `.`; no braces (kai-jobs adds the hash tags). */
export const KeyPrefixSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_.:-]+$/, { message: 'expected letters, digits, "_", "-", ":" or "." (no braces)' });

/** Options shared by everything that talks to Redis. */
export const RedisConnectionOptionsSchema = z
  .object({
    /** `redis://[user:password@]host[:port][/db]` or `rediss://…`. Default `redis://127.0.0.1:6379`. */
    url: z.string().default(DEFAULT_REDIS_URL),
    /** Extra seed nodes (`host:port`) for a Redis Cluster; when set, `url` names one of them. */
    clusterNodes: z.array(z.string()).default([]),
    /** Key prefix of every key kai-jobs writes. Default `kai`. */
    prefix: KeyPrefixSchema.default(DEFAULT_KEY_PREFIX),
    /** How long to wait for Redis before giving up with an error naming the URL (ms). Default 5000. */
    connectTimeoutMs: z.number().int().positive().default(5000),
  })
  .strict();
/** What callers pass to describe a Redis connection. */
export type RedisConnectionOptionsInput = z.input<typeof RedisConnectionOptionsSchema>;
/** Resolved Redis connection options. */
export type RedisConnectionOptions = z.output<typeof RedisConnectionOptionsSchema>;

/** A Redis URL split into what ioredis needs. */
export interface ParsedRedisUrl {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
}

/**
 * Parses and checks a Redis URL; throws {@link ConfigError} saying what is wrong, so a
 * malformed `REDIS_URL` stops the process at start instead of failing later.
 */
export function parseRedisUrl(url: string): ParsedRedisUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`Redis URL "${maskRedisUrl(url)}" is not a URL; expected redis://host:port[/db]`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new ConfigError(
      `Redis URL "${maskRedisUrl(url)}" has scheme "${parsed.protocol.replace(/:$/, '')}"; expected redis:// or rediss://`,
    );
  }
  if (parsed.hostname === '') {
    throw new ConfigError(`Redis URL "${maskRedisUrl(url)}" has no host; expected redis://host:port[/db]`);
  }
  const port = parsed.port === '' ? 6379 : Number(parsed.port);
  const dbPath = parsed.pathname.replace(/^\//, '');
  if (dbPath !== '' && !/^\d+$/.test(dbPath)) {
    throw new ConfigError(`Redis URL "${maskRedisUrl(url)}" has database "${dbPath}"; expected a number`);
  }
  const result: ParsedRedisUrl = {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port,
    db: dbPath === '' ? 0 : Number(dbPath),
    tls: parsed.protocol === 'rediss:',
  };
  if (parsed.username !== '') result.username = decodeURIComponent(parsed.username);
  if (parsed.password !== '') result.password = decodeURIComponent(parsed.password);
  return result;
}

/** The URL with its password replaced by `***`, safe for logs and error messages. */
export function maskRedisUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@/]*@/, '$1***@');
}

/** Parses connection options; throws one {@link ConfigError} listing every problem. */
export function parseRedisConnectionOptions(input: RedisConnectionOptionsInput = {}): RedisConnectionOptions {
  const result = RedisConnectionOptionsSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new ConfigError(`invalid Redis connection options: ${problems.join('; ')}`);
  }
  parseRedisUrl(result.data.url);
  return result.data;
}
