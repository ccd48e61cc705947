/**
 * Memory bounded by design: the per-page stages keep at most `pagesInFlight` pages started and
 * not yet stored, whatever the document's length (a structural property; RSS is measured by
 * bench/pdf-e2e.bench.ts, not here).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CpuPool, createPdfJob, forEachPageInOrder, InMemoryMaterialStore, type CpuTask } from '@kai-jobs/workers';
import { runStagesForTest } from '@kai-jobs/workers/testing';
import { makeLongPdf } from './fixtures/pdfs.js';

/** A CPU pool that records, per task name, the most tasks submitted and not yet settled. */
class CountingPool extends CpuPool {
  readonly inFlight = new Map<string, number>();
  readonly most = new Map<string, number>();

  override run<I, O>(task: CpuTask<I, O>, input: I, options: { signal?: AbortSignal; transfer?: readonly ArrayBuffer[]; timeoutMs?: number } = {}): Promise<O> {
    const name = task.exportName;
    const now = (this.inFlight.get(name) ?? 0) + 1;
    this.inFlight.set(name, now);
    this.most.set(name, Math.max(now, this.most.get(name) ?? 0));
    return super.run(task, input, options).finally(() => this.inFlight.set(name, (this.inFlight.get(name) ?? 1) - 1));
  }
}

describe('forEachPageInOrder', () => {
  it('keeps at most pagesInFlight pages started and not consumed, and consumes them in page order', async () => {
    const started: number[] = [];
    const consumed: number[] = [];
    let outstanding = 0;
    let most = 0;
    // Later pages finish first: consumption must still follow page order.
    await forEachPageInOrder<number>({
      total: 12,
      pagesInFlight: 3,
      beforeStart: () => undefined,
      start: async (pageNumber) => {
        started.push(pageNumber);
        outstanding += 1;
        most = Math.max(most, outstanding);
        await new Promise((resolve) => setTimeout(resolve, (12 - pageNumber) % 4));
        return pageNumber * 10;
      },
      consume: async (pageNumber, result) => {
        expect(result).toBe(pageNumber * 10);
        consumed.push(pageNumber);
        outstanding -= 1;
      },
    });
    expect(most).toBe(3);
    expect(started).toEqual(Array.from({ length: 12 }, (_, index) => index + 1));
    expect(consumed).toEqual(started);
  });

  it('stops starting pages at the first failure and rejects with it', async () => {
    const started: number[] = [];
    const run = forEachPageInOrder<number>({
      total: 10,
      pagesInFlight: 2,
      beforeStart: () => undefined,
      start: async (pageNumber) => {
        started.push(pageNumber);
        if (pageNumber === 3) throw new Error('page 3 broke');
        return pageNumber;
      },
      consume: async () => undefined,
    });
    await expect(run).rejects.toThrow('page 3 broke');
    expect(Math.max(...started)).toBeLessThanOrEqual(4);
  });

  it('refuses a window below one page', async () => {
    await expect(forEachPageInOrder({ total: 1, pagesInFlight: 0, beforeStart: () => undefined, start: async () => 1, consume: async () => undefined })).rejects.toThrow(RangeError);
  });
});

const pool = new CountingPool({ size: 2 });
afterAll(() => pool.close());

describe('the PDF job holds at most pagesInFlight pages', () => {
  it('text_extracted and tiles_generated of a 12-page PDF never have more than 2 pages in the pool', { timeout: 60_000 }, async () => {
    const folder = mkdtempSync(join(tmpdir(), 'kai-pdf-in-flight-'));
    const path = join(folder, 'long.pdf');
    writeFileSync(path, await makeLongPdf(12));
    const { outputs } = await runStagesForTest(createPdfJob({ fileRoot: folder, materialStore: new InMemoryMaterialStore(), pagesInFlight: 2 }), {
      type: 'pdf',
      payload: { documentId: 'doc-in-flight', source: { kind: 'file', path }, options: { renderScale: 0.5, skipMaterials: true } },
      cpuPool: pool,
    });
    expect(outputs.byName('text_extracted')).toMatchObject({ pages: 12, pagesWithText: 12 });
    expect(outputs.byName('tiles_generated')).toMatchObject({ pagesRendered: 12 });
    // Two pages were in the pool at once (the window is used), never three.
    expect(pool.most.get('extractPageText')).toBe(2);
    expect(pool.most.get('renderPageTiles')).toBe(2);
  });
});
