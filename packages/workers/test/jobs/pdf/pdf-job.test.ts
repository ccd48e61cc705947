import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PdfResultSchema, type PayloadInput } from '@kai-jobs/queue';
import {
  CpuPool,
  createPdfJob,
  decodeVectors,
  InMemoryMaterialStore,
  LocalFolderArtifactStore,
  stageOutputsOf,
  TileManifestSchema,
  type StageDefinition,
  type StagedJobDefinition,
} from '@kai-jobs/workers';
import { createTestStageContext, runStagesForTest } from '@kai-jobs/workers/testing';
import { makeCataloguePdf, makeLongPdf, MARBLE_LINE } from './fixtures/pdfs.js';

const pool = new CpuPool({ size: 2 });
afterAll(() => pool.close());

const folder = mkdtempSync(join(tmpdir(), 'kai-pdf-job-'));
function writePdf(name: string, bytes: Buffer): string {
  const path = join(folder, name);
  writeFileSync(path, bytes);
  return path;
}
const cataloguePath = writePdf('catalogue.pdf', await makeCataloguePdf());

function payloadFor(path: string, options: PayloadInput<'pdf'>['options'] = {}): PayloadInput<'pdf'> {
  return { documentId: 'doc-catalogue', source: { kind: 'file', path }, options: { chunkSizeChars: 300, chunkOverlapChars: 60, ...options } };
}

function newArtifacts(): LocalFolderArtifactStore {
  return new LocalFolderArtifactStore(mkdtempSync(join(tmpdir(), 'kai-pdf-artifacts-')));
}

describe('createPdfJob: a full run of the five stages', () => {
  it('loads, extracts, renders, embeds and finds materials, with small checkpoints and per-page progress', { timeout: 30_000 }, async () => {
    const store = new InMemoryMaterialStore();
    const artifacts = newArtifacts();
    const job = createPdfJob({ fileRoot: tmpdir(), materialStore: store });
    const { outputs, result, recordings } = await runStagesForTest(job, {
      type: 'pdf',
      jobId: 'job-1',
      payload: payloadFor(cataloguePath),
      artifacts,
      cpuPool: pool,
    });

    // pdf_loaded: page count, hash, metadata, and a copy of the bytes in the artifact store.
    const loaded = outputs.byName('pdf_loaded') as Record<string, unknown> & { pdf: { key: string; sha256: string } };
    const original = await makeCataloguePdf();
    expect(loaded).toMatchObject({ documentId: 'doc-catalogue', sourceKind: 'file', pageCount: 3, pagesToProcess: 3 });
    expect(loaded['metadata']).toMatchObject({ title: 'Stone and Wood Collection', author: 'Material KAI tests', producer: 'kai-jobs tests', encrypted: false });
    expect(loaded.pdf.key).toBe('job-1/pdf_loaded/document.pdf');
    expect((await artifacts.get(loaded.pdf.key)).subarray(0, 5).toString()).toBe('%PDF-');
    expect(loaded['bytes']).toBe(original.byteLength);

    // text_extracted: one JSON line per page, the marble line on page 2.
    const text = outputs.byName('text_extracted') as { pages: number; pagesWithText: number; text: { key: string } };
    expect(text).toMatchObject({ pages: 3, pagesWithText: 3, unreadablePageCount: 0 });
    const pages = (await artifacts.get(text.text.key)).toString().trim().split('\n').map((line) => JSON.parse(line) as { page: number; text: string });
    expect(pages.map((page) => page.page)).toEqual([1, 2, 3]);
    expect(pages[1]?.text).toContain(MARBLE_LINE);
    expect(pages[0]?.text).not.toContain('marble');
    // Paragraphs survive as blank lines (chunking cuts there).
    expect(pages[2]?.text.split('\n\n').length).toBe(7);

    // tiles_generated: 1.5 × A4 = 893 × 1263 px → 2 × 3 tiles of at most 512 px per page.
    const tiles = outputs.byName('tiles_generated') as { tiles: number; manifest: { key: string } };
    expect(tiles).toMatchObject({ skipped: false, tiles: 18, pagesRendered: 3, failedPageCount: 0, scale: 1.5, tileSizePx: 512 });
    const manifest = TileManifestSchema.parse(JSON.parse((await artifacts.get(tiles.manifest.key)).toString()));
    expect(manifest.pages).toEqual([1, 2, 3].map((page) => ({ page, width: 893, height: 1263, scale: 1.5 })));
    for (const tile of manifest.tiles) {
      expect(tile.width).toBeLessThanOrEqual(512);
      expect(tile.height).toBeLessThanOrEqual(512);
      const png = await artifacts.get(tile.key);
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      expect(createHash('sha256').update(png).digest('hex')).toBe(tile.sha256);
    }
    const page2Area = manifest.tiles.filter((tile) => tile.page === 2).reduce((sum, tile) => sum + tile.width * tile.height, 0);
    expect(page2Area).toBe(893 * 1263);

    // embeddings_created: chunks no longer than asked, one unit vector per chunk.
    const embeddings = outputs.byName('embeddings_created') as {
      chunks: number;
      dimensions: number;
      chunksArtifact: { key: string };
      vectors: { key: string };
    };
    expect(embeddings).toMatchObject({ model: 'hashing-ngram-v1-256', dimensions: 256, chunkSizeChars: 300, chunkOverlapChars: 60 });
    const chunks = (await artifacts.get(embeddings.chunksArtifact.key)).toString().trim().split('\n').map((line) => JSON.parse(line) as { page: number; text: string });
    expect(chunks.length).toBe(embeddings.chunks);
    expect(chunks.length).toBeGreaterThan(3); // page 3 alone is longer than one chunk
    for (const chunk of chunks) expect(chunk.text.length).toBeLessThanOrEqual(300);
    expect(chunks.find((chunk) => chunk.text.includes(MARBLE_LINE))?.page).toBe(2);
    const vectors = decodeVectors(await artifacts.get(embeddings.vectors.key), 256);
    expect(vectors.length).toBe(chunks.length);
    for (const vector of vectors) expect(Math.hypot(...vector)).toBeCloseTo(1, 5);

    // materials_extracted: typed materials with page references, saved in the store.
    expect(outputs.byName('materials_extracted')).toMatchObject({ skipped: false, materials: 3, extractor: 'rules' });
    const materials = await store.list('doc-catalogue');
    expect(materials.map((material) => material.key)).toEqual([
      'carrara-marble-600x600mm-10mm-polished',
      'natural-oak-1200x200mm-14mm-oiled',
      'statuario-porcelain-1200x600mm-matt',
    ]);
    expect(materials[0]).toMatchObject({
      name: 'Carrara marble',
      material: 'marble',
      category: 'stone',
      productCategory: 'stone',
      dimensions: { text: '60x60 cm', valuesMm: [600, 600] },
      formats: [{ text: '60x60 cm', valuesMm: [600, 600] }],
      thicknessMm: 10,
      finish: 'polished',
      colour: null,
      pages: [2],
      extractor: 'rules',
    });

    // The result validates against the catalogue's schema and lists the top-level artifacts.
    const parsed = PdfResultSchema.parse(result);
    expect(parsed).toMatchObject({ documentId: 'doc-catalogue', pages: 3, chunks: chunks.length, tiles: 18, materials: 3 });
    expect(parsed.artifacts.map((ref) => ref.key)).toEqual([
      'job-1/pdf_loaded/document.pdf',
      'job-1/text_extracted/pages.jsonl',
      'job-1/tiles_generated/manifest.json',
      'job-1/embeddings_created/chunks.jsonl',
      'job-1/embeddings_created/vectors.f32',
      'job-1/materials_extracted/materials.json',
    ]);
    for (const ref of parsed.artifacts) {
      expect(createHash('sha256').update(await artifacts.get(ref.key)).digest('hex')).toBe(ref.sha256);
    }

    // Checkpoints stay small: counts and refs, never page text or vectors.
    for (const name of outputs.names()) expect(JSON.stringify(outputs.byName(name)).length).toBeLessThan(4096);

    // Progress per page, ending at 100, and the page counters.
    const textProgress = recordings.get('text_extracted')?.progress ?? [];
    expect(textProgress.map((entry) => entry.detail)).toEqual(['page 1 of 3', 'page 2 of 3', 'page 3 of 3']);
    expect(textProgress.at(-1)?.percent).toBe(100);
    expect(recordings.get('tiles_generated')?.progress.map((entry) => entry.detail)).toEqual(['page 1 of 3', 'page 2 of 3', 'page 3 of 3']);
    for (const recording of recordings.values()) expect(recording.progress.at(-1)?.percent).toBe(100);
    expect(recordings.get('pdf_loaded')?.counters).toEqual([{ total_pages: 3, completed_pages: 0 }]);
    expect(recordings.get('text_extracted')?.counters.map((counters) => counters.completed_pages)).toEqual([1, 2, 3]);
  });

  it('honours skipTiles, skipMaterials and maxPages', { timeout: 30_000 }, async () => {
    const store = new InMemoryMaterialStore();
    const { outputs, result } = await runStagesForTest(createPdfJob({ fileRoot: tmpdir(), materialStore: store }), {
      type: 'pdf',
      payload: payloadFor(cataloguePath, { skipTiles: true, skipMaterials: true, maxPages: 2 }),
      cpuPool: pool,
    });
    expect(outputs.byName('pdf_loaded')).toMatchObject({ pageCount: 3, pagesToProcess: 2 });
    expect(outputs.byName('text_extracted')).toMatchObject({ pages: 2 });
    expect(outputs.byName('tiles_generated')).toMatchObject({ skipped: true, tiles: 0, manifest: null });
    expect(outputs.byName('materials_extracted')).toMatchObject({ skipped: true, materials: 0, materialsArtifact: null });
    expect(await store.count('doc-catalogue')).toBe(0);
    const parsed = PdfResultSchema.parse(result);
    expect(parsed).toMatchObject({ pages: 2, tiles: 0, materials: 0 });
    expect(parsed.artifacts.map((ref) => ref.key.split('/').slice(1).join('/'))).toEqual([
      'pdf_loaded/document.pdf',
      'text_extracted/pages.jsonl',
      'embeddings_created/chunks.jsonl',
      'embeddings_created/vectors.f32',
    ]);
  });

  it('resumes after a crash from checkpointed outputs, on fresh threads, without duplicating materials', { timeout: 30_000 }, async () => {
    const store = new InMemoryMaterialStore();
    const artifacts = newArtifacts();
    const job = createPdfJob({ fileRoot: tmpdir(), materialStore: store });
    const payload = payloadFor(cataloguePath);
    const stages = job.stages as readonly StageDefinition<'pdf'>[];
    // Attempt 1 runs every stage, the materials stage included, then "dies" before finishing.
    const checkpoints = await runSomeStages(job, stages, new Map(), payload, artifacts, pool, 1);
    expect(await store.count('doc-catalogue')).toBe(3);
    // Attempt 2 restores the first two checkpoints (as JSON, like a store would) and resumes.
    const restored = new Map([...checkpoints].slice(0, 2).map(([name, output]) => [name, JSON.parse(JSON.stringify(output)) as unknown]));
    const freshPool = new CpuPool({ size: 1 });
    try {
      const resumed = await runSomeStages(job, stages.slice(2), restored, payload, artifacts, freshPool, 2);
      expect(resumed.get('tiles_generated')).toEqual(checkpoints.get('tiles_generated'));
      expect(resumed.get('embeddings_created')).toEqual(checkpoints.get('embeddings_created'));
      expect(resumed.get('materials_extracted')).toEqual(checkpoints.get('materials_extracted'));
      expect(PdfResultSchema.parse(await job.result(stageOutputsOf(resumed), { jobId: 'job-crash', payload: payloadOf(payload) }))).toMatchObject({
        materials: 3,
      });
    } finally {
      await freshPool.close();
    }
    expect(await store.count('doc-catalogue')).toBe(3);
  });

  it('stops between pages when the job is aborted', async () => {
    const path = writePdf('long-12.pdf', await makeLongPdf(12));
    const job = createPdfJob({ fileRoot: tmpdir(), materialStore: new InMemoryMaterialStore() });
    const artifacts = newArtifacts();
    const loadedStage = job.stages[0] as StageDefinition<'pdf'>;
    const textStage = job.stages[1] as StageDefinition<'pdf'>;
    const loadCtx = createTestStageContext({ type: 'pdf', stage: 'pdf_loaded', payload: payloadFor(path), artifacts, cpuPool: pool });
    const loaded = loadedStage.output.parse(await loadedStage.run(loadCtx, stageOutputsOf(new Map())));
    const ctx = createTestStageContext({ type: 'pdf', stage: 'text_extracted', payload: payloadFor(path), artifacts, cpuPool: pool });
    const report = ctx.progress.bind(ctx);
    ctx.progress = async (percent, detail) => {
      await report(percent, detail);
      if (ctx.recording.progress.length === 3) ctx.abort(new Error('cancelled by the test'));
    };
    await expect(textStage.run(ctx, stageOutputsOf(new Map([['pdf_loaded', loaded]])))).rejects.toThrow('cancelled by the test');
    expect(ctx.recording.progress.map((entry) => entry.detail)).toEqual(['page 1 of 12', 'page 2 of 12', 'page 3 of 12']);
    expect(await ctx.artifacts.exists('pages.jsonl')).toBe(false);
  });

  it('refuses invalid options, naming the field', () => {
    expect(() => createPdfJob({ fileRoot: tmpdir(), materialStore: {} as never })).toThrow(/materialStore/);
    expect(() => createPdfJob({ fileRoot: tmpdir(), materialStore: new InMemoryMaterialStore(), download: { timeoutMs: -1 } })).toThrow(/download\.timeoutMs/);
  });
});

function payloadOf(payload: PayloadInput<'pdf'>) {
  return createTestStageContext({ type: 'pdf', stage: 'pdf_loaded', payload }).payload;
}

/** Runs `stages` in order on top of `outputs` (a restored checkpoint set); returns all outputs. */
async function runSomeStages(
  _job: StagedJobDefinition<'pdf'>,
  stages: readonly StageDefinition<'pdf'>[],
  outputs: Map<string, unknown>,
  payload: PayloadInput<'pdf'>,
  artifacts: LocalFolderArtifactStore,
  cpuPool: CpuPool,
  attempt: number,
): Promise<Map<string, unknown>> {
  const all = new Map(outputs);
  for (const stage of stages) {
    const ctx = createTestStageContext({ type: 'pdf', stage: stage.name, payload, artifacts, cpuPool, jobId: 'job-crash', attempt });
    all.set(stage.name, stage.output.parse(await stage.run(ctx, stageOutputsOf(all))));
  }
  return all;
}
