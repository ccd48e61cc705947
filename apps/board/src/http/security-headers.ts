import type { RequestHandler } from 'express';

/**
 * The Content-Security-Policy of every answer but the monitoring page (which has its own,
 * stricter one): everything from the board itself and nothing from any other host. Bull
 * Board's bundle runs as `'self'` scripts (its inline `<script type="application/json">`
 * is data, not code); inline styles are allowed because its React components and its
 * loading placeholder set them. No `eval`, no plugins, no framing, forms post only here.
 */
export const BOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Headers every answer carries: the board's CSP, no MIME sniffing, no referrer leaking job
 * ids to other sites, no framing (the board has buttons that change state: no
 * clickjacking). A route with a stricter CSP overrides it.
 */
export const securityHeaders: RequestHandler = (_req, res, next) => {
  res.set({
    'Content-Security-Policy': BOARD_CSP,
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
