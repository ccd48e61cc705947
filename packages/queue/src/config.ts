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

/** The environment variable naming the seed nodes of a Redis Cluster (read by entry points only). */
export const REDIS_CLUSTER_NODES_VARIABLE = 'REDIS_CLUSTER_NODES';

/** `host:port` or `[ipv6]:port` of one Redis Cluster node. */
const CLUSTER_NODE = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$/;

/** One Redis Cluster seed node: `host:port` (`[ipv6]:port` for IPv6), port 1–65535. */
export const ClusterNodeSchema = z.string().refine(
  (node) => {
    const match = CLUSTER_NODE.exec(node);
    return match !== null && Number(match[2]) >= 1 && Number(match[2]) <= 65_535;
  },
  { message: 'expected host:port (e.g. 10.0.0.5:6379, [::1]:6379)' },
);

/** Options shared by everything that talks to Redis. */
export const RedisConnectionOptionsSchema = z
  .object({
    /** `redis://[user:password@]host[:port][/db]` or `rediss://…`. Default `redis://127.0.0.1:6379`. */
    url: z.string().default(DEFAULT_REDIS_URL),
    /**
     * Seed nodes (`host:port`) of a Redis Cluster. Empty (the default): `url` is a single Redis.
     * Set: kai-jobs opens a cluster client seeded with `url`'s node and these; the URL still
     * gives the credentials and TLS, and its database must be 0.
     */
    clusterNodes: z.array(ClusterNodeSchema).default([]),
    /** Key prefix of every key kai-jobs writes. Default `kai`. */
    prefix: KeyPrefixSchema.default(DEFAULT_KEY_PREFIX),
    /** How long to wait for Redis before giving up with an error naming the URL (ms). Default 5000. */
    connectTimeoutMs: z.number().int().positive().default(5000),
  })
  .strict()
  .superRefine((options, context) => {
    if (options.clusterNodes.length === 0) return;
    let db: number;
    try {
      db = parseRedisUrl(options.url).db;
    } catch {
      return; // a malformed URL is reported by parseRedisUrl where the URL is used
    }
    if (db !== 0) {
      context.addIssue({ code: 'custom', path: ['url'], message: `a Redis Cluster has only database 0; the URL asks for database ${db}` });
    }
  });
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

/** A cluster node split into host and port (brackets of an IPv6 host removed). */
export function splitClusterNode(node: string): { host: string; port: number } {
  const match = CLUSTER_NODE.exec(node);
  if (match === null) throw new ConfigError(`Redis Cluster node "${node}" is not host:port`);
  return { host: (match[1] as string).replace(/^\[|\]$/g, ''), port: Number(match[2]) };
}

/**
 * Parses the value of `REDIS_CLUSTER_NODES` (comma- or space-separated `host:port`s) into
 * `clusterNodes`; unset or blank gives `[]` (no cluster). Throws {@link ConfigError} naming
 * each malformed entry, so a typo stops the process at start.
 */
export function parseClusterNodes(value: string | undefined, variable: string = REDIS_CLUSTER_NODES_VARIABLE): string[] {
  const nodes = (value ?? '').split(/[\s,]+/).filter((node) => node !== '');
  const bad = nodes.filter((node) => !ClusterNodeSchema.safeParse(node).success);
  if (bad.length > 0) {
    throw new ConfigError(`${variable}: ${bad.map((node) => `"${node}"`).join(', ')} is not host:port (expected e.g. 10.0.0.5:6379,10.0.0.6:6379)`);
  }
  return nodes;
}
