/**
 * `scrape-session-manager`: starts a scraping session. POST a JSON body
 * `{ source_url, max_pages?, max_depth?, include_patterns?, exclude_patterns?, same_origin?,
 * background_job_id? }`; it creates the `scraping_sessions` row (`pending`) and enqueues a
 * kai-jobs `scrape` job with the session's id as the job id, answering 201
 * `{ session_id, job_id, job_type, created }`. A failure is reported to Sentry once —
 * fingerprint `['scraping-session-failed', source_url]`, tag `function: scrape-session-manager`
 * — and answered 400 (bad input, naming the field) or 5xx.
 */
import { createEnqueueHandler, type FailureFacts } from '../_shared/enqueue-function.ts';
import { optionalBoolean, optionalInteger, optionalString, optionalStrings, refuseUnknownFields, requiredHttpUrl } from '../_shared/http.ts';
import type { CaptureContext } from '../_shared/sentry.ts';

/** The function's name, as the platform's alert rules know it. */
export const FUNCTION_NAME = 'scrape-session-manager';

const FIELDS = ['source_url', 'max_pages', 'max_depth', 'include_patterns', 'exclude_patterns', 'same_origin', 'background_job_id'] as const;

/** A checked request. */
export interface ScrapeSessionInput {
  sourceUrl: string;
  maxPages?: number;
  maxDepth?: number;
  includePatterns?: string[];
  excludePatterns?: string[];
  sameOrigin?: boolean;
  backgroundJobId?: string;
}

/** Checks the body; throws `InputError` naming the first bad field. */
export function parseScrapeSessionInput(body: Record<string, unknown>): ScrapeSessionInput {
  refuseUnknownFields(body, FIELDS);
  const input: ScrapeSessionInput = { sourceUrl: requiredHttpUrl(body, 'source_url') };
  const maxPages = optionalInteger(body, 'max_pages', 1, 100_000);
  const maxDepth = optionalInteger(body, 'max_depth', 0, 50);
  const includePatterns = optionalStrings(body, 'include_patterns', 100);
  const excludePatterns = optionalStrings(body, 'exclude_patterns', 100);
  const sameOrigin = optionalBoolean(body, 'same_origin');
  const backgroundJobId = optionalString(body, 'background_job_id');
  if (maxPages !== undefined) input.maxPages = maxPages;
  if (maxDepth !== undefined) input.maxDepth = maxDepth;
  if (includePatterns !== undefined) input.includePatterns = includePatterns;
  if (excludePatterns !== undefined) input.excludePatterns = excludePatterns;
  if (sameOrigin !== undefined) input.sameOrigin = sameOrigin;
  if (backgroundJobId !== undefined) input.backgroundJobId = backgroundJobId;
  return input;
}

function text(value: unknown): string {
  return typeof value === 'string' && value.trim() !== '' ? value : 'unknown';
}

/** The platform's alert for a failed session: the same tags and fingerprint as the monitor's `scraping-session-failed`. */
export function scrapeFailureContext({ rowId, body, error, step }: FailureFacts): CaptureContext {
  const sourceUrl = text(body?.['source_url']);
  const sessionId = text(rowId);
  return {
    tags: {
      function: FUNCTION_NAME,
      error_type: 'scraping_session_failed',
      session_id: sessionId,
      source_url: sourceUrl,
      step,
    },
    contexts: {
      scraping_session_failed: {
        session_id: sessionId,
        source_url: sourceUrl,
        background_job_id: typeof body?.['background_job_id'] === 'string' ? body['background_job_id'] : null,
        step,
        error_message: error.message,
      },
    },
    fingerprint: ['scraping-session-failed', sourceUrl],
  };
}

/** The request handler (exported for tests; `index.ts` serves it). */
export const handleScrapeSession = createEnqueueHandler<ScrapeSessionInput>({
  name: FUNCTION_NAME,
  table: 'scraping_sessions',
  jobType: 'scrape',
  idField: 'session_id',
  parse: parseScrapeSessionInput,
  payload: (input, sessionId) => ({ ...input, sessionId }),
  alert: scrapeFailureContext,
});
