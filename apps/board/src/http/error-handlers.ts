import { toError, type Logger } from '@kai-jobs/queue';
import type { ErrorRequestHandler, RequestHandler } from 'express';

/** 404 for every path nothing answered. */
export const notFound: RequestHandler = (req, res) => {
  res.status(404).json({ error: 'not found', message: `no route ${req.method} ${req.path}` });
};

/** The last error handler: logs, and answers without internals (no stack traces to clients). */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      res.status(status).json({ error: 'bad request', message: toError(error).message });
      return;
    }
    logger.error('board request failed', { method: req.method, path: req.path, error: toError(error).message });
    res.status(500).json({ error: 'internal error', message: 'unexpected error; see the board log' });
  };
}
