/**
 * How the crawler gets a page. The built-in provider fetches it directly
 * (`createHttpScrapeProvider`); `createFirecrawlProvider` asks a Firecrawl-compatible
 * service. A provider throws `HttpFetchError` (with a reason) or `ScrapeProviderError`
 * when it cannot produce a response; an HTTP error status is a response, not a throw.
 */

/** One page to fetch. */
export interface ScrapeFetchRequest {
  /** Absolute http(s) URL. */
  url: string;
  /** Aborted when the job is aborted; the provider stops at once. */
  signal: AbortSignal;
}

/** What a provider returns for one page. */
export interface ScrapeFetchResult {
  /** HTTP status of the final response. */
  status: number;
  /** The URL that answered, after redirects. */
  finalUrl: string;
  /** The `Content-Type` (with parameters), or null when absent. */
  contentType: string | null;
  /** The decoded body; empty when the provider did not read it (not HTML). */
  body: string;
  /** Each redirect target followed, in order. */
  redirects: string[];
  /** Markdown of the page, when the provider makes it (Firecrawl). */
  markdown?: string;
}

/** A source of pages for the crawler. */
export interface ScrapeProvider {
  /** Short name for logs and the page records (`http`, `firecrawl`). */
  readonly name: string;
  fetch(request: ScrapeFetchRequest): Promise<ScrapeFetchResult>;
  /** Releases sockets; called when the stage ends. */
  close(): Promise<void>;
}

/** True for an HTML content type (`text/html`, `application/xhtml+xml`). */
export function isHtmlContentType(contentType: string | null): boolean {
  if (contentType === null) return false;
  const essence = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return essence === 'text/html' || essence === 'application/xhtml+xml';
}
