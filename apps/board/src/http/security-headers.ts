import type { RequestHandler } from 'express';

/**
 * Headers every answer carries: no MIME sniffing, no referrer leaking job ids to other
 * sites, no framing (the board has buttons that change state: no clickjacking).
 */
export const securityHeaders: RequestHandler = (_req, res, next) => {
  res.set({
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
  });
  next();
};

/**
 * The monitoring page's Content-Security-Policy: it has no script and loads nothing, so
 * everything but inline style is refused — a value that slipped past escaping still could
 * not run or phone home.
 */
export const MONITORING_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
