/**
 * `@kai-jobs/monitor/testing` — a local Sentry: an HTTP server that accepts the envelopes
 * the real `@sentry/node` SDK sends, parses them and hands back the events and cron
 * check-ins, so tests assert on exactly what Sentry would receive. Plus a server that
 * accepts connections and never answers, to play an unreachable Sentry.
 */
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { gunzipSync, inflateSync, brotliDecompressSync } from 'node:zlib';
import { getGlobalScope } from '@sentry/node';

/**
 * Sentry's process-wide global scope, whose data (breadcrumbs, tags) the SDK merges into
 * every event of every client — for tests that put ambient data there and check what the
 * alerter lets through. Here so tests outside this package need not depend on the SDK.
 */
export function sentryGlobalScope(): ReturnType<typeof getGlobalScope> {
  return getGlobalScope();
}

/** One item of an envelope: its header and its payload (parsed as JSON when it is JSON). */
export interface EnvelopeItem {
  header: Record<string, unknown> & { type?: string };
  payload: unknown;
}

/** One envelope as received. */
export interface ReceivedEnvelope {
  /** The project id of the URL path (`/api/<project>/envelope/`). */
  projectId: string;
  /** The public key the SDK authenticated with (query `sentry_key` or `X-Sentry-Auth`). */
  publicKey: string | null;
  /** The request's `Content-Encoding` (`identity` when none). */
  encoding: string;
  header: Record<string, unknown>;
  items: EnvelopeItem[];
  /** The whole body as received (decompressed), for tests that look for a value in any part of it. */
  raw: string;
}

/** A Sentry event as received (the `event` item payload). */
export type ReceivedEvent = Record<string, unknown> & {
  event_id?: string;
  level?: string;
  message?: string | { formatted?: string; message?: string };
  tags?: Record<string, string>;
  contexts?: Record<string, Record<string, unknown>>;
  extra?: Record<string, unknown>;
  fingerprint?: string[];
  exception?: { values?: { type?: string; value?: string }[] };
  environment?: string;
  release?: string;
  server_name?: string;
};

/** A cron check-in as received (the `check_in` item payload). */
export type ReceivedCheckIn = Record<string, unknown> & {
  check_in_id: string;
  monitor_slug: string;
  status: 'in_progress' | 'ok' | 'error';
  duration?: number;
  monitor_config?: Record<string, unknown>;
};

/** A running local Sentry. */
export interface SentryReceiver {
  /** `http://publickey@127.0.0.1:<port>/1` — pass it as the DSN. */
  readonly dsn: string;
  readonly port: number;
  /** Every envelope received, in order. */
  readonly envelopes: ReceivedEnvelope[];
  /** Every event item received, in order. */
  readonly events: ReceivedEvent[];
  /** Every check-in item received, in order. */
  readonly checkIns: ReceivedCheckIn[];
  /** Every transaction item received, in order (the workers' attempt traces). */
  readonly transactions: ReceivedTransaction[];
  /** Requests that could not be parsed (with the reason). */
  readonly errors: string[];
  /** Resolves with the events once at least `count` arrived; rejects after `timeoutMs` (default 5000). */
  waitForEvents(count: number, timeoutMs?: number): Promise<ReceivedEvent[]>;
  /** Resolves with the check-ins once at least `count` arrived; rejects after `timeoutMs` (default 5000). */
  waitForCheckIns(count: number, timeoutMs?: number): Promise<ReceivedCheckIn[]>;
  /** Resolves with the transactions once at least `count` arrived; rejects after `timeoutMs` (default 5000). */
  waitForTransactions(count: number, timeoutMs?: number): Promise<ReceivedTransaction[]>;
  /** Forgets everything received so far. */
  clear(): void;
  /** Requests parked by `holdInProgressCheckIns` (received, neither recorded nor answered yet). */
  readonly held: number;
  /** Records and answers the parked requests, in arrival order, and stops parking new ones. */
  releaseHeld(): void;
  close(): Promise<void>;
}

/** Options of {@link startSentryReceiver}. */
export interface SentryReceiverOptions {
  /**
   * Park every envelope carrying an `in_progress` check-in — not recorded, not answered — until
   * `releaseHeld()`: a Sentry that takes an `in_progress` slowly, so a check-in sent after it
   * without waiting for its answer would be recorded first.
   */
  holdInProgressCheckIns?: boolean;
}

/** One span of a received transaction. */
export type ReceivedSpan = Record<string, unknown> & {
  span_id: string;
  parent_span_id?: string;
  op?: string;
  description?: string;
  status?: string;
  start_timestamp: number;
  timestamp: number;
  tags?: Record<string, string>;
  data?: Record<string, unknown>;
};

/** A transaction as received (the `transaction` item payload). */
export type ReceivedTransaction = Record<string, unknown> & {
  transaction?: string;
  start_timestamp: number;
  timestamp: number;
  tags?: Record<string, string>;
  contexts?: Record<string, Record<string, unknown>>;
  spans?: ReceivedSpan[];
};

/** The public key in the receiver's DSN. */
export const RECEIVER_PUBLIC_KEY = 'publickey';

function decode(body: Buffer, encoding: string | undefined): Buffer {
  switch ((encoding ?? 'identity').trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return gunzipSync(body);
    case 'deflate':
      return inflateSync(body);
    case 'br':
      return brotliDecompressSync(body);
    case 'identity':
    case '':
      return body;
    default:
      throw new Error(`unsupported content-encoding ${encoding}`);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Parses a Sentry envelope: a header line, then items of an item-header line and a
 * payload — `length` bytes when the item header gives one, else up to the next newline.
 */
export function parseEnvelope(body: Buffer): { header: Record<string, unknown>; items: EnvelopeItem[] } {
  let offset = 0;
  const readLine = (): Buffer => {
    const end = body.indexOf(0x0a, offset);
    const line = body.subarray(offset, end === -1 ? body.length : end);
    offset = end === -1 ? body.length : end + 1;
    return line;
  };
  const header = JSON.parse(readLine().toString('utf8')) as Record<string, unknown>;
  const items: EnvelopeItem[] = [];
  while (offset < body.length) {
    const headerLine = readLine().toString('utf8').trim();
    if (headerLine === '') continue;
    const itemHeader = JSON.parse(headerLine) as EnvelopeItem['header'];
    let payload: Buffer;
    if (typeof itemHeader['length'] === 'number') {
      payload = body.subarray(offset, offset + itemHeader['length']);
      offset += itemHeader['length'];
      if (body[offset] === 0x0a) offset += 1;
    } else {
      payload = readLine();
    }
    items.push({ header: itemHeader, payload: parseJson(payload.toString('utf8')) });
  }
  return { header, items };
}

function publicKeyOf(request: IncomingMessage, url: URL): string | null {
  const fromQuery = url.searchParams.get('sentry_key');
  if (fromQuery !== null) return fromQuery;
  const auth = request.headers['x-sentry-auth'];
  const match = typeof auth === 'string' ? /sentry_key=([^,\s]+)/.exec(auth) : null;
  return match?.[1] ?? null;
}

function waitForCount<T>(emitter: EventEmitter, list: T[], what: string, count: number, timeoutMs: number): Promise<T[]> {
  if (list.length >= count) return Promise.resolve([...list]);
  return new Promise((resolve, reject) => {
    const onChange = (): void => {
      if (list.length < count) return;
      clearTimeout(timer);
      emitter.off('received', onChange);
      resolve([...list]);
    };
    const timer = setTimeout(() => {
      emitter.off('received', onChange);
      reject(new Error(`expected ${count} ${what} within ${timeoutMs} ms, received ${list.length}`));
    }, timeoutMs);
    emitter.on('received', onChange);
  });
}

/** Starts a local Sentry on 127.0.0.1 (a free port) that accepts `POST /api/<project>/envelope/`. */
export async function startSentryReceiver(options: SentryReceiverOptions = {}): Promise<SentryReceiver> {
  let holding = options.holdInProgressCheckIns === true;
  const parked: (() => void)[] = [];
  const emitter = new EventEmitter();
  const envelopes: ReceivedEnvelope[] = [];
  const events: ReceivedEvent[] = [];
  const checkIns: ReceivedCheckIn[] = [];
  const transactions: ReceivedTransaction[] = [];
  const errors: string[] = [];

  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const match = /^\/api\/([^/]+)\/envelope\/?$/.exec(url.pathname);
      if (request.method !== 'POST' || match === null) {
        errors.push(`unexpected ${request.method} ${url.pathname}`);
        response.writeHead(404).end();
        return;
      }
      try {
        const body = decode(Buffer.concat(chunks), request.headers['content-encoding']);
        const { header, items } = parseEnvelope(body);
        const isInProgress = items.some((item) => item.header.type === 'check_in' && (item.payload as { status?: unknown }).status === 'in_progress');
        const record = (): void => {
          envelopes.push({
            projectId: match[1] as string,
            publicKey: publicKeyOf(request, url),
            encoding: request.headers['content-encoding'] ?? 'identity',
            header,
            items,
            raw: body.toString('utf8'),
          });
          for (const item of items) {
            if (item.header.type === 'event') events.push(item.payload as ReceivedEvent);
            if (item.header.type === 'check_in') checkIns.push(item.payload as ReceivedCheckIn);
            if (item.header.type === 'transaction') transactions.push(item.payload as ReceivedTransaction);
          }
          response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
          emitter.emit('received');
        };
        if (holding && isInProgress) parked.push(record);
        else record();
      } catch (error) {
        errors.push(`unparsable envelope: ${(error as Error).message}`);
        response.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;

  return {
    dsn: `http://${RECEIVER_PUBLIC_KEY}@127.0.0.1:${port}/1`,
    port,
    envelopes,
    events,
    checkIns,
    transactions,
    errors,
    waitForEvents: (count, timeoutMs = 5000) => waitForCount(emitter, events, 'events', count, timeoutMs),
    waitForCheckIns: (count, timeoutMs = 5000) => waitForCount(emitter, checkIns, 'check-ins', count, timeoutMs),
    waitForTransactions: (count, timeoutMs = 5000) => waitForCount(emitter, transactions, 'transactions', count, timeoutMs),
    clear() {
      envelopes.length = 0;
      events.length = 0;
      checkIns.length = 0;
      transactions.length = 0;
      errors.length = 0;
    },
    get held() {
      return parked.length;
    },
    releaseHeld() {
      holding = false;
      for (const record of parked.splice(0)) record();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A server that accepts TCP connections and never answers (an unreachable Sentry). */
export interface UnresponsiveServer {
  /** `http://publickey@127.0.0.1:<port>/1`. */
  readonly dsn: string;
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: () => number;
  close(): Promise<void>;
}

/** Starts a {@link UnresponsiveServer} on 127.0.0.1 (a free port). */
export async function startUnresponsiveServer(): Promise<UnresponsiveServer> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createTcpServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    // Read and discard, never write: the client waits for an answer that never comes.
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    dsn: `http://${RECEIVER_PUBLIC_KEY}@127.0.0.1:${port}/1`,
    port,
    connections: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
