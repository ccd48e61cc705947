import { KaiJobsError } from '@kai-jobs/queue';

/** The feed's server answered with a status a later attempt may not get (5xx, 408, 429). */
export class FeedUnavailableError extends KaiJobsError {
  override name = 'FeedUnavailableError' as const;
  constructor(
    readonly url: string,
    readonly status: number,
  ) {
    super('FEED_UNAVAILABLE', `the feed URL ${url} answered HTTP ${status}; a later attempt may succeed`, { retryable: true });
  }
}
