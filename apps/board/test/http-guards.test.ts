import { describe, expect, it } from 'vitest';
import { isMutation, jsonDepth, MAX_JSON_DEPTH, normaliseRoutePath, selfHostBullBoardHtml } from '../src/index.js';

describe('normaliseRoutePath', () => {
  it('gives every spelling Express could route to one form', () => {
    const canonical = '/api/queues/pdf-processing/add';
    for (const path of [
      '/api/queues/pdf-processing/add',
      '/API/QUEUES/PDF-PROCESSING/ADD',
      '/Api/Queues/pdf-processing/aDd/',
      '//api///queues/pdf-processing//add//',
      '/api/queues/pdf-processing/%61%64%64',
      '/%41PI/queues/pdf%2Dprocessing/ADD',
    ]) {
      expect(normaliseRoutePath(path), path).toBe(canonical);
    }
    expect(normaliseRoutePath('/')).toBe('/');
    expect(normaliseRoutePath('')).toBe('/');
    // A malformed escape stays as it is: it matches no route.
    expect(normaliseRoutePath('/api/%E0%A4%A/add')).toBe('/api/%e0%a4%a/add');
  });

  it('tells mutations from reads in any letter case', () => {
    for (const method of ['POST', 'put', 'Patch', 'DELETE', 'PROPFIND']) expect(isMutation(method), method).toBe(true);
    for (const method of ['GET', 'head', 'Options']) expect(isMutation(method), method).toBe(false);
  });
});

describe('jsonDepth', () => {
  it('counts the deepest nesting of arrays and objects, ignoring brackets in strings', () => {
    expect(jsonDepth('1')).toBe(0);
    expect(jsonDepth('{"a":[1,{"b":[]}]}')).toBe(4);
    expect(jsonDepth('{"a":"[[[[{{{{","b":"\\\\\\"[["}')).toBe(1);
    expect(jsonDepth(Buffer.from(`${'['.repeat(5000)}${']'.repeat(5000)}`))).toBe(5000);
    expect(jsonDepth(`${'{"a":'.repeat(MAX_JSON_DEPTH)}1${'}'.repeat(MAX_JSON_DEPTH)}`)).toBe(MAX_JSON_DEPTH);
  });

  it('stops once past the limit it is given', () => {
    expect(jsonDepth('['.repeat(1_000_000), 64)).toBe(65);
  });
});

describe('selfHostBullBoardHtml', () => {
  it("replaces Bull Board's Google Fonts link with the board's stylesheet and drops any other third-party asset", () => {
    const page =
      '<head><base href="/ops/" />' +
      '<link href="https://fonts.googleapis.com/css2?family=IBM+Plex+Sans:wght@400;500;600&display=swap" rel="stylesheet">' +
      '<link rel="preconnect" href="https://fonts.gstatic.com">' +
      '<script defer src="//cdn.example.com/x.js"></script>' +
      '<link href="static/css/main.css" rel="stylesheet"></head>';
    const out = selfHostBullBoardHtml(page);
    expect(out).toBe('<head><base href="/ops/" /><link href="fonts/fonts.css" rel="stylesheet"><link href="static/css/main.css" rel="stylesheet"></head>');
    // A page without the link still gets the fonts.
    expect(selfHostBullBoardHtml('<head></head>')).toBe('<head><link href="fonts/fonts.css" rel="stylesheet"></head>');
  });
});
