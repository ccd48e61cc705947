import { compileUrlPattern, URL_PATTERN_MAX_INPUT_CHARS, type ScrapePayload } from '@kai-jobs/queue';
import { PermanentJobError } from '../../errors.js';

/** Decides which discovered links a session may crawl (depth and page limits aside). */
export interface UrlFilter {
  /** True when `url` passes the rules. Synchronous: one URL costs at most one bounded match per pattern. */
  accepts(url: string): boolean;
  /**
   * The links of one page that pass the rules, in order. Yields to the event loop every
   * `yieldEveryMs` of matching so heartbeats and lock renewals keep running.
   *
   * @throws UrlPatternBudgetError when matching one page's links takes longer than `maxMatchMsPerPage`.
   */
  acceptsAll(urls: readonly string[]): Promise<string[]>;
}

/** Options of {@link createUrlFilter}. */
export interface UrlFilterOptions {
  /** Matching time after which {@link UrlFilter.acceptsAll} yields to the event loop (ms). Default 10. */
  yieldEveryMs?: number;
  /** Most matching time for one page's links (ms); past it the session fails. Default 5000. */
  maxMatchMsPerPage?: number;
  /** Monotonic clock for the two above (ms). Default `performance.now`. */
  now?: () => number;
}

/**
 * The payload's patterns cost more than {@link UrlFilterOptions.maxMatchMsPerPage} on one page's
 * links. Permanent: the same patterns cost the same on the next attempt.
 */
export class UrlPatternBudgetError extends PermanentJobError {
  constructor(spentMs: number, links: number, limitMs: number) {
    super(
      `URL pattern matching exceeded its budget of ${limitMs} ms per page (${Math.round(spentMs)} ms for ${links} links): the includePatterns/excludePatterns are too costly; use fewer or simpler patterns`,
    );
  }
}

/**
 * The payload's link rules: same origin as `sourceUrl` (when `sameOrigin`), matching one of
 * `includePatterns` (when any), matching none of `excludePatterns`. The start URL itself is
 * always crawled: the patterns choose among the links found.
 *
 * Patterns are compiled with RE2 (`compileUrlPattern`), never `new RegExp`: they come from
 * payloads and run on the main thread, where one backtracking pattern would stall every job's
 * heartbeat and lock renewal in the process. RE2 matches in time linear in the URL; when the
 * payload has patterns, a link longer than `URL_PATTERN_MAX_INPUT_CHARS` is refused unmatched.
 * Linear is not free (a pattern RE2's DFA cannot cache costs ~0.8 µs per character), so
 * `acceptsAll` yields while it works and bounds the time one page's links may take.
 *
 * @throws RangeError when a pattern is not RE2 (payloads validated at enqueue never are).
 */
export function createUrlFilter(
  payload: Pick<ScrapePayload, 'sourceUrl' | 'sameOrigin' | 'includePatterns' | 'excludePatterns'>,
  options: UrlFilterOptions = {},
): UrlFilter {
  const origin = new URL(payload.sourceUrl).origin;
  const include = payload.includePatterns.map(compileUrlPattern);
  const exclude = payload.excludePatterns.map(compileUrlPattern);
  const yieldEveryMs = options.yieldEveryMs ?? 10;
  const maxMatchMsPerPage = options.maxMatchMsPerPage ?? 5000;
  const now = options.now ?? (() => performance.now());
  const accepts = (url: string): boolean => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return false;
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return false;
    if (payload.sameOrigin && parsed.origin !== origin) return false;
    if (include.length + exclude.length > 0 && url.length > URL_PATTERN_MAX_INPUT_CHARS) return false;
    if (include.length > 0 && !include.some((pattern) => pattern.test(url))) return false;
    return !exclude.some((pattern) => pattern.test(url));
  };
  return {
    accepts,
    async acceptsAll(urls) {
      const accepted: string[] = [];
      let spentMs = 0;
      let sliceStart = now();
      for (const url of urls) {
        if (accepts(url)) accepted.push(url);
        const elapsed = now() - sliceStart;
        if (elapsed >= yieldEveryMs) {
          spentMs += elapsed;
          if (spentMs > maxMatchMsPerPage) throw new UrlPatternBudgetError(spentMs, urls.length, maxMatchMsPerPage);
          await new Promise<void>((resolve) => setImmediate(resolve));
          sliceStart = now();
        }
      }
      spentMs += now() - sliceStart;
      if (spentMs > maxMatchMsPerPage) throw new UrlPatternBudgetError(spentMs, urls.length, maxMatchMsPerPage);
      return accepted;
    },
  };
}

/** The start URL as the crawler keys it: fragment removed. */
export function normaliseStartUrl(url: string): string {
  const parsed = new URL(url);
  parsed.hash = '';
  return parsed.href;
}
