import { z } from 'zod';
import { FetchFailureReason } from '../shared/errors.js';
import { ScrapedProductSchema } from './json-ld-products.js';

/** Why a page counts as failed: a fetch failure, or one of the crawler's own verdicts. */
export const PageFailureReason = {
  ...FetchFailureReason,
  /** The server answered with a status outside 2xx. */
  HttpError: 'http_error',
  /** The response is not HTML (its body was not downloaded). */
  NotHtml: 'not_html',
  /** The scrape provider's service failed (e.g. Firecrawl answered 5xx). */
  ProviderError: 'provider_error',
  /** Anything else (logged with its stack). */
  Error: 'error',
} as const;
/** One of {@link PageFailureReason}. */
export type PageFailureReason = (typeof PageFailureReason)[keyof typeof PageFailureReason];

/** Why a page failed. */
export const PageErrorSchema = z.object({
  reason: z.string(),
  message: z.string(),
  /** Whether a later attempt may succeed (timeouts, network errors, 5xx). */
  retryable: z.boolean(),
});

/** One line of the pages artifact: a crawled page, completed or failed. */
export const PageRecordSchema = z.object({
  url: z.string(),
  /** URL that answered after redirects (equals `url` without redirects). */
  finalUrl: z.string(),
  /** Link hops from the session's `sourceUrl`. */
  depth: z.number().int().nonnegative(),
  status: z.enum(['completed', 'failed']),
  /** HTTP status of the final response; null when there was none (timeout, refused…). */
  httpStatus: z.number().int().nullable(),
  title: z.string().nullable(),
  text: z.string(),
  textTruncated: z.boolean(),
  links: z.array(z.string()),
  products: z.array(ScrapedProductSchema),
  markdown: z.string().optional(),
  error: PageErrorSchema.nullable(),
  /** The provider that fetched it (`http`, `firecrawl`). */
  provider: z.string(),
});
/** One crawled page. */
export type PageRecord = z.infer<typeof PageRecordSchema>;

/** A failed page, as kept in the stage output (the first 100). */
export const PageFailureSchema = z.object({ url: z.string(), reason: z.string(), message: z.string() });
/** A failed page. */
export type PageFailure = z.infer<typeof PageFailureSchema>;

/** Failed pages kept in outputs and resume states. */
export const MAX_KEPT_FAILURES = 100;
