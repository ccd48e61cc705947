import { z } from 'zod';
import { ArtifactRefSchema } from '@kai-jobs/queue';
import { PageFailureSchema } from './page-record.js';

/**
 * What `site_crawled` saves with `ctx.saveResumeState` so an interrupted crawl continues:
 * every URL already known (scheduled, finished, or reached by redirect), the frontier of
 * scheduled-but-unfinished pages with their depths, the counts, and the artifact parts
 * holding the pages finished so far. Taken in one synchronous step, so a page is either
 * finished and in a part, or in the frontier — never lost, never both.
 */
export const CrawlResumeStateSchema = z.object({
  version: z.literal(1),
  /** The session's start URL: a state for another URL is ignored. */
  sourceUrl: z.string(),
  known: z.array(z.string()),
  frontier: z.array(z.object({ url: z.string(), depth: z.number().int().nonnegative() })),
  robotsSkipped: z.array(z.string()),
  counts: z.object({
    completed: z.number().int().nonnegative(),
    failed: z.number().int().nonnegative(),
    products: z.number().int().nonnegative(),
  }),
  failures: z.array(PageFailureSchema),
  parts: z.array(ArtifactRefSchema),
});
/** A saved crawl state. */
export type CrawlResumeState = z.infer<typeof CrawlResumeStateSchema>;

/** The `site_crawled` stage's output (its checkpoint). */
export const SiteCrawledOutputSchema = z.object({
  sourceUrl: z.string(),
  totalPages: z.number().int().nonnegative(),
  completedPages: z.number().int().nonnegative(),
  failedPages: z.number().int().nonnegative(),
  /** Distinct URLs not fetched because robots.txt disallows them. */
  robotsSkipped: z.number().int().nonnegative(),
  /** Products found on pages (before de-duplication in `results_saved`). */
  productsFound: z.number().int().nonnegative(),
  /** JSON-lines parts holding every page record, in order. */
  parts: z.array(ArtifactRefSchema),
  /** The first 100 failed pages. */
  failures: z.array(PageFailureSchema),
  /** True when the crawl continued from a saved state. */
  resumed: z.boolean(),
});
/** The `site_crawled` stage's output. */
export type SiteCrawledOutput = z.infer<typeof SiteCrawledOutputSchema>;
