import { describe, expect, it } from 'vitest';
import { URL_PATTERN_MAX_INPUT_CHARS } from '@kai-jobs/queue';
import { createUrlFilter } from '../src/jobs/scrape/url-filter.js';

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
});
