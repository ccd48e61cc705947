import {
  ConfigError,
  JOB_TYPES,
  jobCatalog,
  RedisConnectionOptionsSchema,
  StoreRetentionSchema,
  parseRedisUrl,
  type Clock,
  type JobType,
  type Logger,
  type StatusStore,
  silentLogger,
  systemClock,
} from '@kai-jobs/queue';
import { isIP } from 'node:net';
import { z } from 'zod';
import { isLoopbackHost } from './auth/loopback.js';
import { MONITOR_QUEUE } from '@kai-jobs/monitor';

/** Port the board listens on when none is configured (`BOARD_PORT`). */
export const DEFAULT_BOARD_PORT = 3000;
/** Address the board binds to when none is configured (`BOARD_HOST`): loopback only. */
export const DEFAULT_BOARD_HOST = '127.0.0.1';
/**
 * The BullMQ queue the monitor's scheduler runs on (the monitor's own constant). Its BullMQ
 * prefix is `<prefix>:{job-monitor}`, like every other queue's.
 */
export const MONITOR_QUEUE_NAME = MONITOR_QUEUE;

const HOUR_MS = 60 * 60 * 1000;

/** Whether the board asks for credentials. */
export const AuthMode = {
  /** Every route but the health checks needs credentials (the default). */
  On: 'on',
  /** No credentials; only allowed when the board is bound to a loopback address. */
  Off: 'off',
} as const;
/** One of {@link AuthMode}. */
export type AuthMode = (typeof AuthMode)[keyof typeof AuthMode];

/** Authentication options of the board. */
export const AuthOptionsSchema = z
  .object({
    /** `on` (default) or `off` (`BOARD_AUTH=off`; refused unless `host` is a loopback address). */
    mode: z.enum([AuthMode.On, AuthMode.Off]).default(AuthMode.On),
    /** HTTP basic auth user name (`BOARD_USERNAME`); needs `password`. Default none. */
    username: z.string().min(1).max(200).optional(),
    /** HTTP basic auth password (`BOARD_PASSWORD`); needs `username`. Default none. */
    password: z.string().min(1).max(1000).optional(),
    /** Bearer token (`BOARD_TOKEN`), for scripts and producers. Default none. */
    token: z.string().min(1).max(1000).optional(),
    /** Realm named in the `WWW-Authenticate` challenge. Default `kai-jobs board`. */
    realm: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[^"\\\r\n]+$/, { message: 'expected no quotes, backslashes or line breaks' })
      .default('kai-jobs board'),
    /** Failed attempts a client IP may make in a burst before it gets 429 (token-bucket size). Default 10. */
    maxFailures: z.number().int().min(1).max(10_000).default(10),
    /** One more failed attempt is allowed every this many ms after the burst (token refill). Default 6000 (10 a minute). */
    failureRefillMs: z.number().int().min(1).max(HOUR_MS).default(6000),
    /** Client IPs whose failures are remembered; beyond this the least recently seen are forgotten. Default 10 000. */
    maxTrackedClients: z.number().int().min(1).max(1_000_000).default(10_000),
  })
  .strict();
/** What callers pass as {@link BoardOptions.auth}. */
export type AuthOptionsInput = z.input<typeof AuthOptionsSchema>;
/** Resolved authentication options. */
export type AuthOptions = z.output<typeof AuthOptionsSchema>;

/** The thresholds that make a job "stuck right now" on the monitoring page (ms). */
const TypeThresholdsSchema = z
  .object({
    /** No heartbeat for this long (ms); null: the type has no heartbeat check. Default the catalog's. */
    heartbeatTimeoutMs: z.number().int().positive().nullable().optional(),
    /** No progress for this long (ms). Default the catalog's. */
    updateTimeoutMs: z.number().int().positive().optional(),
  })
  .strict();

/** Per job type thresholds; a type left out keeps the catalog's defaults. */
export const ThresholdsSchema = z
  .object(Object.fromEntries(JOB_TYPES.map((type) => [type, TypeThresholdsSchema.optional()])) as Record<
    JobType,
    z.ZodOptional<typeof TypeThresholdsSchema>
  >)
  .strict();

/** Resolved thresholds of one job type (ms). */
export interface TypeThresholds {
  heartbeatTimeoutMs: number | null;
  updateTimeoutMs: number;
}

/** Options of the monitoring page. */
export const MonitoringOptionsSchema = z
  .object({
    /** How far back the charts and the threshold advice look (ms). Default 24 h. */
    windowMs: z.number().int().min(60_000).max(14 * 24 * HOUR_MS).default(24 * HOUR_MS),
    /** Length of one chart point (ms, a multiple of 60 000). Default 1 h. */
    bucketMs: z
      .number()
      .int()
      .min(60_000)
      .refine((value) => value % 60_000 === 0, { message: 'expected a multiple of 60000 ms' })
      .default(HOUR_MS),
    /** The page reloads itself this often (ms). Default 15 000. */
    refreshIntervalMs: z.number().int().min(1000).max(HOUR_MS).default(15_000),
    /** Latest monitor decisions shown. Default 20. */
    recentDecisions: z.number().int().min(1).max(500).default(20),
    /** Stuck jobs shown per type. Default 50. */
    stuckLimit: z.number().int().min(1).max(1000).default(50),
    /** The monitor is "overdue" when its next tick is later than this (ms). Default 30 000. */
    overdueGraceMs: z.number().int().nonnegative().default(30_000),
  })
  .strict();
/** Resolved monitoring-page options. */
export type MonitoringOptions = z.output<typeof MonitoringOptionsSchema>;

/** `''` or `/segment[/segment…]`, without a trailing slash. */
const BasePathSchema = z
  .string()
  .max(200)
  .transform((value) => value.replace(/\/+$/, ''))
  .refine((value) => value === '' || /^(\/[A-Za-z0-9._~-]+)+$/.test(value), {
    message: 'expected "" or a path such as /ops (letters, digits, ".", "_", "~", "-")',
  });

/**
 * Why `trust proxy = true` is refused, and what to set instead. With `true` Express takes
 * the left-most `X-Forwarded-For` entry — which the client writes itself — as its address.
 */
export const TRUST_PROXY_TRUE_REFUSED =
  'BOARD_TRUST_PROXY=true is refused: it believes every X-Forwarded-For entry, and the left-most one is written by the client, ' +
  'so any client could pick the address the failure limit counts (guessing without limit, or locking another client out). ' +
  'Set the number of proxies in front of the board (BOARD_TRUST_PROXY=1 behind one reverse proxy) ' +
  'or their addresses (BOARD_TRUST_PROXY=10.0.0.5,10.1.0.0/16); leave it unset when clients connect directly';

/** Names Express (proxy-addr) accepts for well-known ranges of proxy addresses. */
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** True for an IP address, a CIDR with a non-zero prefix, or a proxy-addr range name. */
export function isProxyAddress(value: string): boolean {
  if (PROXY_RANGE_NAMES.has(value)) return true;
  const [address, prefix, ...rest] = value.split('/');
  if (rest.length > 0 || address === undefined) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  const bits = Number(prefix);
  // A /0 trusts every address: the same as `true`.
  return bits >= 1 && bits <= (family === 4 ? 32 : 128);
}

/** What {@link BoardOptionsSchema}'s `trustProxy` accepts. */
export const TrustProxySchema = z
  .union([
    z.boolean(),
    z.number().int().min(0).max(10),
    z
      .array(
        z.string().refine(isProxyAddress, {
          message: 'expected an IP address, a CIDR such as 10.0.0.0/8 (prefix 1 or more), or loopback/linklocal/uniquelocal',
        }),
      )
      .min(1)
      .max(100),
  ])
  .superRefine((value, ctx) => {
    if (value === true) ctx.addIssue({ code: 'custom', message: TRUST_PROXY_TRUE_REFUSED });
  });

/** Options of {@link createBoardApp}. */
export const BoardOptionsSchema = z
  .object({
    /** Redis URL (`REDIS_URL`), key prefix (`KAI_PREFIX`), connect timeout. Default `redis://127.0.0.1:6379`, `kai`. */
    redis: RedisConnectionOptionsSchema.prefault({}),
    /** Authentication; on by default, credentials required. */
    auth: AuthOptionsSchema.prefault({}),
    /** `BOARD_READ_ONLY`: Bull Board's read-only mode, and every mutation (enqueue included) answers 403. Default false. */
    readOnly: z.boolean().default(false),
    /** The address the board is served on (`BOARD_HOST`); auth `off` is refused unless it is a loopback address. Default `127.0.0.1`. */
    host: z.string().min(1).max(255).default(DEFAULT_BOARD_HOST),
    /** Where every route is mounted, e.g. `/ops` behind a reverse proxy. Default `''` (the root). */
    basePath: BasePathSchema.default(''),
    /**
     * Which `X-Forwarded-For` entries to believe (`BOARD_TRUST_PROXY`): the client IP that the
     * failure limiter counts and the origin check sees. `false` (default): none, the TCP peer
     * is the client; a hop count (1–10): the number of proxies in front of the board; or the
     * proxies' addresses/CIDRs. `true` is refused: see {@link TRUST_PROXY_TRUE_REFUSED}.
     */
    trustProxy: TrustProxySchema.default(false),
    /**
     * How long BullMQ keeps the jobs the enqueue API adds once they finished (ms;
     * `KAI_RETENTION_BULLMQ_COMPLETED`/`_FAILED`). Default: the job client's (1 day / 7 days).
     */
    finishedJobs: z
      .object({ completedMs: z.number().int().min(1000).optional(), failedMs: z.number().int().min(1000).optional() })
      .strict()
      .optional(),
    /** Retention of the default Redis store's rows and history (`KAI_RETENTION_FINISHED`, …). Default: the store's. */
    storeRetention: StoreRetentionSchema.partial().optional(),
    /** The job-status store. Default: the Redis store on the board's connection. */
    statusStore: z.custom<StatusStore>((value) => typeof value === 'object' && value !== null).optional(),
    /** Structured logger. Default silent. */
    logger: z.custom<Logger>((value) => typeof value === 'object' && value !== null).default(silentLogger),
    /** Clock for the charts' window and the failure limiter. Default the system clock. */
    clock: z.custom<Clock>((value) => typeof value === 'object' && value !== null).default(systemClock),
    /** Per type thresholds of "stuck right now". Default the catalog's. */
    thresholds: ThresholdsSchema.prefault({}),
    /** The monitoring page. */
    monitoring: MonitoringOptionsSchema.prefault({}),
  })
  .strict();
/** What callers pass to {@link createBoardApp}. */
export type BoardOptionsInput = z.input<typeof BoardOptionsSchema>;
/** Resolved board options. */
export type BoardOptions = z.output<typeof BoardOptionsSchema>;

/** Options of {@link startBoard}: the app's options and where to listen. */
export const StartBoardOptionsSchema = BoardOptionsSchema.extend({
  /** TCP port (`BOARD_PORT`); 0 picks a free one. Default 3000. */
  port: z.number().int().min(0).max(65_535).default(DEFAULT_BOARD_PORT),
  /** On close, requests still running after this long are cut (ms). Default 5000. */
  shutdownGraceMs: z.number().int().nonnegative().default(5000),
}).strict();
/** What callers pass to {@link startBoard}. */
export type StartBoardOptionsInput = z.input<typeof StartBoardOptionsSchema>;
/** Resolved {@link StartBoardOptionsInput}. */
export type StartBoardOptions = z.output<typeof StartBoardOptionsSchema>;

const CREDENTIALS_HELP =
  'set BOARD_USERNAME and BOARD_PASSWORD (HTTP basic auth) or BOARD_TOKEN (bearer token) — options auth.username/auth.password or auth.token';

function parseWith<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new ConfigError(`invalid board options: ${problems.join('; ')}`);
  }
  return result.data;
}

/**
 * Refuses configurations that would expose the board: credentials missing while auth is
 * on, half a basic-auth pair, or auth off on an address other hosts can reach.
 */
export function assertAuthConfig(auth: AuthOptions, host: string): void {
  if (auth.mode === AuthMode.Off) {
    if (!isLoopbackHost(host)) {
      throw new ConfigError(
        `BOARD_AUTH=off is only allowed when the board is bound to a loopback address, but BOARD_HOST is "${host}"; ` +
          `bind to 127.0.0.1 or ${CREDENTIALS_HELP}`,
      );
    }
    return;
  }
  const hasUser = auth.username !== undefined;
  const hasPassword = auth.password !== undefined;
  if (hasUser !== hasPassword) {
    throw new ConfigError(
      `HTTP basic auth needs both BOARD_USERNAME and BOARD_PASSWORD, but only ${hasUser ? 'BOARD_USERNAME' : 'BOARD_PASSWORD'} is set`,
    );
  }
  if (!hasUser && auth.token === undefined) {
    throw new ConfigError(
      `the board refuses to start without credentials: ${CREDENTIALS_HELP}; ` +
        'for a board bound to 127.0.0.1 only, BOARD_AUTH=off turns authentication off',
    );
  }
}

/** The thresholds of every type: the configured ones over the catalog's defaults. */
export function resolveThresholds(configured: z.output<typeof ThresholdsSchema>): Record<JobType, TypeThresholds> {
  return Object.fromEntries(
    JOB_TYPES.map((type) => {
      const defaults = jobCatalog[type].defaults;
      const own = configured[type] ?? {};
      return [
        type,
        {
          heartbeatTimeoutMs: own.heartbeatTimeoutMs === undefined ? defaults.heartbeatTimeoutMs : own.heartbeatTimeoutMs,
          updateTimeoutMs: own.updateTimeoutMs ?? defaults.updateTimeoutMs,
        },
      ];
    }),
  ) as Record<JobType, TypeThresholds>;
}

/** Parses board options; throws one {@link ConfigError} listing every problem, or refusing unsafe auth. */
export function parseBoardOptions(input: BoardOptionsInput = {}): BoardOptions {
  const parsed = parseWith(BoardOptionsSchema, input);
  parseRedisUrl(parsed.redis.url);
  assertAuthConfig(parsed.auth, parsed.host);
  return parsed;
}

/** Parses {@link startBoard}'s options, like {@link parseBoardOptions}. */
export function parseStartBoardOptions(input: StartBoardOptionsInput = {}): StartBoardOptions {
  const parsed = parseWith(StartBoardOptionsSchema, input);
  parseRedisUrl(parsed.redis.url);
  assertAuthConfig(parsed.auth, parsed.host);
  return parsed;
}
