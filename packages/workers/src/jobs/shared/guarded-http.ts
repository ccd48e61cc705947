import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { systemClock, toError, type Clock } from '@kai-jobs/queue';
import { FetchFailureReason, HttpFetchError, isHttpFetchError } from './errors.js';
import type { GuardedTarget, UrlGuard } from './url-guard.js';

/** Keep-alive agents shared by the requests of one job (closed with {@link closeAgents}). */
export interface HttpAgents {
  http: http.Agent;
  https: https.Agent;
}

/** Creates keep-alive agents allowing `maxSocketsPerHost` parallel connections per host. */
export function createAgents(maxSocketsPerHost: number): HttpAgents {
  return {
    http: new http.Agent({ keepAlive: true, maxSockets: maxSocketsPerHost }),
    https: new https.Agent({ keepAlive: true, maxSockets: maxSocketsPerHost }),
  };
}

/** Closes the agents' sockets. */
export function closeAgents(agents: HttpAgents): void {
  agents.http.destroy();
  agents.https.destroy();
}

/** A deadline for one request, body included: its signal aborts when the time is up or `outer` aborts. */
export interface Deadline {
  readonly signal: AbortSignal;
  /** True when the deadline (not the outer signal) aborted the request. */
  timedOut(): boolean;
  /** Stops the timer; call when the request is done. */
  dispose(): void;
}

/** Starts a {@link Deadline} of `timeoutMs` on `clock`. */
export function startDeadline(outer: AbortSignal, timeoutMs: number, clock: Clock = systemClock): Deadline {
  const controller = new AbortController();
  const stopTimer = new AbortController();
  let expired = false;
  clock.sleep(timeoutMs, stopTimer.signal).then(
    () => {
      expired = true;
      controller.abort(new Error(`timed out after ${timeoutMs} ms`));
    },
    () => undefined,
  );
  const onOuterAbort = (): void => controller.abort(outer.reason);
  if (outer.aborted) onOuterAbort();
  else outer.addEventListener('abort', onOuterAbort, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => expired,
    dispose() {
      stopTimer.abort();
      outer.removeEventListener('abort', onOuterAbort);
    },
  };
}

/** Options of {@link guardedRequest}. */
export interface GuardedRequestOptions {
  guard: UrlGuard;
  /** Redirects followed at most; one more is a `too_many_redirects` failure. */
  maxRedirects: number;
  /** Aborts the request (and its body). Use a {@link Deadline}'s signal for a timeout. */
  signal: AbortSignal;
  headers?: Record<string, string>;
  agents?: HttpAgents;
}

/** A response whose body has not been read yet. */
export interface GuardedResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The URL that answered, after redirects. */
  finalUrl: string;
  /** Each redirect target followed, in order. */
  redirects: string[];
  /** The body, decompressed when the server compressed it. */
  body: Readable;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

function pinnedLookup(target: GuardedTarget): LookupFunction {
  // The socket asks for an address; answer with the one the guard checked, never a fresh lookup.
  return ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options.all === true) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  }) as LookupFunction;
}

function sendGet(target: GuardedTarget, options: GuardedRequestOptions): Promise<IncomingMessage> {
  const secure = target.url.protocol === 'https:';
  const transport = secure ? https : http;
  const agent = options.agents === undefined ? undefined : secure ? options.agents.https : options.agents.http;
  return new Promise<IncomingMessage>((resolve, reject) => {
    const request = transport.request(
      target.url,
      {
        method: 'GET',
        headers: { 'accept-encoding': 'gzip, deflate, br', ...options.headers },
        signal: options.signal,
        lookup: pinnedLookup(target),
        ...(agent === undefined ? {} : { agent }),
      },
      resolve,
    );
    request.once('error', reject);
    request.end();
  });
}

function decoded(response: IncomingMessage): Readable {
  const encoding = String(response.headers['content-encoding'] ?? '').trim().toLowerCase();
  const decoder =
    encoding === 'gzip' || encoding === 'x-gzip'
      ? createGunzip()
      : encoding === 'deflate'
        ? createInflate()
        : encoding === 'br'
          ? createBrotliDecompress()
          : null;
  if (decoder === null) return response;
  response.once('error', (error) => decoder.destroy(error));
  return response.pipe(decoder);
}

/**
 * GETs `url` through the SSRF guard: each hop is checked and connected to its pinned
 * address; redirects are followed up to `maxRedirects`, a loop is refused. The body is
 * left unread (stream it, or use {@link readBodyLimited}).
 */
export async function guardedRequest(url: string, options: GuardedRequestOptions): Promise<GuardedResponse> {
  const redirects: string[] = [];
  const chain = new Set<string>();
  let current = url;
  for (;;) {
    options.signal.throwIfAborted();
    const target = await options.guard.check(current);
    chain.add(target.url.href);
    const response = await sendGet(target, options);
    const status = response.statusCode ?? 0;
    if (!REDIRECT_STATUSES.has(status)) {
      return { status, headers: response.headers, finalUrl: target.url.href, redirects, body: decoded(response) };
    }
    response.destroy();
    const location = response.headers.location;
    let next: URL;
    try {
      if (location === undefined || location === '') throw new Error('no Location header');
      next = new URL(location, target.url);
    } catch {
      throw new HttpFetchError(FetchFailureReason.BadRedirect, target.url.href, `${target.url.href} answered ${status} without a usable Location`);
    }
    next.hash = '';
    if (chain.has(next.href)) {
      throw new HttpFetchError(FetchFailureReason.RedirectLoop, url, `redirect loop: ${[...chain, next.href].join(' -> ')}`);
    }
    if (redirects.length >= options.maxRedirects) {
      throw new HttpFetchError(FetchFailureReason.TooManyRedirects, url, `more than ${options.maxRedirects} redirects from ${url}`);
    }
    redirects.push(next.href);
    current = next.href;
  }
}

/**
 * Reads `body` into one buffer, stopping (and destroying the stream) as soon as it exceeds
 * `maxBytes`: a huge page costs at most `maxBytes` of memory and bandwidth.
 */
export async function readBodyLimited(body: Readable, maxBytes: number, url: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    total += buffer.byteLength;
    if (total > maxBytes) {
      body.destroy();
      throw new HttpFetchError(FetchFailureReason.TooLarge, url, `body of ${url} exceeds ${maxBytes} bytes`);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, total);
}

/**
 * Maps whatever a request threw to an {@link HttpFetchError}, or rethrows the outer abort
 * reason when the job (not the deadline) aborted it.
 */
export function toFetchError(error: unknown, url: string, deadline: Deadline, outer: AbortSignal): Error {
  if (isHttpFetchError(error)) return error;
  if (deadline.timedOut()) return new HttpFetchError(FetchFailureReason.Timeout, url, `no complete answer from ${url} within the timeout`);
  if (outer.aborted) return toError(outer.reason);
  const cause = toError(error);
  const code = (cause as NodeJS.ErrnoException).code;
  return new HttpFetchError(FetchFailureReason.Network, url, `request to ${url} failed: ${code === undefined ? cause.message : `${code} ${cause.message}`}`, {
    cause,
  });
}

/** Options of {@link fetchBuffered}. */
export interface FetchBufferedOptions {
  guard: UrlGuard;
  signal: AbortSignal;
  /** Whole request, body included (ms). */
  timeoutMs: number;
  /** Largest body read (bytes); more is a `too_large` failure. */
  maxBodyBytes: number;
  maxRedirects: number;
  headers?: Record<string, string>;
  agents?: HttpAgents;
  clock?: Clock;
  /**
   * Reads the body only when this returns true for the response's content type (null when
   * absent), so a linked 200 MB video is never downloaded. Default: always.
   */
  accept?: (contentType: string | null, status: number) => boolean;
}

/** A response read into memory. */
export interface BufferedResponse {
  status: number;
  headers: IncomingHttpHeaders;
  contentType: string | null;
  finalUrl: string;
  redirects: string[];
  /** The body, or null when `accept` declined it. */
  body: Buffer | null;
}

/**
 * GETs `url` through the guard with a deadline covering the body, and reads the body up to
 * `maxBodyBytes`. Failures are {@link HttpFetchError}s with a reason; a job abort rethrows
 * the abort reason.
 */
export async function fetchBuffered(url: string, options: FetchBufferedOptions): Promise<BufferedResponse> {
  const deadline = startDeadline(options.signal, options.timeoutMs, options.clock);
  try {
    const response = await guardedRequest(url, {
      guard: options.guard,
      maxRedirects: options.maxRedirects,
      signal: deadline.signal,
      ...(options.headers === undefined ? {} : { headers: options.headers }),
      ...(options.agents === undefined ? {} : { agents: options.agents }),
    });
    const rawType = response.headers['content-type'];
    const contentType = rawType === undefined ? null : String(rawType);
    const declared = Number(response.headers['content-length']);
    const compressed = response.headers['content-encoding'] !== undefined;
    let body: Buffer | null = null;
    if (options.accept === undefined || options.accept(contentType, response.status)) {
      if (!compressed && Number.isFinite(declared) && declared > options.maxBodyBytes) {
        response.body.destroy();
        throw new HttpFetchError(FetchFailureReason.TooLarge, response.finalUrl, `body of ${response.finalUrl} is ${declared} bytes, over ${options.maxBodyBytes}`);
      }
      body = await readBodyLimited(response.body, options.maxBodyBytes, response.finalUrl);
    } else {
      response.body.destroy();
    }
    return { status: response.status, headers: response.headers, contentType, finalUrl: response.finalUrl, redirects: response.redirects, body };
  } catch (error) {
    throw toFetchError(error, url, deadline, options.signal);
  } finally {
    deadline.dispose();
  }
}
