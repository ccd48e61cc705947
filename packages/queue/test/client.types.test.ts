import { describe, expectTypeOf, it } from 'vitest';
import type { EnqueuedJob, JobClient, PayloadInput, Result } from '../src/index.js';

/** Compile-time checks of the typed client; `pnpm typecheck` fails if one breaks. */
describe('JobClient types', () => {
  it('types payloads and results from the catalog', () => {
    expectTypeOf<PayloadInput<'pdf'>>().toHaveProperty('documentId').toEqualTypeOf<string>();
    expectTypeOf<Result<'xml-import'>>().toHaveProperty('failedProducts').toEqualTypeOf<number>();
    expectTypeOf<JobClient['enqueue']>().returns.resolves.toMatchTypeOf<EnqueuedJob>();

    const typeOnly = (client: JobClient): void => {
      void client.enqueue('pdf', { documentId: 'd', source: { kind: 'file', path: '/a.pdf' } });
      void client.enqueue('scrape', { sessionId: 's', sourceUrl: 'https://a.example/' });
      // @ts-expect-error — a pdf job needs a documentId
      void client.enqueue('pdf', { source: { kind: 'file', path: '/a.pdf' } });
      // @ts-expect-error — sourceUrl belongs to scrape payloads
      void client.enqueue('pdf', { documentId: 'd', source: { kind: 'file', path: '/a' }, sourceUrl: 'x' });
      // @ts-expect-error — no such job type
      void client.enqueue('video', {});
      // @ts-expect-error — batchSize is a number
      void client.enqueue('xml-import', { importJobId: 'i', sourceName: 'n', source: { kind: 'file', path: '/f' }, batchSize: '5' });
      const feed = { importJobId: 'i', sourceName: 'n', source: { kind: 'file' as const, path: '/f' } };
      void client.enqueue('xml-import', { ...feed, preset: 'google-merchant', fieldMapping: { colour: 'g:color', brand: null, price: { path: 'p', type: 'money' } } });
      // @ts-expect-error — no such preset
      void client.enqueue('xml-import', { ...feed, preset: 'shopify' });
      // @ts-expect-error — no such field type
      void client.enqueue('xml-import', { ...feed, fieldMapping: { price: { path: 'p', type: 'cash' } } });
    };
    expectTypeOf(typeOnly).toBeFunction();
  });
});
