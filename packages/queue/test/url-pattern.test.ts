import { describe, expect, it } from 'vitest';
import { ScrapePayloadSchema, validatePayload, ValidationError } from '../src/index.js';
import { compileUrlPattern, URL_PATTERN_MAX_CHARS, URL_PATTERN_MAX_INPUT_CHARS, urlPatternProblem } from '../src/catalog/url-pattern.js';

describe('URL patterns (RE2)', () => {
  it('matches unanchored like RegExp.test for ordinary link rules', () => {
    const products = compileUrlPattern('/products/');
    expect(products.test('https://shop.example/products/42')).toBe(true);
    expect(products.test('https://shop.example/about')).toBe(false);
    expect(compileUrlPattern('(?i)\\?SORT=').test('https://shop.example/c?sort=asc')).toBe(true);
    expect(compileUrlPattern('^https://shop\\.example/c/\\d+$').test('https://shop.example/c/7')).toBe(true);
  });

  it('runs a catastrophic-backtracking pattern in linear time', () => {
    // With RegExp, (a+)+$ against 30 a's and a "!" takes seconds and doubles with each "a".
    const pattern = compileUrlPattern('(a+)+$');
    const url = `https://x.example/${'a'.repeat(URL_PATTERN_MAX_INPUT_CHARS - 40)}!`;
    const started = performance.now();
    expect(pattern.test(url)).toBe(false);
    expect(pattern.test(`https://x.example/${'a'.repeat(30)}`)).toBe(true);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('does not run on URLs longer than the input bound', () => {
    expect(compileUrlPattern('x').test(`https://x.example/${'x'.repeat(URL_PATTERN_MAX_INPUT_CHARS)}`)).toBe(false);
  });

  it('refuses what RE2 cannot compile, and over-long patterns, saying why', () => {
    expect(urlPatternProblem('(a)\\1')).toMatch(/not an RE2 regular expression: .*\\1/);
    expect(urlPatternProblem('(?=x)y')).toMatch(/not an RE2 regular expression/);
    expect(urlPatternProblem('(?<!x)y')).toMatch(/not an RE2 regular expression/);
    expect(urlPatternProblem('(unclosed')).toMatch(/missing closing \)/);
    expect(urlPatternProblem('x'.repeat(URL_PATTERN_MAX_CHARS + 1))).toMatch(/longer than 500 characters/);
    expect(urlPatternProblem('/products/')).toBeUndefined();
    expect(() => compileUrlPattern('(a)\\1')).toThrow(/URL pattern "\(a\)\\\\1" is not an RE2/);
  });

  it('rejects a bad pattern at enqueue validation, naming the field and the pattern', () => {
    let error: unknown;
    try {
      validatePayload('scrape', { sessionId: 's', sourceUrl: 'https://x.example/', includePatterns: ['/ok/'], excludePatterns: ['/a/', '(?<=x)y'] });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual([
      expect.objectContaining({ path: 'excludePatterns[1]', message: expect.stringMatching(/^pattern "\(\?<=x\)y" is not an RE2 regular expression/) }),
    ]);
  });

  it('bounds the number of patterns', () => {
    const many = Array.from({ length: 101 }, (_, i) => `/p${i}/`);
    expect(ScrapePayloadSchema.safeParse({ sessionId: 's', sourceUrl: 'https://x.example/', includePatterns: many }).success).toBe(false);
  });
});
