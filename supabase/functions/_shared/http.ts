/**
 * Request reading, input checks that name the field, and the `Deno.serve` wrapper that turns a
 * re-thrown error into a JSON answer (400 for bad input, 5xx otherwise).
 */
import { EdgeFunctionError, InputError, toError } from './errors.ts';

/** A JSON response. */
export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8' } });
}

/** The request body as a JSON object; throws {@link InputError} (400) otherwise. */
export async function readJsonObject(req: Request): Promise<Record<string, unknown>> {
  if (req.method !== 'POST') throw new InputError('method', `expected POST, got ${req.method}`);
  const text = await req.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new InputError('body', `is not valid JSON (${toError(error).message})`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InputError('body', 'must be a JSON object');
  return body as Record<string, unknown>;
}

/** A required non-empty string of at most `max` characters. */
export function requiredString(body: Record<string, unknown>, field: string, max = 200): string {
  const value = body[field];
  if (value === undefined || value === null) throw new InputError(field, 'is required');
  if (typeof value !== 'string' || value.trim() === '') throw new InputError(field, 'must be a non-empty string');
  if (value.length > max) throw new InputError(field, `must be at most ${max} characters`);
  return value;
}

/** An optional string of at most `max` characters. */
export function optionalString(body: Record<string, unknown>, field: string, max = 200): string | undefined {
  if (body[field] === undefined || body[field] === null) return undefined;
  return requiredString(body, field, max);
}

/** A required http(s) URL. */
export function requiredHttpUrl(body: Record<string, unknown>, field: string): string {
  const value = requiredString(body, field, 2048);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InputError(field, 'must be an absolute http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InputError(field, `must be an http(s) URL, got ${url.protocol}`);
  return value;
}

/** An optional whole number within `[min, max]`. */
export function optionalInteger(body: Record<string, unknown>, field: string, min: number, max: number): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InputError(field, `must be a whole number from ${min} to ${max}`);
  }
  return value;
}

/** An optional boolean. */
export function optionalBoolean(body: Record<string, unknown>, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new InputError(field, 'must be true or false');
  return value;
}

/** An optional array of strings (at most `maxItems`). */
export function optionalStrings(body: Record<string, unknown>, field: string, maxItems: number): string[] | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) throw new InputError(field, 'must be an array of strings');
  if (value.length > maxItems) throw new InputError(field, `must have at most ${maxItems} items`);
  return value as string[];
}

/** Refuses fields the function does not know (a typo would otherwise be silently ignored). */
export function refuseUnknownFields(body: Record<string, unknown>, known: readonly string[]): void {
  for (const field of Object.keys(body)) {
    if (!known.includes(field)) throw new InputError(field, `is not a known field (expected one of ${known.join(', ')})`);
  }
}

/**
 * The answer to an error the handler re-threw: its own status and message for an
 * {@link EdgeFunctionError} (with `field` for bad input), else 500.
 */
export function errorResponse(error: unknown): Response {
  if (error instanceof EdgeFunctionError) {
    return json(error.status, {
      error: error.code,
      message: error.message,
      ...(error instanceof InputError ? { field: error.field } : {}),
      retryable: error.retryable,
    });
  }
  return json(500, { error: 'INTERNAL', message: 'unexpected error; it was reported', retryable: false });
}

/** Serves `handler` with `Deno.serve`; errors it throws (after reporting them) become {@link errorResponse}. */
export function serve(handler: (req: Request) => Promise<Response>, options: { port?: number; hostname?: string; signal?: AbortSignal } = {}): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ ...options, onError: errorResponse, onListen: () => undefined }, handler);
}
