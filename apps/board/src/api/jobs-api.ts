import {
  DEFAULT_MAX_PAYLOAD_BYTES,
  hasErrorCode,
  IdSchema,
  isJobType,
  JOB_TYPES,
  QueueErrorCode,
  toError,
  ValidationError,
  type JobClient,
  type Logger,
} from '@kai-jobs/queue';
import { Router, type ErrorRequestHandler, type Response } from 'express';
import { createJsonBodyParser, JSON_MEDIA_TYPES, sendJsonBodyError } from '../http/json-body.js';

/** What {@link createJobsApiRouter} needs. */
export interface JobsApiDeps {
  client: JobClient;
  logger: Logger;
  /** The board's base path, for `Location` headers. */
  basePath: string;
}

/** Bodies up to this size are parsed; the client's own check then gives the precise 400 (bytes). */
export const BODY_LIMIT_BYTES = 2 * DEFAULT_MAX_PAYLOAD_BYTES;

function sendError(res: Response, status: number, error: string, message: string, extra: Record<string, unknown> = {}): void {
  res.status(status).json({ error, message, ...extra });
}

/** Sends the right answer for a failed client call: 400 for bad input, 503 when Redis is away, else 500. */
function sendClientError(res: Response, logger: Logger, error: unknown, what: string): void {
  if (error instanceof ValidationError || hasErrorCode(error, QueueErrorCode.Validation)) {
    const headerOf: Record<string, string> = { 'options.idempotencyKey': 'Idempotency-Key (header)', 'options.jobId': 'Job-Id (header)' };
    const issues = (error as ValidationError).issues.map((issue) =>
      headerOf[issue.path] === undefined ? issue : { ...issue, path: headerOf[issue.path] },
    );
    sendError(res, 400, 'validation failed', `${what}: ${issues.length} invalid field${issues.length === 1 ? '' : 's'}`, { issues });
    return;
  }
  if (hasErrorCode(error, QueueErrorCode.RedisUnreachable) || hasErrorCode(error, QueueErrorCode.Store)) {
    logger.warn('enqueue API: store unavailable', { what, error: toError(error).message });
    res.set('Retry-After', '5');
    sendError(res, 503, 'unavailable', 'the job store is unreachable; retry with the same Idempotency-Key');
    return;
  }
  logger.error('enqueue API: unexpected error', { what, error: toError(error).message });
  sendError(res, 500, 'internal error', 'unexpected error; see the board log');
}

/**
 * The HTTP enqueue API for producers that cannot reach Redis: `POST /api/jobs/:type` with
 * the payload as the JSON body (validated by the catalog's schema through the job client,
 * `Idempotency-Key` header → idempotency key, `Job-Id` header → the job's id, e.g. the
 * platform row it runs as), `GET /api/jobs/:id` for the merged status.
 */
export function createJobsApiRouter(deps: JobsApiDeps): Router {
  const { client, logger } = deps;
  const router = Router();
  // The board parses mutating bodies once, before any router (json-body.ts); this parser
  // (same limits) only reads a body that is still unread, for the router used on its own.
  const parseJson = createJsonBodyParser({ limitBytes: BODY_LIMIT_BYTES });

  router.post('/api/jobs/:type', (req, res, next) => {
    const type = req.params.type;
    if (!isJobType(type)) {
      sendError(res, 404, 'unknown job type', `no job type "${type}"; expected one of ${JOB_TYPES.join(', ')}`, {
        types: JOB_TYPES,
      });
      return;
    }
    if (!req.is(JSON_MEDIA_TYPES)) {
      sendError(res, 415, 'unsupported media type', 'send the payload as JSON with Content-Type: application/json');
      return;
    }
    parseJson(req, res, (parseError?: unknown) => {
      if (parseError !== undefined) {
        next(parseError);
        return;
      }
      const idempotencyKey = req.get('idempotency-key');
      // Job-Id: the platform row this job runs as (its scraping_sessions / data_import_jobs id).
      const jobId = req.get('job-id');
      const options = { ...(idempotencyKey === undefined ? {} : { idempotencyKey }), ...(jobId === undefined ? {} : { jobId }) };
      client.enqueue(type, req.body, options).then(
        (job) => {
          if (!job.created) res.set('Idempotent-Replayed', 'true');
          res.location(`${deps.basePath}/api/jobs/${encodeURIComponent(job.id)}`);
          res.status(201).json({ id: job.id, type: job.type, created: job.created });
        },
        (error: unknown) => sendClientError(res, logger, error, `${type} job`),
      );
    });
  });

  router.get('/api/jobs/:id', (req, res) => {
    const id = req.params.id;
    if (!IdSchema.safeParse(id).success) {
      sendError(res, 404, 'not found', 'no such job');
      return;
    }
    client.getStatus(id).then(
      (status) => {
        if (status === null) {
          sendError(res, 404, 'not found', `no job ${id}`);
          return;
        }
        // The fence token is the running attempt's write credential: no use to a reader.
        const { fence: _fence, ...row } = status.row;
        res.json({ row, bullmq: status.bullmq });
      },
      (error: unknown) => sendClientError(res, logger, error, `status of job ${id}`),
    );
  });

  const bodyErrors: ErrorRequestHandler = (error: unknown, _req, res, next) => {
    if (!sendJsonBodyError(error, res, BODY_LIMIT_BYTES)) next(error);
  };
  router.use('/api/jobs', bodyErrors);
  return router;
}
