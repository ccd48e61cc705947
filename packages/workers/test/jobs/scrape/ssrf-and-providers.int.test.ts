import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createFirecrawlProvider, createScrapeJob, type PageRecord, type SiteCrawledOutput } from '@kai-jobs/workers';
import { runStagesForTest } from '@kai-jobs/workers/testing';
import { tempArtifacts } from '../xml-import/helpers.js';
import { html, jsonLd, page, redirect, startTestSite, type Route, type TestSite } from './fixtures/test-site.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function site(routes: Record<string, Route>): Promise<TestSite> {
  const started = await startTestSite(routes);
  closers.push(() => started.close());
  return started;
}

function reasonsOf(output: unknown): Record<string, string> {
  const failures = (output as SiteCrawledOutput).failures;
  return Object.fromEntries(failures.map((failure) => [new URL(failure.url).pathname, failure.message]));
}

describe('scrape job: SSRF guard', () => {
  it('refuses a loopback sourceUrl without an allow list, before any request', async () => {
    const target = await site({ '/': html(page('Home', 'x')) });
    const job = createScrapeJob({ delayMs: 0 });
    await expect(
      runStagesForTest(job, { type: 'scrape', payload: { sessionId: 's-ssrf-1', sourceUrl: `${target.origin}/` } }),
    ).rejects.toMatchObject({ name: 'PermanentJobError', message: expect.stringMatching(/sourceUrl refused.*127\.0\.0\.1 is loopback/) });
    expect(target.totalRequests()).toBe(0);
  });

  it('with 127.0.0.1 allowed, still refuses redirects to private and metadata addresses', async () => {
    const target = await site({
      '/': html(page('Home', 'x', ['/ok', '/to-private', '/to-metadata', '/to-file'])),
      '/ok': html(page('OK', 'fine')),
      '/to-private': redirect('http://10.0.0.1/admin'),
      '/to-metadata': redirect('http://169.254.169.254/latest/meta-data/'),
      '/to-file': redirect('file:///etc/passwd'),
    });
    const job = createScrapeJob({ urlGuard: { allow: ['127.0.0.1'] }, delayMs: 0 });
    const { result, outputs } = await runStagesForTest(job, { type: 'scrape', payload: { sessionId: 's-ssrf-2', sourceUrl: `${target.origin}/` } });
    expect(result).toMatchObject({ totalPages: 5, completedPages: 2, failedPages: 3 });
    const crawl = outputs.byName('site_crawled') as SiteCrawledOutput;
    expect(crawl.failures.every((failure) => failure.reason === 'refused')).toBe(true);
    expect(reasonsOf(crawl)).toEqual({
      '/to-private': expect.stringContaining('address 10.0.0.1 is private'),
      '/to-metadata': expect.stringContaining('address 169.254.169.254 is cloud-metadata'),
      '/to-file': expect.stringContaining('scheme "file" is not allowed'),
    });
  });

  it('connects to the address it checked (pinned), and refuses names resolving to private addresses', async () => {
    const target = await site({ '/': html(page('Home', 'x', ['/a', 'http://intranet.test/admin'])), '/a': html(page('A', 'a')) });
    const resolveHost = async (hostname: string) => {
      if (hostname === 'shop.test') return [{ address: '127.0.0.1', family: 4 as const }];
      if (hostname === 'intranet.test') return [{ address: '10.1.2.3', family: 4 as const }];
      throw new Error(`ENOTFOUND ${hostname}`);
    };
    const job = createScrapeJob({ urlGuard: { allow: ['127.0.0.1'], resolveHost }, delayMs: 0 });
    const { result, outputs } = await runStagesForTest(job, {
      type: 'scrape',
      payload: { sessionId: 's-ssrf-3', sourceUrl: `http://shop.test:${target.port}/`, sameOrigin: false },
    });
    expect(result).toMatchObject({ completedPages: 2, failedPages: 1 });
    // The system resolver knows no shop.test: the request reached 127.0.0.1 because the guard's address was used.
    expect(target.hosts).toContain(`shop.test:${target.port}`);
    expect(reasonsOf(outputs.byName('site_crawled'))).toEqual({ '/admin': expect.stringContaining('intranet.test resolves to 10.1.2.3, which is private') });
  });
});

describe('scrape job: politeness', () => {
  it('keeps per-host concurrency and honours robots.txt Crawl-delay for its user agent', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const starts: number[] = [];
    const delayed: Route = (_request, response) => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      starts.push(performance.now());
      setTimeout(() => {
        inFlight -= 1;
        response.writeHead(200, { 'content-type': 'text/html' });
        response.end(page('p', 'p'));
      }, 300);
    };
    const links = Array.from({ length: 6 }, (_, index) => `/p/${index}`);
    const routes: Record<string, Route> = { '/': html(page('Home', 'x', links)) };
    for (const link of links) routes[link] = delayed;
    const concurrent = await site(routes);
    await runStagesForTest(createScrapeJob({ urlGuard: { allow: ['127.0.0.1'] }, delayMs: 0 }), {
      type: 'scrape',
      payload: { sessionId: 's-polite-1', sourceUrl: `${concurrent.origin}/` },
    });
    expect(maxInFlight).toBe(2);

    const arrivals: number[] = [];
    const timed = (title: string): Route => (request, response, server) => {
      arrivals.push(performance.now());
      html(page(title, title, title === 'Home' ? ['/a', '/b', '/nope'] : []))(request, response, server);
    };
    const paced = await site({
      '/robots.txt': (_request, response) => {
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.end('User-agent: *\nDisallow: /\n\nUser-agent: KaiJobsBot\nCrawl-delay: 0.2\nDisallow: /nope\n');
      },
      '/': timed('Home'),
      '/a': timed('A'),
      '/b': timed('B'),
    });
    const { result } = await runStagesForTest(createScrapeJob({ urlGuard: { allow: ['127.0.0.1'] }, delayMs: 0, perHostConcurrency: 4 }), {
      type: 'scrape',
      payload: { sessionId: 's-polite-2', sourceUrl: `${paced.origin}/` },
    });
    // The KaiJobsBot group applies (not "*"), so only /nope is skipped, and request starts are 200 ms apart.
    expect(result).toMatchObject({ completedPages: 3, totalPages: 3 });
    expect(paced.requestCount('/nope')).toBe(0);
    expect(arrivals).toHaveLength(3);
    const gaps = arrivals.slice(1).map((at, index) => at - (arrivals[index] as number));
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(150);
  });
});

describe('scrape job: robots.txt and the start page', () => {
  it('fails permanently when robots.txt disallows the start page, retryably when robots.txt is unreachable', async () => {
    const disallowed = await site({
      '/robots.txt': (_request, response) => void response.writeHead(200, { 'content-type': 'text/plain' }).end('User-agent: *\nDisallow: /\n'),
      '/': html(page('Home', 'x')),
    });
    const job = createScrapeJob({ urlGuard: { allow: ['127.0.0.1'] }, delayMs: 0 });
    await expect(runStagesForTest(job, { type: 'scrape', payload: { sessionId: 's-r1', sourceUrl: `${disallowed.origin}/` } })).rejects.toMatchObject({
      name: 'PermanentJobError',
      message: expect.stringMatching(/robots\.txt of .* disallows the start page/),
    });
    expect(disallowed.requestCount('/')).toBe(0);

    const unavailable = await site({ '/robots.txt': (_request, response) => void response.writeHead(503).end(), '/': html(page('Home', 'x')) });
    await expect(runStagesForTest(job, { type: 'scrape', payload: { sessionId: 's-r2', sourceUrl: `${unavailable.origin}/` } })).rejects.toMatchObject({
      name: 'StartPageFailedError',
      retryable: true,
      message: expect.stringMatching(/robots_unreachable.*HTTP 503/),
    });
    expect(unavailable.requestCount('/')).toBe(0);
  });

  it('fails permanently on a 404 start page and retryably on a 503 one', async () => {
    const target = await site({ '/down': (_request, response) => void response.writeHead(503).end() });
    const job = createScrapeJob({ urlGuard: { allow: ['127.0.0.1'] }, delayMs: 0 });
    await expect(runStagesForTest(job, { type: 'scrape', payload: { sessionId: 's-r3', sourceUrl: `${target.origin}/missing` } })).rejects.toMatchObject({
      name: 'PermanentJobError',
      message: expect.stringMatching(/start page .*\/missing failed \(http_error\): HTTP 404/),
    });
    await expect(runStagesForTest(job, { type: 'scrape', payload: { sessionId: 's-r4', sourceUrl: `${target.origin}/down` } })).rejects.toMatchObject({
      name: 'StartPageFailedError',
      retryable: true,
    });
  });
});

describe('scrape job: Firecrawl-compatible provider', () => {
  async function startFirecrawl(pages: Record<string, { status: number; html: string; finalUrl?: string }>): Promise<{ baseUrl: string; calls: { url: string; auth: string; formats: unknown }[] }> {
    const calls: { url: string; auth: string; formats: unknown }[] = [];
    const server: Server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const parsed = JSON.parse(body) as { url: string; formats: unknown };
        calls.push({ url: parsed.url, auth: request.headers.authorization ?? '', formats: parsed.formats });
        if (request.method !== 'POST' || request.url !== '/v1/scrape' || request.headers.authorization !== 'Bearer fc-test-key') {
          response.writeHead(401, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ success: false, error: 'Unauthorized' }));
          return;
        }
        const found = pages[new URL(parsed.url).pathname];
        if (found === undefined) {
          response.writeHead(500, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ success: false, error: 'scrape failed upstream' }));
          return;
        }
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({
            success: true,
            data: { html: found.html, markdown: `# ${new URL(parsed.url).pathname}`, metadata: { statusCode: found.status, sourceURL: parsed.url, ...(found.finalUrl === undefined ? {} : { url: found.finalUrl }) } },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    return { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls };
  }

  it('scrapes every page through the service; robots.txt still comes from the site', async () => {
    const target = await site({ '/robots.txt': (_request, response) => void response.writeHead(404).end() });
    const product = jsonLd({ '@type': 'Product', name: 'Terracotta', sku: 'T-9', offers: { price: '8.00', priceCurrency: 'EUR' } });
    const firecrawl = await startFirecrawl({
      '/': { status: 200, html: page('Home', 'via firecrawl', ['/a', '/broken', '/gone']) },
      '/a': { status: 200, html: page('A', 'product', [], product) },
      '/gone': { status: 404, html: page('Gone', 'missing') },
    });
    const job = createScrapeJob({
      urlGuard: { allow: ['127.0.0.1'] },
      delayMs: 0,
      provider: (deps) => createFirecrawlProvider({ baseUrl: firecrawl.baseUrl, apiKey: 'fc-test-key', guard: deps.guard }),
    });
    const artifacts = tempArtifacts();
    const { result, outputs } = await runStagesForTest(job, { type: 'scrape', artifacts, payload: { sessionId: 's-fc-1', sourceUrl: `${target.origin}/` } });
    expect(result).toMatchObject({ totalPages: 4, completedPages: 2, failedPages: 2, products: 1 });
    const crawl = outputs.byName('site_crawled') as SiteCrawledOutput;
    expect(Object.fromEntries(crawl.failures.map((failure) => [new URL(failure.url).pathname, failure.reason]))).toEqual({
      '/broken': 'provider_error',
      '/gone': 'http_error',
    });
    expect(firecrawl.calls.every((call) => call.auth === 'Bearer fc-test-key')).toBe(true);
    expect(firecrawl.calls[0]?.formats).toEqual(['html', 'markdown']);
    expect([...target.requests.keys()]).toEqual(['/robots.txt']);
    const part = (await artifacts.get(crawl.parts[0]?.key ?? '')).toString('utf8').split('\n').filter(Boolean);
    const home = part.map((line) => JSON.parse(line) as PageRecord).find((record) => record.url === `${target.origin}/`);
    expect(home).toMatchObject({ provider: 'firecrawl', markdown: '# /', title: 'Home' });
  });

  it('refuses a page the service reports it ended on after a redirect to a refused address', async () => {
    const target = await site({ '/robots.txt': (_request, response) => void response.writeHead(404).end() });
    const firecrawl = await startFirecrawl({ '/': { status: 200, html: page('Internal', 'SECRET-INTERNAL'), finalUrl: 'http://127.0.0.2:1/admin' } });
    const job = createScrapeJob({
      urlGuard: { allow: ['127.0.0.1'] },
      delayMs: 0,
      provider: (deps) => createFirecrawlProvider({ baseUrl: firecrawl.baseUrl, apiKey: 'fc-test-key', guard: deps.guard }),
    });
    const failure = runStagesForTest(job, { type: 'scrape', payload: { sessionId: 's-fc-3', sourceUrl: `${target.origin}/` } });
    await expect(failure).rejects.toMatchObject({ name: 'PermanentJobError', message: expect.stringMatching(/127\.0\.0\.2 is loopback/) });
    await expect(failure).rejects.not.toThrow(/SECRET-INTERNAL/);
  });

  it('fails the session permanently when the service refuses the key', async () => {
    const target = await site({});
    const firecrawl = await startFirecrawl({ '/': { status: 200, html: page('Home', 'x') } });
    const job = createScrapeJob({
      urlGuard: { allow: ['127.0.0.1'] },
      provider: (deps) => createFirecrawlProvider({ baseUrl: firecrawl.baseUrl, apiKey: 'wrong', guard: deps.guard }),
    });
    await expect(runStagesForTest(job, { type: 'scrape', payload: { sessionId: 's-fc-2', sourceUrl: `${target.origin}/` } })).rejects.toMatchObject({
      name: 'PermanentJobError',
      message: expect.stringMatching(/start page .* failed \(provider_error\).*HTTP 401: Unauthorized/),
    });
  });
});
