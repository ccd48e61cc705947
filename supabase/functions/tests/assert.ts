/**
 * The few assertions the tests need — Deno's `@std/assert` would have to be downloaded from
 * JSR, and these tests must run with nothing but what pnpm installed.
 */

/** Fails unless `condition` is true. */
export function assert(condition: unknown, message = 'assertion failed'): asserts condition {
  if (!condition) throw new Error(message);
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

/** Fails unless `actual` and `expected` are deeply equal (JSON values). */
export function assertEquals(actual: unknown, expected: unknown, message?: string): void {
  const a = canonical(actual);
  const e = canonical(expected);
  if (a !== e) throw new Error(`${message ? `${message}: ` : ''}expected ${e}, got ${a}`);
}

/** Fails unless `actual` is a string matching `pattern`. */
export function assertMatch(actual: unknown, pattern: RegExp, message?: string): void {
  if (typeof actual !== 'string' || !pattern.test(actual)) throw new Error(`${message ? `${message}: ` : ''}expected a string matching ${pattern}, got ${JSON.stringify(actual)}`);
}
