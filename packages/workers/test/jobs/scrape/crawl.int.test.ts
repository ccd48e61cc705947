import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createScrapeJob, LocalFolderArtifactStore, type PageRecord, type ScrapedProduct } from '@kai-jobs/workers';
import { runStagesForTest } from '@kai-jobs/workers/testing';
import { hang, html, huge, jsonLd, page, redirect, slow, startTestSite, type TestSite } from './fixtures/test-site.js';

const sites: TestSite[] = [];
afterEach(async () => {
  for (const site of sites.splice(0)) await site.close();
});

function readJsonLines<T>(body: Buffer): T[] {
  return body
    .toString('utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as T);
}

async function startShop(): Promise<TestSite> {
  const product1 = jsonLd({
    '@context': 'https://schema.org',
    '@type': 'Product',
    name: 'Carrara marble tile',
    sku: 'P-1',
    brand: { '@type': 'Brand', name: 'Stonecraft' },
    image: '/img/p1.jpg',
    offers: { '@type': 'Offer', price: '49.90', priceCurrency: 'EUR' },
  });
  const product2 = jsonLd({
    '@context': 'https://schema.org',
    '@graph': [
      { '@type': 'WebPage', name: 'Oak' },
      { '@type': ['Product'], name: 'Oak plank', sku: 'P-2', brand: 'Woodline', offers: [{ price: 30, priceCurrency: 'USD' }, { price: 25, priceCurrency: 'USD' }] },
    ],
  });
  const site = await startTestSite({
    '/robots.txt': (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('User-agent: *\nDisallow: /private/\n');
    },
    '/': html(
      page('Home', 'Welcome to the tile shop.', [
        '/products/1',
        '/products/2',
        '/about',
        '/about#team',
        '/missing',
        '/slow',
        '/loop-a',
        '/huge',
        '/hang',
        '/catalogue.pdf',
        '/private/secret',
        '/redirect-to-about',
        'http://other.example/elsewhere',
        'mailto:shop@example.com',
        '#top',
      ]),
    ),
    '/products/1': html(page('Carrara marble', 'Polished marble.', ['/products/2', '/deep/1'], product1)),
    '/products/2': html(page('Oak plank', 'Oiled oak.', ['/'], product2)),
    '/about': html(page('About us', 'We sell tiles &amp; planks.')),
    '/deep/1': html(page('Deep 1', 'one', ['/deep/2'])),
    '/deep/2': html(page('Deep 2', 'two', ['/deep/3'])),
    '/deep/3': html(page('Deep 3', 'three', ['/deep/4'])),
    '/slow': slow(60_000),
    '/loop-a': redirect('/loop-b'),
    '/loop-b': redirect('/loop-a'),
    '/huge': huge(2 * 1024 * 1024),
    '/hang': hang,
    '/catalogue.pdf': (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/pdf' });
      response.end(Buffer.alloc(50_000));
    },
    '/private/secret': html(page('Secret', 'do not crawl')),
    '/redirect-to-about': redirect('/about', 301),
  });
  sites.push(site);
  return site;
}

describe('scrape job: full crawl of a local site', () => {
  it('crawls within the limits, records failures with reasons, extracts products, throttles counters', async () => {
    const site = await startShop();
    const artifacts = new LocalFolderArtifactStore(mkdtempSync(join(tmpdir(), 'kai-scrape-')));
    const job = createScrapeJob({
      urlGuard: { allow: ['127.0.0.1'] },
      delayMs: 0,
      timeoutMs: 400,
      maxBodyBytes: 256 * 1024,
    });
    const { result, outputs, recordings } = await runStagesForTest(job, {
      type: 'scrape',
      jobId: 'session-job-1',
      artifacts,
      payload: { sessionId: 'session-1', sourceUrl: `${site.origin}/`, maxDepth: 3 },
    });

    expect(result).toEqual({
      sessionId: 'session-1',
      totalPages: 13,
      completedPages: 7,
      failedPages: 6,
      products: 2,
      pagesArtifact: 'session-job-1/results_saved/pages.jsonl',
    });
    const crawl = outputs.byName('site_crawled') as { failures: { url: string; reason: string }[]; robotsSkipped: number };
    const reasons = Object.fromEntries(crawl.failures.map((failure) => [new URL(failure.url).pathname, failure.reason]));
    expect(reasons).toEqual({
      '/missing': 'http_error',
      '/slow': 'timeout',
      '/loop-a': 'redirect_loop',
      '/huge': 'too_large',
      '/hang': 'timeout',
      '/catalogue.pdf': 'not_html',
    });
    expect(crawl.robotsSkipped).toBe(1);

    // robots.txt honoured, depth limit kept, other origins and non-http links ignored.
    expect(site.requestCount('/private/secret')).toBe(0);
    expect(site.requestCount('/deep/3')).toBe(0);
    expect(site.requestCount('/robots.txt')).toBe(1);
    expect(site.requestCount('/about')).toBe(2); // once itself, once via /redirect-to-about
    expect(site.requestCount('/products/1')).toBe(1);

    const pagesIndex = readJsonLines<{ url: string; status: string; title: string | null; part: string; line: number }>(
      await artifacts.get((result as { pagesArtifact: string }).pagesArtifact),
    );
    expect(pagesIndex).toHaveLength(13);
    const home = pagesIndex.find((entry) => entry.url === `${site.origin}/`);
    expect(home).toMatchObject({ status: 'completed', title: 'Home' });
    const part = readJsonLines<PageRecord>(await artifacts.get(home?.part ?? ''));
    const homeRecord = part[(home?.line ?? 0) - 1];
    expect(homeRecord?.links).toContain(`${site.origin}/about`);
    expect(homeRecord?.links).not.toContain(`${site.origin}/about#team`);
    expect(homeRecord?.links.some((link) => link.startsWith('mailto:'))).toBe(false);
    expect(homeRecord?.text).toContain('Welcome to the tile shop.');

    const productsRef = (outputs.byName('results_saved') as { productsArtifact: { key: string } }).productsArtifact;
    const products = readJsonLines<ScrapedProduct>(await artifacts.get(productsRef.key));
    expect(products.sort((a, b) => (a.sku ?? '').localeCompare(b.sku ?? ''))).toEqual([
      {
        name: 'Carrara marble tile',
        sku: 'P-1',
        brand: 'Stonecraft',
        price: 49.9,
        currency: 'EUR',
        image: `${site.origin}/img/p1.jpg`,
        url: `${site.origin}/products/1`,
        pageUrl: `${site.origin}/products/1`,
      },
      { name: 'Oak plank', sku: 'P-2', brand: 'Woodline', price: 25, currency: 'USD', url: `${site.origin}/products/2`, pageUrl: `${site.origin}/products/2` },
    ]);

    const crawlRecording = recordings.get('site_crawled');
    expect(crawlRecording?.scraping).toBe(1);
    const counters = crawlRecording?.counters ?? [];
    // Throttled: far fewer writes than pages and links, and the last one is final.
    expect(counters.length).toBeLessThan(8);
    expect(counters.at(-1)).toEqual({ total_pages: 13, completed_pages: 7, failed_pages: 6 });
    for (const [index, entry] of counters.entries()) {
      if (index === 0) continue;
      const before = counters[index - 1] ?? {};
      expect(entry.completed_pages ?? 0).toBeGreaterThanOrEqual(before.completed_pages ?? 0);
    }
    expect(crawlRecording?.progress.at(-1)?.percent).toBe(100);
  });

  it('stops at maxPages and follows include/exclude patterns', async () => {
    const links = Array.from({ length: 30 }, (_, index) => `/item/${index}`);
    const routes: Record<string, ReturnType<typeof html>> = { '/': html(page('Index', 'items', [...links, '/skip/me', '/news/1'])) };
    for (const link of links) routes[link] = html(page(link, 'item'));
    routes['/skip/me'] = html(page('skip', 'x'));
    routes['/news/1'] = html(page('news', 'x'));
    const site = await startTestSite(routes);
    sites.push(site);
    const job = createScrapeJob({ urlGuard: { allow: ['127.0.0.1'] }, delayMs: 0 });
    const { result } = await runStagesForTest(job, {
      type: 'scrape',
      payload: {
        sessionId: 's-limits',
        sourceUrl: `${site.origin}/`,
        maxPages: 10,
        includePatterns: ['/item/', '/skip/'],
        excludePatterns: ['/skip/'],
      },
    });
    expect(result).toMatchObject({ totalPages: 10, completedPages: 10, failedPages: 0 });
    expect(site.requestCount('/skip/me')).toBe(0);
    expect(site.requestCount('/news/1')).toBe(0);
    // The start page plus the first 9 links, in document order.
    for (const link of links.slice(0, 9)) expect(site.requestCount(link)).toBe(1);
    expect(site.requestCount('/item/9')).toBe(0);
  });
});
