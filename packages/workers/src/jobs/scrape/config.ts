import { z } from 'zod';
import { ConfigError, type Clock, type Logger } from '@kai-jobs/queue';
import { UrlGuardOptionsSchema, type UrlGuard } from '../shared/url-guard.js';
import { DEFAULT_USER_AGENT } from './http-scrape-provider.js';
import type { ScrapeProvider } from './provider.js';

/** What a provider factory receives: the crawl's SSRF guard, clock and logger. */
export interface ScrapeProviderDeps {
  guard: UrlGuard;
  clock: Clock;
  logger: Logger;
  /** The job's HTTP settings, for providers that fetch themselves. */
  http: { userAgent: string; timeoutMs: number; maxBodyBytes: number; maxRedirects: number; perHostConcurrency: number };
}

/** Makes the page provider of one stage run (closed when the stage ends). */
export type ScrapeProviderFactory = (deps: ScrapeProviderDeps) => ScrapeProvider;

const MiB = 1024 * 1024;

/** Options of `createScrapeJob` (the worker's settings; the payload carries the per-session ones). */
export const ScrapeJobOptionsSchema = z
  .object({
    /** Makes the page provider. Default: the built-in HTTP fetcher with the settings below. */
    provider: z.custom<ScrapeProviderFactory>((value) => typeof value === 'function', 'expected a function').optional(),
    /** SSRF guard: `allow` lists hosts, addresses or CIDRs let through despite a refused range. Default: nothing allowed. */
    urlGuard: UrlGuardOptionsSchema.prefault({}),
    /** `User-Agent` sent, and matched against robots.txt groups by its product token. Default `KaiJobsBot/1.0 (+…)`. */
    userAgent: z.string().min(1).max(500).default(DEFAULT_USER_AGENT),
    /** Honour robots.txt (Allow/Disallow, Crawl-delay). Default true. */
    respectRobots: z.boolean().default(true),
    /** Requests in flight per origin at most. Default 2. */
    perHostConcurrency: z.number().int().min(1).max(32).default(2),
    /** Requests in flight across all origins at most. Default 8. */
    maxConcurrency: z.number().int().min(1).max(256).default(8),
    /** Minimum time between two request starts on one origin (ms); robots.txt Crawl-delay can raise it. Default 250. */
    delayMs: z.number().int().min(0).max(600_000).default(250),
    /** Highest Crawl-delay honoured (ms): a site asking for more gets this. Default 30 000. */
    maxCrawlDelayMs: z.number().int().min(0).max(3_600_000).default(30_000),
    /** Whole request, redirects and body included (ms). Default 15 000. */
    timeoutMs: z.number().int().positive().default(15_000),
    /** Largest page body read (bytes); reading stops past it and the page fails. Default 5 MiB. */
    maxBodyBytes: z.number().int().positive().default(5 * MiB),
    /** Redirects followed per request at most (a loop fails at once). Default 5. */
    maxRedirects: z.number().int().min(0).max(20).default(5),
    /** Visible text kept per page (characters). Default 100 000. */
    maxTextChars: z.number().int().min(0).default(100_000),
    /** Links kept (and followed) per page. Default 1000. */
    maxLinksPerPage: z.number().int().min(0).default(1000),
    /** Counters are written after this many pages… Default 20. */
    countersEveryPages: z.number().int().min(1).default(20),
    /** …or after this long, whichever comes first (ms). Default 1000. */
    countersIntervalMs: z.number().int().min(0).default(1000),
    /** The crawl state is saved after this many pages (at least; grows to 5% of the finished pages)… Default 50. */
    checkpointEveryPages: z.number().int().min(1).default(50),
    /** …or after this long, whichever comes first (ms; grows by 1× per 1000 finished pages). Default 5000. */
    checkpointIntervalMs: z.number().int().min(0).default(5000),
    /** A pages part is also cut (and the state saved) once its buffered records reach this size (bytes). Default 8 MiB. */
    partMaxBytes: z.number().int().min(1024).default(8 * MiB),
    /** Clock for delays, throttles and timeouts. Default the system clock. */
    clock: z.custom<Clock>((value) => typeof value === 'object' && value !== null && 'now' in value && 'sleep' in value).optional(),
  })
  .strict();
/** What callers pass to `createScrapeJob`. */
export type ScrapeJobOptions = z.input<typeof ScrapeJobOptionsSchema>;
/** Resolved scrape job options. */
export type ScrapeJobConfig = z.output<typeof ScrapeJobOptionsSchema>;

/** Parses scrape job options; throws one {@link ConfigError} listing every problem. */
export function parseScrapeJobOptions(input: ScrapeJobOptions = {}): ScrapeJobConfig {
  const result = ScrapeJobOptionsSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new ConfigError(`invalid scrape job options: ${problems.join('; ')}`);
  }
  return result.data;
}
