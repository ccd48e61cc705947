import type { Logger } from '@kai-jobs/queue';
import type { Request, RequestHandler } from 'express';
import { isMutation } from './guards.js';

/** Why {@link crossOriginReason} refused a request, or null when it may proceed. */
export type CrossOriginVerdict = string | null;

/** `Sec-Fetch-Site` values of a request the board's own pages (or the user, typing) made. */
const SAME_ORIGIN_SITES = new Set(['same-origin', 'none']);

/**
 * Whether a mutating request comes from somewhere other than the board's own pages, judged
 * by what browsers send and pages cannot forge:
 *
 * - `Sec-Fetch-Site`, when present, must be `same-origin` or `none` (`same-site` is refused:
 *   another port or subdomain is another application);
 * - `Origin`, when present, must be the board's own origin — scheme and host as this request
 *   reached it (`X-Forwarded-*` count only when `trust proxy` is set); `Origin: null`
 *   (sandboxed frames, some redirects) is refused.
 *
 * With neither header the client is not a browser (curl, a producer's HTTP client): there is
 * no ambient credential to abuse, so it passes and authentication decides. Every browser
 * that can be made to send a cross-site request sends at least one of the two.
 */
export function crossOriginReason(req: Request): CrossOriginVerdict {
  const site = req.get('sec-fetch-site')?.trim().toLowerCase();
  if (site !== undefined && !SAME_ORIGIN_SITES.has(site)) {
    return `Sec-Fetch-Site is "${site}": changes are only accepted from the board's own pages`;
  }
  const origin = req.get('origin');
  if (origin === undefined) return null;
  const own = `${req.protocol}://${req.host}`.toLowerCase();
  if (origin.trim().toLowerCase() !== own) {
    return `Origin ${origin} is not the board's origin (${own}): changes are only accepted from the board's own pages`;
  }
  return null;
}

/**
 * CSRF protection for every mutating route (Bull Board's and the enqueue API's): a
 * request a page on another origin made the operator's browser send — with the browser's
 * remembered basic-auth credentials — is refused with 403 before any handler runs. Reads
 * (GET, HEAD, OPTIONS) are not affected. Together with JSON-only bodies (a cross-origin
 * JSON request needs a CORS preflight, which the board never grants) this stops both
 * form posts and `fetch` from other origins.
 */
export function sameOriginGuard(logger: Logger): RequestHandler {
  return (req, res, next) => {
    if (!isMutation(req.method)) {
      next();
      return;
    }
    const reason = crossOriginReason(req);
    if (reason === null) {
      next();
      return;
    }
    logger.warn('cross-origin change refused', { method: req.method, path: req.path, origin: req.get('origin'), site: req.get('sec-fetch-site') });
    res.status(403).json({ error: 'cross-origin request refused', message: reason });
  };
}
