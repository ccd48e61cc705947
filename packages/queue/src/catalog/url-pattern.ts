import { RE2JS } from 're2js';
import { z } from 'zod';

/**
 * Longest URL pattern accepted (characters). Real link rules are short (`/products/`,
 * `\?sort=`); the bound keeps the compiled automaton, and so each match, small.
 */
export const URL_PATTERN_MAX_CHARS = 500;

/** Most patterns in one list (`includePatterns` or `excludePatterns`). */
export const URL_PATTERNS_MAX = 100;

/**
 * Longest URL a pattern is run against (characters); a longer link matches no pattern. 2,048
 * is the sitemaps protocol's limit on a URL, and RE2's cost is linear in it: a pattern RE2's DFA
 * cannot cache (`[ab]*a[ab]{20}…`) still costs about 0.8 µs per character.
 */
export const URL_PATTERN_MAX_INPUT_CHARS = 2048;

/** A compiled URL pattern: RE2 semantics, matching time linear in the URL's length. */
export interface UrlPattern {
  /** The pattern as given. */
  readonly source: string;
  /** True when the pattern matches anywhere in `url` (unanchored, like `RegExp.test`). */
  test(url: string): boolean;
}

/** Why a pattern was refused; `undefined` when it compiles. */
export function urlPatternProblem(source: string): string | undefined {
  if (source.length > URL_PATTERN_MAX_CHARS) return `longer than ${URL_PATTERN_MAX_CHARS} characters (${source.length})`;
  try {
    RE2JS.compile(source);
    return undefined;
  } catch (error) {
    // RE2's message names the construct: "invalid escape sequence: `\1`" for a backreference.
    return `not an RE2 regular expression: ${(error as Error).message}`;
  }
}

/**
 * Compiles a URL pattern with RE2 (re2js, pure JavaScript): no backreferences, no lookaround,
 * and matching is linear in the input, so no pattern can stall the thread that runs it
 * (`(a+)+$` against a long URL takes milliseconds, not forever).
 *
 * @throws RangeError naming the pattern and what is wrong with it (payloads are validated at
 * enqueue with {@link UrlPatternSchema}, so a worker only meets this for a hand-made payload).
 */
export function compileUrlPattern(source: string): UrlPattern {
  const problem = urlPatternProblem(source);
  if (problem !== undefined) throw new RangeError(`URL pattern ${JSON.stringify(source)} is ${problem}`);
  const compiled = RE2JS.compile(source);
  return {
    source,
    test: (url) => url.length <= URL_PATTERN_MAX_INPUT_CHARS && compiled.test(url),
  };
}

/**
 * A URL pattern in a payload: an RE2 regular expression (the syntax of Go's `regexp` and of
 * RE2: `.`, classes, `*`, `+`, `?`, `{n,m}` up to 1000, `|`, groups, `(?i)`, `^`/`$`, `\d\w\s\b`;
 * no backreferences `\1` and no lookaround `(?=`, `(?!`, `(?<=`, `(?<!`). Matched unanchored
 * against the whole URL, in time linear in the URL's length. At most
 * {@link URL_PATTERN_MAX_CHARS} characters; refused at enqueue, with the reason and the pattern,
 * when RE2 cannot compile it.
 */
export const UrlPatternSchema = z.string().superRefine((source, ctx) => {
  const problem = urlPatternProblem(source);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `pattern ${JSON.stringify(source.slice(0, 80))} is ${problem}` });
});
