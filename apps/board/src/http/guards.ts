import type { RequestHandler } from 'express';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Read-only mode: every request that could change something (any method but GET, HEAD,
 * OPTIONS) is refused with 403 — Bull Board's mutation routes and the enqueue API alike,
 * whatever the UI shows.
 */
export function readOnlyGuard(readOnly: boolean): RequestHandler {
  return (req, res, next) => {
    if (!readOnly || SAFE_METHODS.has(req.method)) {
      next();
      return;
    }
    res.status(403).json({ error: 'read-only', message: 'the board is read-only (BOARD_READ_ONLY=true): changes are refused' });
  };
}

/**
 * Bull Board mutations that would break kai-jobs' invariants, refused even when the board
 * is writable: adding a job (it would have no status row, so no worker could run it —
 * enqueue through `POST /api/jobs/:type`), and editing a job's data (the status row keeps
 * the validated payload; the two would disagree).
 */
export const unsupportedBullBoardMutations: RequestHandler = (req, res, next) => {
  if (req.method === 'POST' && /^\/api\/queues\/[^/]+\/add\/?$/.test(req.path)) {
    res.status(403).json({
      error: 'unsupported',
      message: 'jobs are added through POST /api/jobs/:type (validated, with a status row), not through Bull Board',
    });
    return;
  }
  if (req.method === 'PATCH' && /^\/api\/queues\/[^/]+\/[^/]+\/update-data\/?$/.test(req.path)) {
    res.status(403).json({ error: 'unsupported', message: "a job's data cannot be edited: its status row holds the validated payload" });
    return;
  }
  next();
};
