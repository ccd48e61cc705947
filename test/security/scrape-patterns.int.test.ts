/**
 * Security probes: scrape `includePatterns`/`excludePatterns` come from payloads and run on a
 * worker's main thread. Patterns RE2 cannot run (backreferences, lookaround), too long or too
 * many are refused at enqueue, naming the field and the pattern; catastrophic-backtracking
 * patterns (`(a+)+$`) are accepted and matched by RE2 in linear time, so a real worker process
 * crawling pages full of long hostile links keeps writing heartbeats and completes.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileUrlPattern, createJobClient, RedisJobStore, URL_PATTERN_MAX_INPUT_CHARS, type JobClient } from '@kai-jobs/queue';
import { useRedisTestContext } from '@kai-jobs/queue/testing';
import { html, page, startTestSite } from '../../packages/workers/test/jobs/scrape/fixtures/test-site.js';
import { startWorkerProcess, stopWorkerProcess } from '../../packages/workers/test/fixtures/worker-process.js';

const ctx = useRedisTestContext(import.meta.url);
const WORKER_BIN = fileURLToPath(new URL('../../packages/workers/src/bin/worker.ts', import.meta.url));

/** Patterns that take exponential time with a backtracking engine on `aaaa…a!`. */
const CATASTROPHIC = ['(a+)+$', '(a|aa)+$', '(\\w+\\s?)*!$', '^(([a-z])+.)+[A-Z]([a-z])+$'];

function client(): JobClient {
  return ctx.manage('client', createJobClient({ redis: ctx.redisOptions, waitPollIntervalMs: 50 }));
}

describe('security: scrape URL patterns', () => {
  it('refuses at enqueue what RE2 cannot run, naming the field and the pattern; nothing is enqueued', async () => {
    const jobs = client();
    const base = { sessionId: 'sess-bad', sourceUrl: 'http://127.0.0.1:9/' };
    const cases = [
      { payload: { ...base, includePatterns: ['/ok/', '(a)\\1'] }, error: /includePatterns\[1\]: pattern "\(a\)\\\\1" is not an RE2 regular expression: .*invalid escape sequence/ },
      { payload: { ...base, excludePatterns: ['(?<=x)y'] }, error: /excludePatterns\[0\]: pattern "\(\?<=x\)y" is not an RE2 regular expression/ },
      { payload: { ...base, excludePatterns: ['(?!admin)'] }, error: /excludePatterns\[0\]: pattern "\(\?!admin\)" is not an RE2 regular expression/ },
      { payload: { ...base, includePatterns: ['a'.repeat(501)] }, error: /includePatterns\[0\]: pattern "a+" is longer than 500 characters \(501\)/ },
      { payload: { ...base, includePatterns: Array.from({ length: 101 }, (_, index) => `/p${index}/`) }, error: /includePatterns: .*100/ },
    ];
    for (const { payload, error } of cases) {
      await expect(jobs.enqueue('scrape', payload)).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringMatching(error) });
    }
    expect(await jobs.queue('scrape').getJobCounts('waiting', 'active', 'delayed')).toEqual({ waiting: 0, active: 0, delayed: 0 });
  });

  it('matches catastrophic-backtracking patterns in linear time', () => {
    const hostile = `http://x.example/${'a'.repeat(URL_PATTERN_MAX_INPUT_CHARS - 30)}!`;
    for (const source of CATASTROPHIC) {
      const pattern = compileUrlPattern(source);
      const started = performance.now();
      pattern.test(hostile);
      // A backtracking engine needs about 2^2000 steps here.
      expect(performance.now() - started, source).toBeLessThan(250);
    }
  });

  it('a real worker crawling pages of long hostile links with those patterns keeps its heartbeats flowing and completes', async () => {
    const PAGES = 8;
    const hostileLinks = (index: number) => Array.from({ length: 500 }, (_, link) => `/${'a'.repeat(1900)}!${index}-${link}`);
    const routes: Record<string, ReturnType<typeof html>> = {};
    for (let index = 0; index < PAGES; index++) {
      const next = index + 1 < PAGES ? [`/p/${index + 1}`] : [];
      routes[index === 0 ? '/' : `/p/${index}`] = html(page(`Page ${index}`, 'catalogue', [...hostileLinks(index), ...next]));
    }
    const site = await startTestSite(routes);
    const worker = await startWorkerProcess({
      prefix: ctx.prefix,
      workerId: `scrape-patterns-${process.pid}`,
      script: WORKER_BIN,
      readyMessage: 'worker ready',
      env: { WORKER_TYPES: 'scrape', SCRAPE_ALLOW: '127.0.0.1', HEARTBEAT_INTERVAL_MS: '200' },
    });
    try {
      const jobs = client();
      const { id } = await jobs.enqueue('scrape', {
        sessionId: 'sess-hostile',
        sourceUrl: `${site.origin}/`,
        maxPages: PAGES,
        maxDepth: PAGES,
        includePatterns: [...CATASTROPHIC, '/p/\\d+$'],
        excludePatterns: CATASTROPHIC,
      });
      const status = new RedisJobStore({ connection: ctx.redis, prefix: ctx.prefix });
      // Sample the row's heartbeat while the session runs.
      const beats: number[] = [];
      let finished = false;
      const result = jobs.waitForResult<'scrape'>(id, { timeoutMs: 120_000 }).finally(() => (finished = true));
      while (!finished) {
        const beat = (await status.get(id))?.lastHeartbeat ?? null;
        if (beat !== null && beats.at(-1) !== beat) beats.push(beat);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(await result).toMatchObject({ completedPages: PAGES, failedPages: 0 });
      // Every page was fetched, and no hostile link was (none matches an include pattern).
      for (let index = 1; index < PAGES; index++) expect(site.requestCount(`/p/${index}`)).toBe(1);
      expect(site.totalRequests()).toBeLessThanOrEqual(PAGES + 1); // + robots.txt
      // Heartbeats kept coming (every 200 ms asked); a pattern that blocked the main thread would leave a gap as long as the crawl.
      expect(beats.length).toBeGreaterThanOrEqual(3);
      const gaps = beats.slice(1).map((beat, index) => beat - (beats[index] as number));
      expect(Math.max(...gaps)).toBeLessThan(3000);
    } finally {
      await stopWorkerProcess(worker);
      await site.close();
    }
  }, 180_000);
});
