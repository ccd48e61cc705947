/**
 * Helpers of the functions' Deno tests. The vitest side (apps/board/test/edge-functions.int.test.ts)
 * starts the board, the PostgREST-compatible endpoint, Sentry's local receiver and a control
 * server, and passes their addresses in the environment; these helpers ask the control server
 * what PostgreSQL, Redis and Sentry hold.
 */

/** A Sentry event as the local receiver parsed it. */
export interface ReceivedEvent {
  event_id?: string;
  level?: string;
  tags?: Record<string, string>;
  contexts?: Record<string, Record<string, unknown>>;
  extra?: Record<string, unknown>;
  fingerprint?: string[];
  environment?: string;
  exception?: { values?: { type?: string; value?: string }[] };
}

function controlUrl(path: string): URL {
  const base = Deno.env.get('KAI_TEST_CONTROL_URL');
  if (!base) throw new Error('KAI_TEST_CONTROL_URL is not set: run these tests through apps/board/test/edge-functions.int.test.ts');
  return new URL(path, base);
}

async function ask<T>(path: string): Promise<T> {
  const response = await fetch(controlUrl(path));
  const text = await response.text();
  if (!response.ok) throw new Error(`control ${path}: HTTP ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

/** Every event Sentry received so far. */
export function sentryEvents(): Promise<ReceivedEvent[]> {
  return ask('/sentry/events');
}

/** A platform row, read with SQL (null when there is none). */
export function platformRow(table: string, id: string): Promise<Record<string, unknown> | null> {
  return ask(`/rows/${table}/${encodeURIComponent(id)}`);
}

/** The BullMQ job of `type` with `id` (null when there is none). */
export function bullJob(type: string, id: string): Promise<{ id: string; state: string; data: Record<string, unknown> } | null> {
  return ask(`/jobs/${type}/${encodeURIComponent(id)}`);
}

/** A POST with a JSON body, as a caller of the function sends it. */
export function post(body: unknown): Request {
  return new Request('http://127.0.0.1/functions/v1/test', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** A loopback port where nothing listens. */
export function deadPort(): number {
  const listener = Deno.listen({ hostname: '127.0.0.1', port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Runs `fn` with some environment variables changed, then restores them. */
export async function withEnv<T>(changes: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const before = new Map(Object.keys(changes).map((name) => [name, Deno.env.get(name)]));
  for (const [name, value] of Object.entries(changes)) Deno.env.set(name, value);
  try {
    return await fn();
  } finally {
    for (const [name, value] of before) {
      if (value === undefined) Deno.env.delete(name);
      else Deno.env.set(name, value);
    }
  }
}

/**
 * Calls `handler`, expects it to re-throw an error named `errorName`, and returns that error
 * with the one Sentry event the call produced (the handler flushes before re-throwing, so the
 * event has arrived by then; a second event would show up in the count).
 */
export async function expectReportedFailure(
  call: () => Promise<Response>,
  errorName: string,
): Promise<{ error: Error & Record<string, unknown>; event: ReceivedEvent }> {
  const before = (await sentryEvents()).length;
  let thrown: unknown = undefined;
  try {
    const response = await call();
    throw new Error(`expected the handler to throw ${errorName}, it answered ${response.status}`);
  } catch (error) {
    thrown = error;
  }
  const error = thrown as Error & Record<string, unknown>;
  if (error.name !== errorName) throw new Error(`expected ${errorName}, got ${error.name}: ${error.message}`);
  const events = await sentryEvents();
  if (events.length !== before + 1) throw new Error(`expected exactly one new Sentry event, got ${events.length - before}`);
  return { error, event: events[events.length - 1] as ReceivedEvent };
}
