import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { PdfResultSchema } from '@kai-jobs/queue';
import { useRedisTestContext } from '@kai-jobs/queue/testing';
import {
  AnthropicMaterialExtractor,
  CpuPool,
  createPdfJob,
  materialKey,
  OpenAiEmbeddingProvider,
  RedisMaterialStore,
  type Material,
} from '@kai-jobs/workers';
import { runStagesForTest } from '@kai-jobs/workers/testing';
import { sendJson, startTestServer, type TestServer } from './fixtures/http-server.js';
import { makeCataloguePdf, MARBLE_LINE } from './fixtures/pdfs.js';

const redisTest = useRedisTestContext(import.meta.url);
const pool = new CpuPool({ size: 2 });
afterAll(() => pool.close());
let servers: TestServer[] = [];
afterEach(async () => {
  for (const server of servers) await server.close();
  servers = [];
});

const folder = mkdtempSync(join(tmpdir(), 'kai-pdf-redis-'));
const cataloguePath = join(folder, 'catalogue.pdf');
writeFileSync(cataloguePath, await makeCataloguePdf());

function material(name: string, finish: string | null, pages: number[]): Material {
  const fields = { name, dimensions: null, thicknessMm: null, finish, colour: null };
  return { ...fields, key: materialKey(fields), material: name.split(' ').at(-1) as string, category: 'stone', pages, excerpt: name, extractor: 'rules' };
}

describe('RedisMaterialStore', () => {
  it('upserts by (document, key): the same batch twice leaves one row per material', async () => {
    const store = new RedisMaterialStore({ connection: redisTest.connection(), prefix: redisTest.prefix });
    const batch = [material('Carrara marble', 'polished', [2]), material('Absolute granite', null, [3])];
    await store.upsertMany('doc-1', batch);
    await store.upsertMany('doc-1', batch);
    expect(await store.count('doc-1')).toBe(2);
    // A changed material replaces its row.
    await store.upsertMany('doc-1', [{ ...(batch[0] as Material), pages: [2, 5] }]);
    expect(await store.count('doc-1')).toBe(2);
    expect((await store.list('doc-1')).map((m) => [m.key, m.pages])).toEqual([
      ['absolute-granite', [3]],
      ['carrara-marble-polished', [2, 5]],
    ]);
    // Documents are separate; an empty batch writes nothing.
    await store.upsertMany('doc-2', []);
    expect(await store.count('doc-2')).toBe(0);
    expect(await store.list('doc-2')).toEqual([]);
    // One hash per document under the queue's hash tag.
    expect(await redisTest.redis.keys(`${redisTest.prefix}:*`)).toEqual([`${redisTest.prefix}:{pdf-processing}:materials:doc-1`]);
    expect(store.keys.materials('doc-9')).toBe(`${redisTest.prefix}:{pdf-processing}:materials:doc-9`);
  });

  it('writes nothing from a batch with an invalid material', async () => {
    const store = new RedisMaterialStore({ connection: redisTest.connection(), prefix: redisTest.prefix });
    await expect(store.upsertMany('doc-1', [material('Carrara marble', null, [1]), { ...material('Bad', null, [1]), key: 'Not A Key' }])).rejects.toThrow();
    expect(await store.count('doc-1')).toBe(0);
  });

  it('validates its options', () => {
    expect(() => new RedisMaterialStore({ connection: redisTest.connection(), prefix: 'has{braces}' })).toThrow(/prefix/);
  });
});

describe('the PDF job with the Redis material store', () => {
  it('running the job twice on a document leaves the same materials, never duplicates', { timeout: 30_000 }, async () => {
    const store = new RedisMaterialStore({ connection: redisTest.connection(), prefix: redisTest.prefix });
    const job = createPdfJob({ fileRoot: tmpdir(), materialStore: store });
    const payload = { documentId: 'doc-twice', source: { kind: 'file' as const, path: cataloguePath }, options: { skipTiles: true } };
    const first = await runStagesForTest(job, { type: 'pdf', jobId: 'attempt-1', payload, cpuPool: pool });
    const firstMaterials = await store.list('doc-twice');
    expect(firstMaterials).toHaveLength(3);
    const second = await runStagesForTest(job, { type: 'pdf', jobId: 'attempt-2', payload, cpuPool: pool });
    expect(await store.count('doc-twice')).toBe(3);
    expect(await store.list('doc-twice')).toEqual(firstMaterials);
    expect(PdfResultSchema.parse(second.result).materials).toBe(PdfResultSchema.parse(first.result).materials);
  });

  it('runs end to end with the HTTP embedding provider and the LLM extractor on local servers', { timeout: 30_000 }, async () => {
    const embeddings = await startTestServer((request, response) => {
      const { input } = request.body as { input: string[] };
      sendJson(response, 200, { data: input.map((text, index) => ({ index, embedding: [text.length, 1, 0, 0] })) });
    });
    const messages = await startTestServer((_request, response) =>
      sendJson(response, 200, {
        content: [{ type: 'text', text: JSON.stringify({ materials: [{ name: 'Carrara marble', category: 'stone', dimensions: '60x60 cm', thicknessMm: 10, finish: 'polished', pages: [2], excerpt: MARBLE_LINE }] }) }],
        stop_reason: 'end_turn',
      }),
    );
    servers.push(embeddings, messages);
    const store = new RedisMaterialStore({ connection: redisTest.connection(), prefix: redisTest.prefix });
    const job = createPdfJob({
      fileRoot: tmpdir(),
      materialStore: store,
      embeddingProvider: new OpenAiEmbeddingProvider({ baseUrl: embeddings.url, apiKey: 'k', model: 'fake-embed', dimensions: 4 }),
      materialExtractor: new AnthropicMaterialExtractor({ baseUrl: messages.url, apiKey: 'k', model: 'fake-llm' }),
    });
    const { outputs, result } = await runStagesForTest(job, {
      type: 'pdf',
      payload: { documentId: 'doc-llm', source: { kind: 'file', path: cataloguePath }, options: { skipTiles: true } },
      cpuPool: pool,
    });
    expect(outputs.byName('embeddings_created')).toMatchObject({ model: 'fake-embed', dimensions: 4 });
    expect(outputs.byName('materials_extracted')).toMatchObject({ materials: 1, extractor: 'anthropic:fake-llm' });
    expect(PdfResultSchema.parse(result)).toMatchObject({ documentId: 'doc-llm', pages: 3, materials: 1 });
    expect((await store.list('doc-llm')).map((m) => m.key)).toEqual(['carrara-marble-600x600mm-10mm-polished']);
    expect(embeddings.requests.length).toBeGreaterThan(0);
    expect(messages.requests).toHaveLength(1); // 3 short pages fit one request
  });
});
