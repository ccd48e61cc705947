import { afterEach, describe, expect, it } from 'vitest';
import {
  createScrapeJob,
  stageOutputsOf,
  type CrawlResumeState,
  type PageRecord,
  type ResultsSavedOutput,
  type SiteCrawledOutput,
} from '@kai-jobs/workers';
import { createTestStageContext } from '@kai-jobs/workers/testing';
import { tempArtifacts } from '../xml-import/helpers.js';
import { html, page, startTestSite, type Route, type TestSite } from './fixtures/test-site.js';

const sites: TestSite[] = [];
afterEach(async () => {
  for (const site of sites.splice(0)) await site.close();
});

/** A site of 1 + 8 + 32 pages: the home page links to 8 sections, each to 4 items. */
async function startTree(): Promise<{ site: TestSite; paths: string[] }> {
  const routes: Record<string, Route> = {};
  const sections = Array.from({ length: 8 }, (_, index) => `/section/${index}`);
  routes['/'] = html(page('Home', 'tree', sections));
  const paths = ['/', ...sections];
  for (const section of sections) {
    const items = Array.from({ length: 4 }, (_, index) => `${section}/item/${index}`);
    routes[section] = html(page(section, 'section', items));
    for (const item of items) routes[item] = html(page(item, 'item', ['/']));
    paths.push(...items);
  }
  const site = await startTestSite(routes);
  sites.push(site);
  return { site, paths };
}

describe('scrape job: resume from a saved crawl state', () => {
  it('continues an interrupted crawl without fetching finished pages again', async () => {
    const { site, paths } = await startTree();
    // A 20 ms per-host delay: on a loaded machine a crawl with no delay can finish all 41
    // pages while the first save is still in flight, and the "crash" would come too late.
    const job = createScrapeJob({ urlGuard: { allow: ['127.0.0.1'] }, delayMs: 20, perHostConcurrency: 1, checkpointEveryPages: 5 });
    const [crawlStage, saveStage] = job.stages;
    if (crawlStage === undefined || saveStage === undefined) throw new Error('stages missing');
    const artifacts = tempArtifacts();
    const payload = { sessionId: 'resume-1', sourceUrl: `${site.origin}/`, maxDepth: 3 };

    // Attempt 1 "crashes" right after its second saved state.
    const first = createTestStageContext({ type: 'scrape', stage: 'site_crawled', payload, artifacts, jobId: 'resume-job' });
    const save = first.saveResumeState.bind(first);
    first.saveResumeState = async (state) => {
      await save(state);
      if (first.recording.resumeStates.length === 2) first.abort(new Error('worker crashed'));
    };
    await expect(crawlStage.run(first, stageOutputsOf(new Map()))).rejects.toThrow('worker crashed');
    await first.close();
    const state = first.recording.resumeStates.at(-1) as CrawlResumeState;
    const frontier = new Set(state.frontier.map((entry) => entry.url));
    const finishedBefore = state.known.filter((url) => !frontier.has(url));
    expect(finishedBefore.length).toBe(state.counts.completed + state.counts.failed);
    expect(finishedBefore.length).toBeGreaterThanOrEqual(10);
    expect(finishedBefore.length).toBeLessThan(paths.length);

    // Attempt 2 resumes from the state.
    const second = createTestStageContext({ type: 'scrape', stage: 'site_crawled', payload, artifacts, jobId: 'resume-job', resumeState: state, attempt: 2 });
    const crawled = crawlStage.output.parse(await crawlStage.run(second, stageOutputsOf(new Map()))) as SiteCrawledOutput;
    await second.close();
    expect(crawled).toMatchObject({ totalPages: paths.length, completedPages: paths.length, failedPages: 0, resumed: true });
    for (const url of finishedBefore) expect(site.requestCount(new URL(url).pathname)).toBe(1);
    for (const path of paths) expect(site.requestCount(path)).toBeGreaterThanOrEqual(1);
    // Only pages that were in flight (or finished after the saved state) are fetched twice.
    const refetched = paths.filter((path) => site.requestCount(path) > 1);
    expect(refetched.length).toBeLessThanOrEqual(paths.length - finishedBefore.length);
    expect(second.recording.counters.at(-1)).toEqual({ total_pages: paths.length, completed_pages: paths.length, failed_pages: 0 });

    // Every page is in the parts exactly once.
    const urls: string[] = [];
    for (const part of crawled.parts) {
      for (const line of (await artifacts.get(part.key)).toString('utf8').split('\n')) {
        if (line !== '') urls.push((JSON.parse(line) as PageRecord).url);
      }
    }
    expect(urls.sort()).toEqual(paths.map((path) => `${site.origin}${path}`).sort());

    const saving = createTestStageContext({ type: 'scrape', stage: 'results_saved', payload, artifacts, jobId: 'resume-job' });
    const saved = (await saveStage.run(saving, stageOutputsOf(new Map([['site_crawled', crawled]])))) as ResultsSavedOutput;
    await saving.close();
    expect(saved.pages).toBe(paths.length);
  });

  it('starts over when the saved state belongs to another start URL', async () => {
    const { site, paths } = await startTree();
    const job = createScrapeJob({ urlGuard: { allow: ['127.0.0.1'] }, delayMs: 0 });
    const crawlStage = job.stages[0];
    if (crawlStage === undefined) throw new Error('stage missing');
    const stale: CrawlResumeState = {
      version: 1,
      sourceUrl: 'http://127.0.0.1:1/elsewhere',
      known: [`${site.origin}/`],
      frontier: [],
      robotsSkipped: [],
      counts: { completed: 1, failed: 0, products: 0 },
      failures: [],
      parts: [],
    };
    const ctx = createTestStageContext({ type: 'scrape', stage: 'site_crawled', payload: { sessionId: 's', sourceUrl: `${site.origin}/` }, resumeState: stale });
    const output = (await crawlStage.run(ctx, stageOutputsOf(new Map()))) as SiteCrawledOutput;
    await ctx.close();
    expect(output).toMatchObject({ resumed: false, completedPages: paths.length });
  });

  it('saves less often as the crawl grows, so a big crawl does not rewrite its state quadratically', async () => {
    const pages = Array.from({ length: 400 }, (_, index) => `/p/${index}`);
    const routes: Record<string, Route> = { '/': html(page('Home', 'x', pages)) };
    for (const path of pages) routes[path] = html(page(path, 'p'));
    const site = await startTestSite(routes);
    sites.push(site);
    const job = createScrapeJob({ urlGuard: { allow: ['127.0.0.1'] }, delayMs: 0, perHostConcurrency: 4, checkpointEveryPages: 5, checkpointIntervalMs: 600_000 });
    const crawlStage = job.stages[0];
    if (crawlStage === undefined) throw new Error('stage missing');
    const ctx = createTestStageContext({ type: 'scrape', stage: 'site_crawled', payload: { sessionId: 's-big', sourceUrl: `${site.origin}/`, maxPages: 1000, maxDepth: 1 } });
    const output = (await crawlStage.run(ctx, stageOutputsOf(new Map()))) as SiteCrawledOutput;
    await ctx.close();
    expect(output.completedPages).toBe(401);
    // The thresholds, replayed page by page: every 5 pages at first, 5% of the crawl later.
    let planned = 0;
    let since = 0;
    for (let finished = 1; finished <= 401; finished += 1) {
      since += 1;
      if (since >= Math.max(5, Math.ceil(finished / 20))) {
        planned += 1;
        since = 0;
      }
    }
    const saves = ctx.recording.resumeStates.length;
    expect(planned).toBeLessThan(401 / 5 / 1.5);
    expect(saves).toBeLessThanOrEqual(planned);
    expect(saves).toBeGreaterThan(planned / 3);
    const sizes = ctx.recording.resumeStates.map((state) => (state as CrawlResumeState).known.length);
    expect(sizes).toEqual([...sizes].sort((a, b) => a - b));
  });
});
