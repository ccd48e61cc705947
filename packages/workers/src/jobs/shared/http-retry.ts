import { z } from 'zod';
import { toError } from '@kai-jobs/queue';
import { ProviderRequestError, ProviderResponseError } from './errors.js';

/** Timeouts and retries of a provider's HTTP calls (one schema, shared by every provider). */
export const HttpRetryOptionsSchema = z
  .object({
    /** Longest wait for one request, answer body included (ms). Default 30000. */
    timeoutMs: z.number().int().positive().default(30_000),
    /** Retries after the first attempt, for 408, 429, 5xx, timeouts and network errors. Default 3. */
    maxRetries: z.number().int().min(0).max(20).default(3),
    /** First retry delay (ms); doubles per retry, with jitter. Default 500. */
    retryBaseDelayMs: z.number().int().min(0).default(500),
    /** Longest retry delay, also the cap on a server's `Retry-After` (ms). Default 20000. */
    retryMaxDelayMs: z.number().int().min(0).default(20_000),
  })
  .strict();
/** Resolved {@link HttpRetryOptionsSchema}. */
export type HttpRetryOptions = z.output<typeof HttpRetryOptionsSchema>;

/** I/O a retrying call uses; tests and callers may replace them. */
export interface HttpRetryDeps {
  /** Waits `ms`, rejecting with the signal's reason when it aborts. Default: a timer. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Uniform [0, 1) for jitter. Default `Math.random`. */
  random?: () => number;
}

/** One JSON POST to a provider. */
export interface JsonPostRequest {
  /** Names the provider in errors, e.g. `openai embeddings`. */
  provider: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  /** The job's signal: aborting it stops the call and every retry at once. */
  signal: AbortSignal;
}

/**
 * Delay before retry number `attempt` (0-based): exponential from `retryBaseDelayMs`, capped
 * at `retryMaxDelayMs`, with "equal jitter" (half fixed, half random) so many workers
 * throttled at once do not retry in lockstep. A server's `Retry-After` is a floor.
 */
export function retryDelayMs(
  attempt: number,
  options: Pick<HttpRetryOptions, 'retryBaseDelayMs' | 'retryMaxDelayMs'>,
  random: () => number,
  retryAfterMs?: number,
): number {
  const exponential = Math.min(options.retryMaxDelayMs, options.retryBaseDelayMs * 2 ** attempt);
  const jittered = exponential / 2 + random() * (exponential / 2);
  const floor = retryAfterMs === undefined ? 0 : Math.min(retryAfterMs, options.retryMaxDelayMs);
  return Math.round(Math.max(jittered, floor));
}

/** `Retry-After` in delta-seconds form, as ms; HTTP dates are ignored (they need a clock). */
function parseRetryAfterMs(header: string | null): number | undefined {
  if (header === null || !/^\s*\d+(\.\d+)?\s*$/.test(header)) return undefined;
  return Math.round(Number(header) * 1000);
}

/** Waits `ms` or until `signal` aborts. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(toError(signal.reason));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(toError(signal.reason));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

interface Failure {
  status: number | null;
  message: string;
  retryAfterMs?: number;
  cause?: unknown;
}

/**
 * POSTs JSON and returns the parsed JSON answer. Each attempt has its own timeout; 408, 429,
 * 5xx, timeouts and network errors are retried with backoff (honouring `Retry-After`); other
 * 4xx fail at once (a retry cannot fix a wrong key). The job's signal aborts everything
 * and rejects with its reason.
 */
export async function postJsonWithRetry(request: JsonPostRequest, options: HttpRetryOptions, deps: HttpRetryDeps = {}): Promise<unknown> {
  const sleep = deps.sleep ?? abortableSleep;
  const random = deps.random ?? Math.random;
  const body = JSON.stringify(request.body);
  let failure: Failure | undefined;
  for (let attempt = 0; attempt <= options.maxRetries; attempt++) {
    if (attempt > 0 && failure !== undefined) {
      await sleep(retryDelayMs(attempt - 1, options, random, failure.retryAfterMs), request.signal);
    }
    request.signal.throwIfAborted();
    const timeout = AbortSignal.timeout(options.timeoutMs);
    let status: number;
    let text: string;
    let retryAfter: string | null;
    try {
      const response = await fetch(request.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...request.headers },
        body,
        signal: AbortSignal.any([request.signal, timeout]),
      });
      status = response.status;
      retryAfter = response.headers.get('retry-after');
      text = await response.text();
    } catch (error) {
      if (request.signal.aborted) throw toError(request.signal.reason);
      failure = timeout.aborted
        ? { status: null, message: `no complete answer within ${options.timeoutMs} ms`, cause: error }
        : { status: null, message: `request failed: ${toError(error).message}`, cause: error };
      continue;
    }
    if (status >= 200 && status < 300) {
      try {
        return JSON.parse(text) as unknown;
      } catch (error) {
        throw new ProviderResponseError(request.provider, `answered HTTP ${status} with a body that is not JSON: ${snippet(text)}`, {
          cause: error,
        });
      }
    }
    const message = `HTTP ${status}: ${snippet(text)}`;
    if (!isRetryableStatus(status)) {
      throw new ProviderRequestError(request.provider, status, message, { retryable: false });
    }
    failure = { status, message };
    const retryAfterMs = parseRetryAfterMs(retryAfter);
    if (retryAfterMs !== undefined) failure.retryAfterMs = retryAfterMs;
  }
  const last = failure as Failure;
  throw new ProviderRequestError(request.provider, last.status, `${last.message} (gave up after ${options.maxRetries + 1} attempts)`, {
    retryable: true,
    cause: last.cause,
  });
}

/** The start of a response body for an error message (providers explain errors there). */
function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat === '') return '(empty body)';
  return flat.length > 300 ? `${flat.slice(0, 297)}...` : flat;
}
