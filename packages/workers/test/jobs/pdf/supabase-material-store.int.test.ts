import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PdfResultSchema } from '@kai-jobs/queue';
import { startSupabaseTestStack, type SupabaseTestStack } from '@kai-jobs/queue/testing';
import { CpuPool, createPdfJob, materialKey, SupabaseMaterialStore, type Material } from '@kai-jobs/workers';
import { runStagesForTest } from '@kai-jobs/workers/testing';
import { makeCataloguePdf } from './fixtures/pdfs.js';

// The material store through the real supabase-js client, over HTTP, to the PostgREST-compatible
// endpoint, into PostgreSQL: a fresh migrated schema per test.
let stack: SupabaseTestStack;
let schema: string;
let stores: SupabaseMaterialStore[] = [];
const pool = new CpuPool({ size: 2 });

beforeAll(async () => {
  stack = await startSupabaseTestStack();
});
afterAll(async () => {
  await pool.close();
  await stack?.close();
});
beforeEach(async () => {
  schema = await stack.createSchema('materials');
});
afterEach(async () => {
  await Promise.all(stores.map((store) => store.close()));
  stores = [];
  await stack.dropSchema(schema);
});

function materialStore(serviceRoleKey = stack.serviceRoleKey): SupabaseMaterialStore {
  const store = new SupabaseMaterialStore({ url: stack.url, serviceRoleKey, schema });
  stores.push(store);
  return store;
}

async function rowsOf(documentId: string): Promise<number> {
  const { rows } = await stack.admin.query<{ n: number }>(`select count(*)::int as n from "${schema}".extracted_materials where document_id = $1`, [documentId]);
  return rows[0]?.n ?? -1;
}

const folder = mkdtempSync(join(tmpdir(), 'kai-pdf-supabase-'));
const cataloguePath = join(folder, 'catalogue.pdf');
writeFileSync(cataloguePath, await makeCataloguePdf());

function material(name: string, finish: string | null, pages: number[]): Material {
  const fields = { name, dimensions: null, thicknessMm: null, finish, colour: null };
  return { ...fields, key: materialKey(fields), material: name.split(' ').at(-1) as string, category: 'stone', pages, excerpt: name, extractor: 'rules' };
}

describe('SupabaseMaterialStore', () => {
  it('keeps a product record (category, formats, properties) and still reads one written without them', async () => {
    const store = materialStore();
    const fields = { name: 'TAJ MAHAL', dimensions: { text: '60x30 cm', valuesMm: [600, 300] }, thicknessMm: 20, finish: 'polished', colour: null };
    const product: Material = {
      ...fields,
      key: materialKey(fields),
      material: 'quartzite',
      category: 'stone',
      productCategory: 'stone',
      formats: [fields.dimensions, { text: '300x180 cm', valuesMm: [3000, 1800] }],
      properties: { origin: 'Indien', densityKgM3: 2650, waterAbsorptionPct: 0.15, slipRating: 'R10' },
      pages: [1],
      excerpt: 'TAJ MAHAL',
      extractor: 'rules',
    };
    const old = material('Carrara marble', 'polished', [2]);
    await store.upsertMany('doc-products', [product, old]);
    expect(await store.list('doc-products')).toEqual([old, product].sort((a, b) => a.key.localeCompare(b.key)));
  });

  it('upserts by (document, key): the same batch twice leaves one row per material', async () => {
    const store = materialStore();
    const batch = [material('Carrara marble', 'polished', [2]), material('Absolute granite', null, [3])];
    await store.upsertMany('doc-1', batch);
    await store.upsertMany('doc-1', batch);
    expect(await store.count('doc-1')).toBe(2);
    await store.upsertMany('doc-1', [{ ...(batch[0] as Material), pages: [2, 5] }]);
    expect(await store.count('doc-1')).toBe(2);
    expect(await rowsOf('doc-1')).toBe(2);
    expect((await store.list('doc-1')).map((m) => [m.key, m.pages])).toEqual([
      ['absolute-granite', [3]],
      ['carrara-marble-polished', [2, 5]],
    ]);
    expect(await store.list('doc-1')).toEqual([batch[1], { ...(batch[0] as Material), pages: [2, 5] }]);
    await store.upsertMany('doc-2', []);
    expect(await store.count('doc-2')).toBe(0);
    expect(await store.list('doc-2')).toEqual([]);
  });

  it('writes nothing from a batch with an invalid material, naming the field', async () => {
    const store = materialStore();
    const error = await store
      .upsertMany('doc-1', [material('Carrara marble', null, [1]), { ...material('Bad', null, [1]), key: 'Not A Key' }])
      .catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'ValidationError' });
    expect((error as Error).message).toMatch(/\[1\]\.key/);
    expect(await rowsOf('doc-1')).toBe(0);
  });

  it('is refused with a wrong key', async () => {
    const store = materialStore(stack.anonKey);
    await expect(store.upsertMany('doc-1', [material('Carrara marble', null, [1])])).rejects.toMatchObject({ name: 'StoreError', retryable: false });
    expect(await rowsOf('doc-1')).toBe(0);
  });
});

describe('the PDF job with the Supabase material store', () => {
  it('running the job twice on a document leaves the same materials, never duplicates', { timeout: 30_000 }, async () => {
    const store = materialStore();
    const job = createPdfJob({ fileRoot: tmpdir(), materialStore: store });
    const payload = { documentId: 'doc-twice', source: { kind: 'file' as const, path: cataloguePath }, options: { skipTiles: true } };
    const first = await runStagesForTest(job, { type: 'pdf', jobId: 'attempt-1', payload, cpuPool: pool });
    const firstMaterials = await store.list('doc-twice');
    expect(firstMaterials).toHaveLength(3);
    const second = await runStagesForTest(job, { type: 'pdf', jobId: 'attempt-2', payload, cpuPool: pool });
    expect(await rowsOf('doc-twice')).toBe(3);
    expect(await store.list('doc-twice')).toEqual(firstMaterials);
    expect(PdfResultSchema.parse(second.result).materials).toBe(PdfResultSchema.parse(first.result).materials);
  });
});
