import { tmpdir } from 'node:os';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createXmlImportJob, LocalFolderArtifactStore } from '@kai-jobs/workers';
import { runStagesForTest } from '@kai-jobs/workers/testing';
import { generateLargeFeed, PRODUCT_MAPPING, SkuCountingStore, tempDir } from './fixtures/feeds.js';

const MiB = 1024 * 1024;
const folders: string[] = [];
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

describe('xml-import of a 100 MB feed', () => {
  it('streams it with bounded memory and counts every product', { timeout: 180_000 }, async () => {
    const work = tempDir('kai-xml-large-');
    folders.push(work);
    const path = join(work, 'feed.xml');
    const generated = await generateLargeFeed(path, 100 * MiB, 50);
    expect(generated.bytes).toBeGreaterThanOrEqual(100 * MiB);

    const store = new SkuCountingStore();
    const job = createXmlImportJob({ fileRoot: tmpdir(), productStore: store });
    const baseline = process.memoryUsage.rss();
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss());
    }, 20);
    let result: unknown;
    try {
      ({ result } = await runStagesForTest(job, {
        type: 'xml-import',
        artifacts: new LocalFolderArtifactStore(join(work, 'artifacts')),
        payload: { importJobId: 'imp-large', sourceName: 'large', source: { kind: 'file', path }, fieldMapping: PRODUCT_MAPPING },
      }));
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, process.memoryUsage.rss());

    const valid = generated.products - generated.invalid;
    expect(result).toMatchObject({
      totalProducts: generated.products,
      processedProducts: valid,
      failedProducts: generated.invalid,
      batches: Math.ceil(valid / 500),
    });
    expect(store.skus.size).toBe(valid);
    // The SKU set itself is part of the growth (a few tens of MB); the feed never is.
    expect(peak - baseline).toBeLessThan(150 * MiB);
  });
});
