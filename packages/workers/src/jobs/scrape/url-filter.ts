import type { ScrapePayload } from '@kai-jobs/queue';

/** Decides which discovered links a session may crawl (depth and page limits aside). */
export interface UrlFilter {
  accepts(url: string): boolean;
}

/**
 * The payload's link rules: same origin as `sourceUrl` (when `sameOrigin`), matching one of
 * `includePatterns` (when any), matching none of `excludePatterns`. The start URL itself is
 * always crawled: the patterns choose among the links found.
 */
export function createUrlFilter(payload: Pick<ScrapePayload, 'sourceUrl' | 'sameOrigin' | 'includePatterns' | 'excludePatterns'>): UrlFilter {
  const origin = new URL(payload.sourceUrl).origin;
  const include = payload.includePatterns.map((pattern) => new RegExp(pattern));
  const exclude = payload.excludePatterns.map((pattern) => new RegExp(pattern));
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
