import type { z } from 'zod';
import { isJobType, JOB_TYPES, jobCatalog, type JobType, type Payload } from './catalog/index.js';
import { ValidationError, type FieldIssue } from './errors.js';

/** Default largest payload accepted, as UTF-8 JSON: 1 MiB. Larger inputs belong in a blob store. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

/** Formats a zod issue path as `options.tileSizePx` or `items[3].sku`. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

function describeReceived(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'string') return value.length > 40 ? `string "${value.slice(0, 37)}..."` : `"${value}"`;
  if (typeof value === 'object') return 'object';
  return `${typeof value} ${String(value)}`;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = input;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

/**
 * Converts zod issues into {@link FieldIssue}s, prefixing each path with `pathPrefix`
 * (e.g. `[3]` for the fourth item of a bulk enqueue).
 */
export function zodIssuesToFieldIssues(
  error: z.ZodError,
  input: unknown,
  pathPrefix: readonly PropertyKey[] = [],
): FieldIssue[] {
  return error.issues.map((issue) => {
    const fullPath = [...pathPrefix, ...issue.path];
    const received = valueAt(input, issue.path);
    const expected = 'expected' in issue && typeof issue.expected === 'string' ? issue.expected : undefined;
    const fieldIssue: FieldIssue = { path: formatIssuePath(fullPath), message: issue.message };
    if (expected !== undefined) fieldIssue.expected = expected;
    if (issue.code !== 'unrecognized_keys' && (received !== undefined || issue.code === 'invalid_type')) {
      fieldIssue.received = received === undefined ? 'nothing' : describeReceived(received);
    }
    return fieldIssue;
  });
}

/**
 * Parses `input` with `schema`; throws a {@link ValidationError} listing every bad field.
 * `subject` names the thing in the message (e.g. `pdf payload`).
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, subject: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new ValidationError(subject, zodIssuesToFieldIssues(result.error, input));
}

/** Bytes of `value` as UTF-8 JSON. */
export function jsonByteLength(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}

/** Throws a {@link ValidationError} unless `type` is a catalog job type. */
export function assertJobType(type: unknown): asserts type is JobType {
  if (!isJobType(type)) {
    throw new ValidationError('job type', [
      {
        path: 'type',
        message: `unknown job type; expected one of ${JOB_TYPES.join(', ')}`,
        expected: JOB_TYPES.join(' | '),
        received: describeReceived(type),
      },
    ]);
  }
}

/**
 * Validates a payload for `type`: the type exists, the payload fits `maxBytes`, and it
 * passes the catalog's schema. Returns the payload with defaults applied.
 */
export function validatePayload<T extends JobType>(
  type: T,
  payload: unknown,
  maxBytes: number = DEFAULT_MAX_PAYLOAD_BYTES,
): Payload<T> {
  assertJobType(type);
  const bytes = jsonByteLength(payload);
  if (bytes > maxBytes) {
    throw new ValidationError(`${type} payload`, [
      {
        path: '',
        message: `payload is ${bytes} bytes of JSON, over the limit of ${maxBytes}; store large inputs in the blob store and pass a reference`,
        expected: `at most ${maxBytes} bytes`,
        received: `${bytes} bytes`,
      },
    ]);
  }
  return parseOrThrow(jobCatalog[type].payloadSchema, payload, `${type} payload`) as Payload<T>;
}
