import { z } from 'zod';
import { ConfigError, systemClock, toError, type Clock } from '@kai-jobs/queue';
import { startDeadline } from '../shared/guarded-http.js';
import { FetchFailureReason, HttpFetchError } from '../shared/errors.js';
import { UrlGuard } from '../shared/url-guard.js';
import { ScrapeProviderError } from './errors.js';
import type { ScrapeFetchRequest, ScrapeFetchResult, ScrapeProvider } from './provider.js';

/** Options of {@link createFirecrawlProvider}. */
export const FirecrawlProviderOptionsSchema = z
  .object({
    /** Base URL of the Firecrawl-compatible API, e.g. `https://api.firecrawl.dev` (no trailing `/v1`). */
    baseUrl: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
    /** API key, sent as `Authorization: Bearer <key>`. Never logged. */
    apiKey: z.string().min(1),
    /** Whole API call (ms); the service renders pages, so it is slower than a plain GET. Default 60 000. */
    timeoutMs: z.number().int().positive().default(60_000),
    /**
     * Checks each target URL before it is handed over: a self-hosted service inside the
     * network would otherwise fetch internal addresses on the crawler's behalf. Default: a
     * guard with an empty allow list.
     */
    guard: z.instanceof(UrlGuard).optional(),
    /** Ask the service for the main content only (drops navigation, footers). Default false: links are needed. */
    onlyMainContent: z.boolean().default(false),
    /** Clock for the timeout. Default the system clock. */
    clock: z.custom<Clock>((value) => typeof value === 'object' && value !== null && 'now' in value).optional(),
  })
  .strict();
/** What callers pass to {@link createFirecrawlProvider}. */
export type FirecrawlProviderOptions = z.input<typeof FirecrawlProviderOptionsSchema>;

const FirecrawlResponseSchema = z.object({
  success: z.boolean(),
  error: z.string().optional(),
  data: z
    .object({
      html: z.string().nullish(),
      rawHtml: z.string().nullish(),
      markdown: z.string().nullish(),
      metadata: z
        .object({
          statusCode: z.number().int().optional(),
          sourceURL: z.string().optional(),
          url: z.string().optional(),
          contentType: z.string().optional(),
          error: z.string().nullish(),
        })
        .loose()
        .optional(),
    })
    .loose()
    .optional(),
});

/**
 * A provider that asks a Firecrawl-compatible service (`POST {baseUrl}/v1/scrape`, formats
 * html and markdown) for each page. The service follows redirects itself, so `redirects` is
 * empty and `finalUrl` is what it reports.
 */
export function createFirecrawlProvider(input: FirecrawlProviderOptions): ScrapeProvider {
  const parsed = FirecrawlProviderOptionsSchema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(
      `invalid Firecrawl provider options: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
    );
  }
  const options = parsed.data;
  const guard = options.guard ?? new UrlGuard();
  const clock = options.clock ?? systemClock;
  const endpoint = new URL('v1/scrape', options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`).href;
  return {
    name: 'firecrawl',
    async fetch(request: ScrapeFetchRequest): Promise<ScrapeFetchResult> {
      await guard.check(request.url);
      const deadline = startDeadline(request.signal, options.timeoutMs, clock);
      let status: number;
      let text: string;
      try {
        const response = await fetch(endpoint, {
          method: 'POST',
          headers: { authorization: `Bearer ${options.apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ url: request.url, formats: ['html', 'markdown'], onlyMainContent: options.onlyMainContent }),
          signal: deadline.signal,
        });
        status = response.status;
        text = await response.text();
      } catch (error) {
        if (deadline.timedOut()) {
          throw new HttpFetchError(FetchFailureReason.Timeout, request.url, `firecrawl gave no answer for ${request.url} within ${options.timeoutMs} ms`);
        }
        if (request.signal.aborted) throw toError(request.signal.reason);
        throw new ScrapeProviderError('firecrawl', request.url, `request to ${endpoint} failed: ${toError(error).message}`, { cause: error });
      } finally {
        deadline.dispose();
      }
      let body: z.infer<typeof FirecrawlResponseSchema>;
      try {
        body = FirecrawlResponseSchema.parse(JSON.parse(text));
      } catch {
        throw new ScrapeProviderError('firecrawl', request.url, `HTTP ${status} with a body that is not a Firecrawl response`, {
          retryable: status >= 500 || status === 429,
        });
      }
      if (status < 200 || status >= 300 || !body.success || body.data === undefined) {
        // The service's own reason, bounded: it is the provider's message, not the page's content.
        throw new ScrapeProviderError('firecrawl', request.url, `HTTP ${status}: ${(body.error ?? 'unsuccessful').slice(0, 200)}`, {
          retryable: status >= 500 || status === 429,
        });
      }
      const metadata = body.data.metadata ?? {};
      const finalUrl = metadata.url ?? metadata.sourceURL ?? request.url;
      // The service follows redirects itself, out of our sight: at least the page it ended on
      // must pass the guard, or a redirect to an internal address would come back as content.
      if (finalUrl !== request.url) await guard.check(finalUrl);
      const html = body.data.html ?? body.data.rawHtml ?? '';
      const result: ScrapeFetchResult = {
        status: metadata.statusCode ?? 200,
        finalUrl,
        contentType: metadata.contentType ?? 'text/html',
        body: html,
        redirects: [],
      };
      if (typeof body.data.markdown === 'string') result.markdown = body.data.markdown;
      return result;
    },
    async close() {
      // Nothing pooled: fetch's global dispatcher is shared by the process.
    },
  };
}
