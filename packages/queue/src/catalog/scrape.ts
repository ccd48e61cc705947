import { z } from 'zod';
import { IdSchema, RegexSourceSchema } from './common.js';

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
    /** Only URLs matching one of these regular expressions are crawled (empty = all). */
    includePatterns: z.array(RegexSourceSchema).max(100).default([]),
    /** URLs matching any of these regular expressions are skipped. */
    excludePatterns: z.array(RegexSourceSchema).max(100).default([]),
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
