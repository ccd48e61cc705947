import { Router, type RequestHandler } from 'express';

/** Methods that change nothing; every other method is a mutation. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** True when `method` (any letter case) may change state. */
export function isMutation(method: string): boolean {
  return !SAFE_METHODS.has(method.toUpperCase());
}

/**
 * The form of a request path that route checks compare against: percent-encoding decoded
 * (per segment, so `%2F` cannot invent a segment), lower-cased, runs of slashes collapsed,
 * the trailing slash dropped. Express matches routes case-insensitively and without regard
 * to a trailing slash, so a guard comparing the raw `req.path` would miss `/API/QUEUES/x/ADD`
 * while Bull Board still answers it.
 */
export function normaliseRoutePath(path: string): string {
  const segments = path.split('/').filter((segment) => segment !== '');
  const decoded = segments.map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      // Malformed escapes stay as they are: such a path matches no route anyway.
      return segment;
    }
  });
  return `/${decoded.join('/')}`.toLowerCase();
}

/**
 * Read-only mode: every request that could change something (any method but GET, HEAD,
 * OPTIONS) is refused with 403 — Bull Board's mutation routes and the enqueue API alike,
 * whatever the UI shows.
 */
export function readOnlyGuard(readOnly: boolean): RequestHandler {
  return (req, res, next) => {
    if (!readOnly || !isMutation(req.method)) {
      next();
      return;
    }
    res.status(403).json({ error: 'read-only', message: 'the board is read-only (BOARD_READ_ONLY=true): changes are refused' });
  };
}

const ADD_JOB_MESSAGE = 'jobs are added through POST /api/jobs/:type (validated, with a status row), not through Bull Board';
const EDIT_DATA_MESSAGE = "a job's data cannot be edited: its status row holds the validated payload";

/** Bull Board's own routes for the two refused mutations (as `@bull-board/api` 9.x declares them). */
const ADD_JOB_ROUTE = '/api/queues/:queueName/add';
const EDIT_DATA_ROUTE = '/api/queues/:queueName/:jobId/update-data';

/** The same two routes over {@link normaliseRoutePath}'s output: any spelling Express could route there. */
const ADD_JOB_PATTERN = /^\/api\/queues\/[^/]+\/add$/;
const EDIT_DATA_PATTERN = /^\/api\/queues\/[^/]+\/[^/]+\/update-data$/;

/**
 * Bull Board mutations that would break kai-jobs' invariants, refused even when the board
 * is writable: adding a job (it would have no status row, so no worker could run it —
 * enqueue through `POST /api/jobs/:type`), and editing a job's data (the status row keeps
 * the validated payload; the two would disagree).
 *
 * Two layers, so no spelling gets through: the routes are declared with Bull Board's own
 * patterns on an Express router, which matches exactly what Bull Board's router would
 * (same matcher, same case-insensitivity and trailing-slash rules); and every other request
 * is compared after {@link normaliseRoutePath}, so percent-encoded letters and doubled
 * slashes are refused too, whether or not a later router would route them.
 */
export function unsupportedBullBoardMutations(): Router {
  const router = Router();
  router.post(ADD_JOB_ROUTE, (_req, res) => {
    res.status(403).json({ error: 'unsupported', message: ADD_JOB_MESSAGE });
  });
  router.patch(EDIT_DATA_ROUTE, (_req, res) => {
    res.status(403).json({ error: 'unsupported', message: EDIT_DATA_MESSAGE });
  });
  router.use((req, res, next) => {
    const method = req.method.toUpperCase();
    const path = normaliseRoutePath(req.path);
    if (method === 'POST' && ADD_JOB_PATTERN.test(path)) {
      res.status(403).json({ error: 'unsupported', message: ADD_JOB_MESSAGE });
      return;
    }
    if (method === 'PATCH' && EDIT_DATA_PATTERN.test(path)) {
      res.status(403).json({ error: 'unsupported', message: EDIT_DATA_MESSAGE });
      return;
    }
    next();
  });
  return router;
}
