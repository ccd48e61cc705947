import { describe, expect, it } from 'vitest';
import {
  JOB_TYPES,
  jobCatalog,
  jobTypeOfQueue,
  PdfPayloadSchema,
  refsOfPayload,
  ScrapePayloadSchema,
  validatePayload,
  XmlImportPayloadSchema,
} from '../src/index.js';

describe('job catalog', () => {
  it('defines the three job types with the platform queues, tables and stages', () => {
    expect(JOB_TYPES).toEqual(['pdf', 'scrape', 'xml-import']);
    expect(jobCatalog.pdf).toMatchObject({ queueName: 'pdf-processing', statusTable: 'background_jobs' });
    expect(jobCatalog.pdf.stages).toEqual([
      'pdf_loaded',
      'text_extracted',
      'tiles_generated',
      'embeddings_created',
      'materials_extracted',
    ]);
    expect(jobCatalog.scrape).toMatchObject({ queueName: 'web-scraping', statusTable: 'scraping_sessions' });
    expect(jobCatalog['xml-import']).toMatchObject({ queueName: 'xml-import', statusTable: 'data_import_jobs' });
    expect(jobTypeOfQueue('web-scraping')).toBe('scrape');
    expect(jobTypeOfQueue('nope')).toBeUndefined();
  });

  it('carries the platform default thresholds', () => {
    expect(jobCatalog.pdf.defaults).toMatchObject({
      heartbeatTimeoutMs: 15 * 60_000,
      updateTimeoutMs: 5 * 60_000,
      recovery: 'restart-from-checkpoint',
      maxRestarts: 3,
    });
    expect(jobCatalog.scrape.defaults).toMatchObject({ heartbeatTimeoutMs: null, updateTimeoutMs: 30 * 60_000, recovery: 'fail' });
    expect(jobCatalog['xml-import'].defaults).toMatchObject({ updateTimeoutMs: 20 * 60_000, recovery: 'fail' });
  });

  it('applies payload defaults', () => {
    const pdf = PdfPayloadSchema.parse({ documentId: 'd', source: { kind: 'storage', key: 'docs/d.pdf' } });
    expect(pdf.options).toEqual({
      renderScale: 1.5,
      tileSizePx: 512,
      chunkSizeChars: 1200,
      chunkOverlapChars: 200,
      skipTiles: false,
      skipMaterials: false,
    });
    const scrape = ScrapePayloadSchema.parse({ sessionId: 's', sourceUrl: 'https://x.example/' });
    expect(scrape).toMatchObject({ maxPages: 100, maxDepth: 3, sameOrigin: true, includePatterns: [], excludePatterns: [] });
    const xml = XmlImportPayloadSchema.parse({ importJobId: 'i', sourceName: 'acme', source: { kind: 'file', path: '/f.xml' } });
    expect(xml).toMatchObject({ recordElement: 'product', batchSize: 500, fieldMapping: { sku: 'sku', name: 'name' } });
  });

  it('rejects cross-field and pattern mistakes with the field path', () => {
    const overlap = PdfPayloadSchema.safeParse({
      documentId: 'd',
      source: { kind: 'file', path: '/a.pdf' },
      options: { chunkSizeChars: 500, chunkOverlapChars: 500 },
    });
    expect(overlap.success).toBe(false);
    expect(overlap.error?.issues[0]?.path).toEqual(['options', 'chunkOverlapChars']);
    const regex = ScrapePayloadSchema.safeParse({ sessionId: 's', sourceUrl: 'https://x.example/', includePatterns: ['(unclosed'] });
    expect(regex.error?.issues[0]?.path).toEqual(['includePatterns', 0]);
    const mapping = XmlImportPayloadSchema.safeParse({
      importJobId: 'i',
      sourceName: 'a',
      source: { kind: 'file', path: '/f' },
      fieldMapping: { name: 'title', price: 'not a/ path' },
    });
    expect(mapping.error?.issues.map((issue) => issue.path.join('.')).sort()).toEqual(['fieldMapping.price']);
    const options = XmlImportPayloadSchema.safeParse({
      importJobId: 'i',
      sourceName: 'a',
      source: { kind: 'file', path: '/f' },
      fieldMapping: { sku: null, weight: { path: 'w', unit: 'kg' }, kind: { path: 'k', type: 'enum' }, tags: { path: 't', separator: ',' } },
    });
    expect(options.error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)).toEqual([
      'fieldMapping.sku: "sku" cannot be removed from the mapping',
      'fieldMapping.sku: a mapping for "sku" is required',
      'fieldMapping.weight.unit: "unit" applies to weight fields, not text',
      'fieldMapping.kind.values: an enum field needs its "values"',
      'fieldMapping.tags.separator: "separator" needs "list": true',
    ]);
  });

  it('lays the field mapping over the defaults or a preset, field by field', () => {
    const base = { importJobId: 'i', sourceName: 'a', source: { kind: 'file' as const, path: '/f' } };
    expect(XmlImportPayloadSchema.parse({ ...base, fieldMapping: { price: 'cost' } })).toMatchObject({
      recordElement: 'product',
      fieldMapping: { sku: 'sku', name: 'name', price: 'cost' },
    });
    const merchant = XmlImportPayloadSchema.parse({ ...base, preset: 'google-merchant', fieldMapping: { price: 'g:cost', brand: null, colour: 'g:color' } });
    expect(merchant.recordElement).toEqual(['item', 'entry']);
    expect(merchant.fieldMapping['price']).toEqual({ path: 'g:cost', type: 'money', required: true, currencyField: 'currency' });
    expect(merchant.fieldMapping['brand']).toBeUndefined();
    expect(merchant.fieldMapping['colour']).toBe('g:color');
    expect('preset' in merchant).toBe(false);
    // The validated payload is what the worker parses again: it must come out the same.
    expect(XmlImportPayloadSchema.parse(merchant)).toEqual(merchant);
    expect(XmlImportPayloadSchema.safeParse({ ...base, preset: 'shopify' }).error?.issues[0]?.path).toEqual(['preset']);
    const reserved = XmlImportPayloadSchema.safeParse({ ...base, fieldMapping: JSON.parse('{"__proto__": {"path": "x"}, "constructor": "y"}') as Record<string, string> });
    // zod leaves "__proto__" out of a record; the other reserved names are refused as keys.
    expect(reserved.error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)).toEqual(['fieldMapping.constructor: Invalid key in record']);
  });

  it('derives the status row refs from a payload', () => {
    expect(refsOfPayload('pdf', validatePayload('pdf', { documentId: 'd1', source: { kind: 'file', path: '/a' } }))).toEqual({
      documentId: 'd1',
    });
    expect(
      refsOfPayload('scrape', validatePayload('scrape', { sessionId: 's', sourceUrl: 'https://a.example/', backgroundJobId: 'bg' })),
    ).toEqual({ sessionId: 's', sourceUrl: 'https://a.example/', backgroundJobId: 'bg' });
    expect(
      refsOfPayload(
        'xml-import',
        validatePayload('xml-import', { importJobId: 'i', sourceName: 'acme', source: { kind: 'file', path: '/f' } }),
      ),
    ).toEqual({ importJobId: 'i', sourceName: 'acme' });
  });
});
