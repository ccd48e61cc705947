import { isKaiJobsError, toError, type Logger } from '@kai-jobs/queue';
import { isHttpFetchError } from '../shared/errors.js';
import { extractHtml } from './html-extract.js';
import { productsFromJsonLd } from './json-ld-products.js';
import { PageFailureReason, type PageRecord } from './page-record.js';
import { isHtmlContentType, type ScrapeFetchResult } from './provider.js';

/** Limits applied while turning a response into a page record. */
export interface PageBuildLimits {
  maxTextChars: number;
  maxLinksPerPage: number;
}

function failed(
  url: string,
  depth: number,
  provider: string,
  error: { reason: string; message: string; retryable: boolean },
  extra: Partial<PageRecord> = {},
): PageRecord {
  return {
    url,
    finalUrl: url,
    depth,
    status: 'failed',
    httpStatus: null,
    title: null,
    text: '',
    textTruncated: false,
    links: [],
    products: [],
    error,
    provider,
    ...extra,
  };
}

/** The record of a page whose provider answered: completed for 2xx HTML, failed otherwise. */
export function pageFromResult(url: string, depth: number, provider: string, result: ScrapeFetchResult, limits: PageBuildLimits): PageRecord {
  const base = { finalUrl: result.finalUrl, httpStatus: result.status };
  if (result.status < 200 || result.status >= 300) {
    const retryable = result.status >= 500 || result.status === 429 || result.status === 408;
    return failed(url, depth, provider, { reason: PageFailureReason.HttpError, message: `HTTP ${result.status} from ${result.finalUrl}`, retryable }, base);
  }
  if (!isHtmlContentType(result.contentType)) {
    const message = `not HTML: content type ${result.contentType ?? '(none)'}`;
    return failed(url, depth, provider, { reason: PageFailureReason.NotHtml, message, retryable: false }, base);
  }
  const extracted = extractHtml(result.body, result.finalUrl, { maxTextChars: limits.maxTextChars, maxLinks: limits.maxLinksPerPage });
  const record: PageRecord = {
    url,
    finalUrl: result.finalUrl,
    depth,
    status: 'completed',
    httpStatus: result.status,
    title: extracted.title,
    text: extracted.text,
    textTruncated: extracted.textTruncated,
    links: extracted.links,
    products: productsFromJsonLd(extracted.jsonLd, result.finalUrl),
    error: null,
    provider,
  };
  if (result.markdown !== undefined) record.markdown = result.markdown;
  return record;
}

/** The record of a page whose fetch threw: the reason comes from the error. */
export function pageFromError(url: string, depth: number, provider: string, error: unknown, logger: Logger): PageRecord {
  if (isHttpFetchError(error)) return failed(url, depth, provider, { reason: error.reason, message: error.message, retryable: error.retryable });
  const normalised = toError(error);
  if (isKaiJobsError(normalised) && normalised.name === 'ScrapeProviderError') {
    return failed(url, depth, provider, { reason: PageFailureReason.ProviderError, message: normalised.message, retryable: normalised.retryable });
  }
  logger.warn('page failed with an unexpected error', { url, error: normalised.message, stack: normalised.stack });
  return failed(url, depth, provider, { reason: PageFailureReason.Error, message: normalised.message, retryable: false });
}
