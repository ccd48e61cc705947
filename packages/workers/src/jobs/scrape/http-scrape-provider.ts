import { z } from 'zod';
import { ConfigError, systemClock, type Clock } from '@kai-jobs/queue';
import { closeAgents, createAgents, fetchBuffered } from '../shared/guarded-http.js';
import { UrlGuard } from '../shared/url-guard.js';
import { isHtmlContentType, type ScrapeFetchRequest, type ScrapeFetchResult, type ScrapeProvider } from './provider.js';

/** The User-Agent the crawler sends (and matches robots.txt groups by: `KaiJobsBot`). */
export const DEFAULT_USER_AGENT = 'KaiJobsBot/1.0 (+https://github.com/material-kai/kai-jobs)';

/** Options of {@link createHttpScrapeProvider}. */
export const HttpScrapeProviderOptionsSchema = z
  .object({
    /** The SSRF guard every hop goes through. Default: a guard with an empty allow list. */
    guard: z.instanceof(UrlGuard).optional(),
    /** `User-Agent` header. Default {@link DEFAULT_USER_AGENT}. */
    userAgent: z.string().min(1).max(500).default(DEFAULT_USER_AGENT),
    /** Whole request, redirects and body included (ms). Default 15 000. */
    timeoutMs: z.number().int().positive().default(15_000),
    /** Largest body read (bytes, after decompression); reading stops past it. Default 5 MiB. */
    maxBodyBytes: z.number().int().positive().default(5 * 1024 * 1024),
    /** Redirects followed at most. Default 5. */
    maxRedirects: z.number().int().min(0).max(20).default(5),
    /** Keep-alive connections per host. Default 2. */
    maxSocketsPerHost: z.number().int().min(1).max(64).default(2),
    /** Clock for the timeouts. Default the system clock. */
    clock: z.custom<Clock>((value) => typeof value === 'object' && value !== null && 'now' in value).optional(),
  })
  .strict();
/** What callers pass to {@link createHttpScrapeProvider}. */
export type HttpScrapeProviderOptions = z.input<typeof HttpScrapeProviderOptionsSchema>;

function charsetOf(contentType: string | null): string {
  const match = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '');
  return match?.[1]?.toLowerCase() ?? 'utf-8';
}

function decode(body: Buffer, contentType: string | null): string {
  let decoder: InstanceType<typeof TextDecoder>;
  try {
    decoder = new TextDecoder(charsetOf(contentType));
  } catch {
    decoder = new TextDecoder('utf-8');
  }
  return decoder.decode(body);
}

function looksLikeHtml(body: Buffer): boolean {
  return /^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html[\s>])/is.test(body.subarray(0, 1024).toString('latin1'));
}

/**
 * The built-in provider: GETs the page itself through the SSRF guard (pinned addresses,
 * redirects re-checked), with a timeout and a body-size limit, and reads the body only for
 * HTML (or an untyped response that sniffs as HTML).
 */
export function createHttpScrapeProvider(input: HttpScrapeProviderOptions = {}): ScrapeProvider {
  const parsed = HttpScrapeProviderOptionsSchema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(`invalid HTTP scrape provider options: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  }
  const options = parsed.data;
  const guard = options.guard ?? new UrlGuard();
  const agents = createAgents(options.maxSocketsPerHost);
  const clock = options.clock ?? systemClock;
  return {
    name: 'http',
    async fetch(request: ScrapeFetchRequest): Promise<ScrapeFetchResult> {
      const response = await fetchBuffered(request.url, {
        guard,
        signal: request.signal,
        timeoutMs: options.timeoutMs,
        maxBodyBytes: options.maxBodyBytes,
        maxRedirects: options.maxRedirects,
        agents,
        clock,
        headers: { 'user-agent': options.userAgent, accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.1' },
        accept: (contentType) => contentType === null || isHtmlContentType(contentType),
      });
      let contentType = response.contentType;
      if (contentType === null && response.body !== null && looksLikeHtml(response.body)) contentType = 'text/html';
      const html = isHtmlContentType(contentType) && response.body !== null;
      return {
        status: response.status,
        finalUrl: response.finalUrl,
        contentType,
        body: html ? decode(response.body as Buffer, contentType) : '',
        redirects: response.redirects,
      };
    },
    async close() {
      closeAgents(agents);
    },
  };
}
