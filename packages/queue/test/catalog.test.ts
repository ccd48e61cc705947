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
    expect(mapping.error?.issues.map((issue) => issue.path.join('.')).sort()).toEqual(['fieldMapping.price', 'fieldMapping.sku']);
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
