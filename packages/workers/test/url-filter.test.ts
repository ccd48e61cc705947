import { describe, expect, it } from 'vitest';
import { URL_PATTERN_MAX_INPUT_CHARS } from '@kai-jobs/queue';
import { createUrlFilter, UrlPatternBudgetError } from '../src/jobs/scrape/url-filter.js';

const base = { sourceUrl: 'https://shop.example/', sameOrigin: true, includePatterns: [] as string[], excludePatterns: [] as string[] };

describe('createUrlFilter', () => {
  it('applies include and exclude patterns with RE2 semantics', () => {
    const filter = createUrlFilter({ ...base, includePatterns: ['/products/', '/c/\\d+'], excludePatterns: ['\\?sort='] });
    expect(filter.accepts('https://shop.example/products/1')).toBe(true);
    expect(filter.accepts('https://shop.example/c/12')).toBe(true);
    expect(filter.accepts('https://shop.example/products/1?sort=asc')).toBe(false);
    expect(filter.accepts('https://shop.example/about')).toBe(false);
    expect(filter.accepts('https://other.example/products/1')).toBe(false);
  });

  it('matches a hostile pattern against a long link in linear time', () => {
    const filter = createUrlFilter({ ...base, includePatterns: ['(a+)+$', '(\\w+\\s?)*!$'], excludePatterns: ['(.*a){20}b'] });
    const link = `https://shop.example/${'a'.repeat(URL_PATTERN_MAX_INPUT_CHARS - 40)}!`;
    const started = performance.now();
    for (let i = 0; i < 50; i++) filter.accepts(link);
    // RegExp would not finish (2^8000 paths); RE2 takes milliseconds per call.
    expect(performance.now() - started).toBeLessThan(2000);
    expect(filter.accepts(link)).toBe(true);
  });

  it('refuses links over the input bound when there are patterns, not when there are none', () => {
    const long = `https://shop.example/${'p'.repeat(URL_PATTERN_MAX_INPUT_CHARS)}`;
    expect(createUrlFilter({ ...base, excludePatterns: ['/admin/'] }).accepts(long)).toBe(false);
    expect(createUrlFilter(base).accepts(long)).toBe(true);
  });

  it('throws, naming the pattern, for a pattern RE2 cannot compile', () => {
    expect(() => createUrlFilter({ ...base, includePatterns: ['(a)\\1'] })).toThrow(/URL pattern "\(a\)\\\\1" is not an RE2 regular expression/);
  });

  it('filters a page of links, yielding to the event loop while it matches', async () => {
    let clock = 0;
    // Each reading of the clock "takes" 1 ms: a yield every 5 links.
    const filter = createUrlFilter({ ...base, includePatterns: ['/p/\\d+$'] }, { yieldEveryMs: 5, now: () => (clock += 1) });
    const links = Array.from({ length: 100 }, (_, index) => `https://shop.example/${index % 2 === 0 ? 'p' : 'q'}/${index}`);
    let turns = 0;
    let done = false;
    const tick = (): void => {
      turns++;
      if (!done) setImmediate(tick);
    };
    setImmediate(tick);
    const accepted = await filter.acceptsAll(links);
    done = true;
    expect(accepted).toEqual(links.filter((_, index) => index % 2 === 0));
    // Other work ran between slices of matching.
    expect(turns).toBeGreaterThanOrEqual(10);
  });

  it('fails the session when one page costs more than the matching budget', async () => {
    let clock = 0;
    // Every match "takes" 4 ms on this clock.
    const filter = createUrlFilter({ ...base, includePatterns: ['/p/'] }, { yieldEveryMs: 10, maxMatchMsPerPage: 100, now: () => (clock += 2) });
    const links = Array.from({ length: 100 }, (_, index) => `https://shop.example/p/${index}`);
    const error = await filter.acceptsAll(links).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UrlPatternBudgetError);
    expect(error).toMatchObject({ retryable: false, code: 'PERMANENT_FAILURE' });
    expect((error as Error).message).toMatch(/URL pattern matching exceeded its budget of 100 ms per page \(\d+ ms for 100 links\)/);
    expect(await createUrlFilter({ ...base, includePatterns: ['/p/'] }).acceptsAll(links.slice(0, 3))).toEqual(links.slice(0, 3));
  });
});
