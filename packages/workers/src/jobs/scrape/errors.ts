import { KaiJobsError } from '@kai-jobs/queue';

/** Stable codes of the scrape job's own errors. */
export const ScrapeErrorCode = {
  ProviderFailed: 'SCRAPE_PROVIDER_FAILED',
} as const;

/** A scrape provider's service (e.g. Firecrawl) failed to answer for a page. */
export class ScrapeProviderError extends KaiJobsError {
  override name = 'ScrapeProviderError' as const;
  constructor(
    readonly provider: string,
    readonly url: string,
    message: string,
    options: { retryable?: boolean; cause?: unknown } = {},
  ) {
    super(ScrapeErrorCode.ProviderFailed, `${provider} could not scrape ${url}: ${message}`, {
      retryable: options.retryable ?? true,
      cause: options.cause,
    });
  }
}

/**
 * The start page could not be crawled and nothing else was: retrying may help (timeout,
 * network, 5xx). Permanent causes (404, not HTML, refused) throw `PermanentJobError` instead.
 */
export class StartPageFailedError extends KaiJobsError {
  override name = 'StartPageFailedError' as const;
  constructor(
    readonly url: string,
    readonly reason: string,
    message: string,
  ) {
    super('SCRAPE_START_PAGE_FAILED', `the start page ${url} failed (${reason}): ${message}`, { retryable: true });
  }
}
