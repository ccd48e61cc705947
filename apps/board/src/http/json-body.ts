import { toError } from '@kai-jobs/queue';
import express, { type Request, type RequestHandler, type Response } from 'express';
import { isMutation } from './guards.js';

/**
 * Deepest nesting of arrays and objects a request body may have. kai-jobs payloads nest a
 * handful of levels; anything near this is an attack on recursive code downstream (schema
 * validation, serialisers), which would otherwise end in a stack overflow and a 500.
 */
export const MAX_JSON_DEPTH = 64;

/** Media types a mutating request's body may have. */
export const JSON_MEDIA_TYPES = ['application/json', 'application/*+json'];

const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The deepest nesting of arrays and objects in JSON text, counted over its bytes without
 * parsing (brackets inside strings do not count). Stops counting once past `stopAbove`,
 * so a hostile body costs one linear scan at most. Malformed text gets a number too; the
 * parser then refuses it.
 */
export function jsonDepth(text: Uint8Array | string, stopAbove = Number.POSITIVE_INFINITY): number {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i += 1) {
    const byte = bytes[i];
    if (inString) {
      if (byte === BACKSLASH) i += 1;
      else if (byte === QUOTE) inString = false;
      continue;
    }
    if (byte === QUOTE) inString = true;
    else if (byte === OPEN_BRACKET || byte === OPEN_BRACE) {
      depth += 1;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > stopAbove) return deepest;
      }
    } else if (byte === CLOSE_BRACKET || byte === CLOSE_BRACE) depth -= 1;
  }
  return deepest;
}

/** The error a too-deep body raises inside the body parser (body-parser keeps `status` and `type`). */
class JsonTooDeepError extends Error {
  readonly status = 400;
  readonly type = 'entity.too.deep';
  constructor(maxDepth: number) {
    super(`the JSON body nests deeper than ${maxDepth} levels of arrays and objects`);
    this.name = 'JsonTooDeepError';
  }
}

/** Options of {@link createJsonBodyParser}. */
export interface JsonBodyOptions {
  /** Largest body parsed (bytes); larger answers 413. */
  limitBytes: number;
  /** Deepest nesting accepted; deeper answers 400. Default {@link MAX_JSON_DEPTH}. */
  maxDepth?: number;
}

/**
 * Express's JSON body parser with a size limit and a nesting limit checked on the raw
 * bytes before `JSON.parse` runs. Errors carry body-parser's `type`: `entity.too.large`,
 * `entity.too.deep`, `entity.parse.failed` (see {@link sendJsonBodyError}).
 */
export function createJsonBodyParser(options: JsonBodyOptions): RequestHandler {
  const maxDepth = options.maxDepth ?? MAX_JSON_DEPTH;
  return express.json({
    limit: options.limitBytes,
    type: JSON_MEDIA_TYPES,
    verify: (_req, _res, body) => {
      if (jsonDepth(body, maxDepth) > maxDepth) throw new JsonTooDeepError(maxDepth);
    },
  });
}

/**
 * Answers a body parser's error with a clear 4xx (true), or leaves it to the caller
 * (false, for errors that are not about the body).
 */
export function sendJsonBodyError(error: unknown, res: Response, limitBytes: number): boolean {
  const type = (error as { type?: unknown }).type;
  const message = toError(error).message;
  if (type === 'entity.too.deep') {
    res.status(400).json({ error: 'JSON too deep', message });
  } else if (type === 'entity.parse.failed') {
    res.status(400).json({ error: 'invalid JSON', message: `the body is not valid JSON: ${message}` });
  } else if (type === 'entity.too.large') {
    res.status(413).json({
      error: 'payload too large',
      message: `the body is larger than ${limitBytes} bytes; store large inputs in the blob store and pass a reference`,
    });
  } else if (type === 'charset.unsupported' || type === 'encoding.unsupported') {
    res.status(415).json({ error: 'unsupported media type', message });
  } else {
    return false;
  }
  return true;
}

/** True when the request carries a body (a length above 0, or a chunked one). */
function hasBody(req: Request): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && length !== '0';
}

/**
 * Every mutating request's body, for every route behind it (Bull Board's and the enqueue
 * API's): a body must be JSON — a form post or text answers 415, which also means a
 * cross-site page can only send one after a CORS preflight the board never grants — and
 * is parsed here, once, with the size and depth limits, before any router sees it (Bull
 * Board's own parser then finds it read and skips). Requests without a body pass: Bull
 * Board's buttons send PUTs with none.
 */
export function jsonBodyGuard(options: JsonBodyOptions): RequestHandler {
  const parse = createJsonBodyParser(options);
  return (req, res, next) => {
    if (!isMutation(req.method) || !hasBody(req)) {
      next();
      return;
    }
    if (!req.is(JSON_MEDIA_TYPES)) {
      res.status(415).json({
        error: 'unsupported media type',
        message: `a ${req.method} body must be JSON (Content-Type: application/json); got ${req.get('content-type') ?? 'no Content-Type'}`,
      });
      return;
    }
    parse(req, res, (error?: unknown) => {
      if (error === undefined) {
        next();
        return;
      }
      if (!sendJsonBodyError(error, res, options.limitBytes)) next(error);
    });
  };
}
