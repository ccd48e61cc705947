import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ArtifactRefSchema, ScrapeStage, systemClock } from '@kai-jobs/queue';
import { defineStage, defineStagedJob, type StagedJobDefinition } from '../../staged-job.js';
import { closeAgents, createAgents } from '../shared/guarded-http.js';
import { UrlGuard } from '../shared/url-guard.js';
import { parseScrapeJobOptions, type ScrapeJobConfig, type ScrapeJobOptions, type ScrapeProviderFactory } from './config.js';
import { Crawler } from './crawler.js';
import { SiteCrawledOutputSchema } from './crawl-state.js';
import { createHttpScrapeProvider } from './http-scrape-provider.js';
import type { ScrapedProduct } from './json-ld-products.js';
import type { PageRecord } from './page-record.js';
import { httpRobotsLoader, RobotsCache } from './robots-cache.js';

/** The `results_saved` stage's output. */
export const ResultsSavedOutputSchema = z.object({
  /** JSON lines, one per page: url, finalUrl, depth, status, httpStatus, title, error, products, and where the full record is (`part`, `line`). */
  pagesArtifact: ArtifactRefSchema,
  /** JSON lines, one per distinct product (by SKU, else URL and name). */
  productsArtifact: ArtifactRefSchema,
  pages: z.number().int().nonnegative(),
  products: z.number().int().nonnegative(),
});
/** The `results_saved` stage's output. */
export type ResultsSavedOutput = z.infer<typeof ResultsSavedOutputSchema>;

const defaultProviderFactory: ScrapeProviderFactory = (deps) =>
  createHttpScrapeProvider({
    guard: deps.guard,
    clock: deps.clock,
    userAgent: deps.http.userAgent,
    timeoutMs: deps.http.timeoutMs,
    maxBodyBytes: deps.http.maxBodyBytes,
    maxRedirects: deps.http.maxRedirects,
    maxSocketsPerHost: deps.http.perHostConcurrency,
  });

function siteCrawledStage(config: ScrapeJobConfig) {
  return defineStage<'scrape', typeof ScrapeStage.SiteCrawled, typeof SiteCrawledOutputSchema>({
    name: ScrapeStage.SiteCrawled,
    output: SiteCrawledOutputSchema,
    weight: 9,
    async run(ctx) {
      const clock = config.clock ?? systemClock;
      const guard = new UrlGuard(config.urlGuard);
      const provider = (config.provider ?? defaultProviderFactory)({
        guard,
        clock,
        logger: ctx.logger,
        http: {
          userAgent: config.userAgent,
          timeoutMs: config.timeoutMs,
          maxBodyBytes: config.maxBodyBytes,
          maxRedirects: config.maxRedirects,
          perHostConcurrency: config.perHostConcurrency,
        },
      });
      const agents = createAgents(2);
      const loader = httpRobotsLoader({ guard, userAgent: config.userAgent, timeoutMs: config.timeoutMs, maxRedirects: config.maxRedirects, agents, clock });
      const robots = new RobotsCache(config.respectRobots ? loader : null);
      try {
        return await new Crawler({ ctx, config, provider, robots, guard, clock }).run();
      } finally {
        await provider.close();
        closeAgents(agents);
      }
    },
  });
}

function productKey(product: ScrapedProduct): string {
  return product.sku !== undefined ? `sku:${product.sku}` : `url:${product.url}#${product.name}`;
}

function resultsSavedStage(crawled: ReturnType<typeof siteCrawledStage>) {
  return defineStage<'scrape', typeof ScrapeStage.ResultsSaved, typeof ResultsSavedOutputSchema>({
    name: ScrapeStage.ResultsSaved,
    output: ResultsSavedOutputSchema,
    weight: 1,
    async run(ctx, previous) {
      const crawl = previous.get(crawled);
      const index: string[] = [];
      const products = new Map<string, ScrapedProduct>();
      for (const [partIndex, part] of crawl.parts.entries()) {
        ctx.throwIfAborted();
        const body = await ctx.artifacts.getByKey(part.key);
        const sha256 = createHash('sha256').update(body).digest('hex');
        if (sha256 !== part.sha256) throw new Error(`pages part ${part.key} does not match its checkpointed sha256; it was changed after the crawl`);
        const lines = body.toString('utf8').split('\n');
        lines.forEach((line, lineIndex) => {
          if (line === '') return;
          const page = JSON.parse(line) as PageRecord;
          index.push(
            JSON.stringify({
              url: page.url,
              finalUrl: page.finalUrl,
              depth: page.depth,
              status: page.status,
              httpStatus: page.httpStatus,
              title: page.title,
              error: page.error,
              products: page.products.length,
              part: part.key,
              line: lineIndex + 1,
            }),
          );
          // The first page describing a product wins; later pages (listings) rarely say more.
          for (const product of page.products) if (!products.has(productKey(product))) products.set(productKey(product), product);
        });
        await ctx.progress(Math.floor(((partIndex + 1) / crawl.parts.length) * 90), `part ${partIndex + 1} of ${crawl.parts.length}`);
      }
      const toLines = (items: string[]): string => (items.length === 0 ? '' : `${items.join('\n')}\n`);
      const pagesArtifact = await ctx.artifacts.put('pages.jsonl', toLines(index), { contentType: 'application/x-ndjson' });
      const productsArtifact = await ctx.artifacts.put('products.jsonl', toLines([...products.values()].map((product) => JSON.stringify(product))), {
        contentType: 'application/x-ndjson',
      });
      await ctx.progress(100, `${index.length} pages, ${products.size} products`);
      ctx.logger.info('scraping results saved', { pages: index.length, products: products.size });
      return { pagesArtifact, productsArtifact, pages: index.length, products: products.size };
    },
  });
}

/**
 * The scraping-session job (`scrape`, queue `web-scraping`): `site_crawled` crawls the
 * site within the payload's limits, saving its state as it goes; `results_saved` writes the
 * page index and the de-duplicated products. See jobs/scrape/README.md.
 */
export function createScrapeJob(options: ScrapeJobOptions = {}): StagedJobDefinition<'scrape'> {
  const config = parseScrapeJobOptions(options);
  const crawled = siteCrawledStage(config);
  const saved = resultsSavedStage(crawled);
  return defineStagedJob<'scrape'>({
    type: 'scrape',
    stages: [crawled, saved],
    result(outputs, { payload }) {
      const crawl = outputs.get(crawled);
      const results = outputs.get(saved);
      return {
        sessionId: payload.sessionId,
        totalPages: crawl.totalPages,
        completedPages: crawl.completedPages,
        failedPages: crawl.failedPages,
        products: results.products,
        pagesArtifact: results.pagesArtifact.key,
      };
    },
  });
}
