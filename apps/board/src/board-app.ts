import { createPrometheusExporter, MetricsReader, MonitorStateStore } from '@kai-jobs/monitor';
import {
  bullPrefix,
  closeRedis,
  ConnectionRole,
  createJobClient,
  createRedisConnection,
  JOB_TYPES,
  jobCatalog,
  createJobStore,
  toError,
  waitForRedis,
  type Logger,
  type RedisClient,
} from '@kai-jobs/queue';
import { Queue } from 'bullmq';
import express, { Router, type Express, type RequestHandler } from 'express';
import { BODY_LIMIT_BYTES, createJobsApiRouter } from './api/jobs-api.js';
import { createAuthMiddleware } from './auth/auth-middleware.js';
import { createBullBoardRouter, type BoardQueue } from './bull-board.js';
import { MONITOR_QUEUE_NAME, parseBoardOptions, resolveThresholds, type BoardOptions, type BoardOptionsInput } from './config.js';
import { errorHandler, notFound } from './http/error-handlers.js';
import { createFontsRouter } from './http/board-fonts.js';
import { readOnlyGuard, unsupportedBullBoardMutations } from './http/guards.js';
import { createHealthRouter } from './http/health-routes.js';
import { jsonBodyGuard } from './http/json-body.js';
import { createMetricsRouter } from './http/metrics-route.js';
import { sameOriginGuard } from './http/same-origin-guard.js';
import { securityHeaders } from './http/security-headers.js';
import { createMonitoringRouter } from './monitoring/monitoring-route.js';

/** A board: the Express app and what it opened. */
export interface BoardApp {
  /** The Express 5 app; serve it with `app.listen` or mount it in another app. */
  readonly app: Express;
  /** The resolved options. */
  readonly options: BoardOptions;
  /** Resolves once Redis is ready; rejects with `RedisUnreachableError` after `redis.connectTimeoutMs`. */
  ready(): Promise<void>;
  /** Closes the queues and the Redis connection the board opened (idempotent). */
  close(): Promise<void>;
}

/** The display name and description of the monitor's queue on the board. */
const MONITOR_QUEUE_TEXT = {
  displayName: 'Monitor',
  description: "The monitor's scheduler: each tick finds stuck work and restarts or fails it.",
};

function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const startedAt = process.hrtime.bigint();
    res.on('finish', () => {
      const durationMs = Number(process.hrtime.bigint() - startedAt) / 1e6;
      logger.debug('request', { method: req.method, path: req.originalUrl.split('?')[0], status: res.statusCode, durationMs });
    });
    next();
  };
}

/** Logs the first error of an outage and its end, not every reconnect attempt. */
function watchConnection(connection: RedisClient, logger: Logger): void {
  let down = false;
  connection.on('error', (error: unknown) => {
    if (down) return;
    down = true;
    logger.warn('Redis connection lost; retrying', { error: toError(error).message });
  });
  connection.on('ready', () => {
    if (!down) return;
    down = false;
    logger.info('Redis connection restored');
  });
}

/**
 * Creates the board: Bull Board over the three job queues and `job-monitor`, the
 * monitoring page, `/metrics`, the enqueue API and the health checks, every route but the
 * health checks behind authentication. Throws `ConfigError` at once for unusable options
 * — credentials missing, or auth off on an address that is not loopback.
 */
export function createBoardApp(input: BoardOptionsInput = {}): BoardApp {
  const options = parseBoardOptions(input);
  const { logger, clock, redis } = options;
  const connection = createRedisConnection(redis, { role: ConnectionRole.Producer, connectionName: 'kai-board' });
  watchConnection(connection, logger);
  // KAI_RETENTION_*: what the default store keeps, and how long BullMQ keeps the jobs enqueued here.
  const statusStore =
    options.statusStore ??
    createJobStore({ kind: 'redis', connection, prefix: redis.prefix, ...(options.storeRetention === undefined ? {} : { retention: options.storeRetention }) });
  const client = createJobClient({ redis, connection, statusStore, logger, clock, ...(options.finishedJobs === undefined ? {} : { finishedJobs: options.finishedJobs }) });
  const monitorQueue = new Queue(MONITOR_QUEUE_NAME, { connection, prefix: bullPrefix(redis.prefix, MONITOR_QUEUE_NAME) });
  monitorQueue.on('error', (error) => logger.debug('monitor queue error', { error: error.message }));
  const reader = new MetricsReader({ connection, prefix: redis.prefix, clock });
  const exporter = createPrometheusExporter({ reader, clock });
  const monitorState = new MonitorStateStore({ connection, prefix: redis.prefix });
  const queues: BoardQueue[] = [
    ...JOB_TYPES.map((type) => ({
      queue: client.queue(type),
      displayName: jobCatalog[type].displayName,
      description: jobCatalog[type].description,
    })),
    { queue: monitorQueue, ...MONITOR_QUEUE_TEXT },
  ];

  const routes = Router();
  routes.use(requestLog(logger));
  routes.use(securityHeaders);
  routes.use(createHealthRouter({ connection, logger, timeoutMs: Math.min(redis.connectTimeoutMs, 2000) }));
  // Everything below needs credentials.
  routes.use(createAuthMiddleware({ auth: options.auth, logger, clock }));
  // Mutations: from the board's own pages or a non-browser client only (CSRF), refused
  // outright when read-only, and with a JSON body (size and depth limited) or none.
  routes.use(sameOriginGuard(logger));
  routes.use(readOnlyGuard(options.readOnly));
  routes.use(jsonBodyGuard({ limitBytes: BODY_LIMIT_BYTES }));
  routes.use(createFontsRouter());
  routes.use(
    createMonitoringRouter(
      { reader, statusStore, monitorState, clock, thresholds: resolveThresholds(options.thresholds), options: options.monitoring },
      { basePath: options.basePath, refreshIntervalMs: options.monitoring.refreshIntervalMs, readOnly: options.readOnly },
      logger,
    ),
  );
  routes.use(createMetricsRouter(exporter, logger));
  routes.use(createJobsApiRouter({ client, logger, basePath: options.basePath }));
  routes.use(unsupportedBullBoardMutations());
  routes.use(
    createBullBoardRouter({
      queues,
      readOnly: options.readOnly,
      basePath: options.basePath,
      historyOf: (jobId, limit) => statusStore.history(jobId, limit),
      logger,
    }),
  );
  routes.use(notFound);

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', options.trustProxy);
  app.use(options.basePath === '' ? '/' : options.basePath, routes);
  app.use(notFound);
  app.use(errorHandler(logger));

  let closing: Promise<void> | undefined;
  return {
    app,
    options,
    ready: () => waitForRedis(connection, redis.url, redis.connectTimeoutMs),
    close() {
      closing ??= (async () => {
        await Promise.all([client.close(), monitorQueue.close()]);
        await closeRedis(connection);
      })();
      return closing;
    },
  };
}
