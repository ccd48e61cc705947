import { z } from 'zod';
import { IdSchema } from './common.js';
import { URL_PATTERNS_MAX, UrlPatternSchema } from './url-pattern.js';

/** The scraping session's stages, in order. */
export const ScrapeStage = {
  /** Crawl the site; the crawl state is checkpointed as it goes. */
  SiteCrawled: 'site_crawled',
  /** Pages and products written out; the session summary computed. */
  ResultsSaved: 'results_saved',
} as const;
/** One of {@link ScrapeStage}. */
export type ScrapeStage = (typeof ScrapeStage)[keyof typeof ScrapeStage];

/** The payload of a `scrape` job: one scraping session. */
export const ScrapePayloadSchema = z
  .object({
    /** The platform's `scraping_sessions` row id. */
    sessionId: IdSchema,
    /** Where the crawl starts. */
    sourceUrl: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
    /** The linked `background_jobs` row, when the platform created one. */
    backgroundJobId: IdSchema.optional(),
    /** Stop after this many pages. Default 100. */
    maxPages: z.number().int().min(1).max(100_000).default(100),
    /** Follow links at most this many hops from `sourceUrl`. Default 3. */
    maxDepth: z.number().int().min(0).max(50).default(3),
    /**
     * Only links matching one of these patterns are crawled (empty = all). Patterns are RE2
     * regular expressions, not JavaScript ones: no backreferences or lookaround, matched
     * unanchored against the whole URL in time linear in its length (see `UrlPatternSchema`).
     * At most 100 patterns of at most 500 characters; one RE2 cannot compile is refused at
     * enqueue with its field path and reason. Default `[]`.
     */
    includePatterns: z
      .array(UrlPatternSchema)
      .max(URL_PATTERNS_MAX)
      .default([])
      .describe('RE2 regular expressions (no backreferences or lookaround, linear-time matching); a discovered link must match one; at most 100 of at most 500 characters'),
    /** Links matching any of these RE2 patterns are skipped (same language and limits as `includePatterns`). Default `[]`. */
    excludePatterns: z
      .array(UrlPatternSchema)
      .max(URL_PATTERNS_MAX)
      .default([])
      .describe('RE2 regular expressions (no backreferences or lookaround, linear-time matching); a discovered link matching any is skipped; at most 100 of at most 500 characters'),
    /** Stay on the origin of `sourceUrl`. Default true. */
    sameOrigin: z.boolean().default(true),
  })
  .strict();
/** A validated `scrape` payload. */
export type ScrapePayload = z.output<typeof ScrapePayloadSchema>;
/** What a producer passes for a `scrape` job. */
export type ScrapePayloadInput = z.input<typeof ScrapePayloadSchema>;

/** The result of a completed `scrape` job. */
export const ScrapeResultSchema = z.object({
  sessionId: IdSchema,
  totalPages: z.number().int().nonnegative(),
  completedPages: z.number().int().nonnegative(),
  failedPages: z.number().int().nonnegative(),
  products: z.number().int().nonnegative(),
  /** Artifact key of the saved pages (JSON lines). */
  pagesArtifact: z.string().optional(),
});
/** The result of a completed `scrape` job. */
export type ScrapeResult = z.infer<typeof ScrapeResultSchema>;
