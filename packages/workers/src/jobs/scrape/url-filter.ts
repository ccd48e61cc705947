import { compileUrlPattern, URL_PATTERN_MAX_INPUT_CHARS, type ScrapePayload } from '@kai-jobs/queue';

/** Decides which discovered links a session may crawl (depth and page limits aside). */
export interface UrlFilter {
  accepts(url: string): boolean;
}

/**
 * The payload's link rules: same origin as `sourceUrl` (when `sameOrigin`), matching one of
 * `includePatterns` (when any), matching none of `excludePatterns`. The start URL itself is
 * always crawled: the patterns choose among the links found.
 *
 * Patterns are compiled with RE2 (`compileUrlPattern`), never `new RegExp`: they come from
 * payloads and run on the main thread, where one backtracking pattern would stall every job's
 * heartbeat and lock renewal in the process. RE2 matches in time linear in the URL; when the
 * payload has patterns, a link longer than `URL_PATTERN_MAX_INPUT_CHARS` is refused unmatched
 * (no server would take such a request line anyway).
 *
 * @throws RangeError when a pattern is not RE2 (payloads validated at enqueue never are).
 */
export function createUrlFilter(payload: Pick<ScrapePayload, 'sourceUrl' | 'sameOrigin' | 'includePatterns' | 'excludePatterns'>): UrlFilter {
  const origin = new URL(payload.sourceUrl).origin;
  const include = payload.includePatterns.map(compileUrlPattern);
  const exclude = payload.excludePatterns.map(compileUrlPattern);
  return {
    accepts(url: string): boolean {
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
    },
  };
}

/** The start URL as the crawler keys it: fragment removed. */
export function normaliseStartUrl(url: string): string {
  const parsed = new URL(url);
  parsed.hash = '';
  return parsed.href;
}
