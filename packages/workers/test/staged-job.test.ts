import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createTestStageContext, runStagesForTest } from '../src/testing.js';
import { defineStage, defineStagedJob, HeartbeatBatcher, ProgressReporter } from '../src/index.js';
import { createMemoryLogger, systemClock, type HeartbeatEntry, type ProgressUpdate } from '@kai-jobs/queue';

const out = z.object({ n: z.number() });
const stage = (name: string) => defineStage({ name: name as 'site_crawled', output: out, run: async () => ({ n: 1 }) });

describe('defineStagedJob', () => {
  it('requires the catalog stages in catalog order', () => {
    expect(() => defineStagedJob({ type: 'scrape', stages: [stage('results_saved'), stage('site_crawled')], result: () => ({}) as never })).toThrow(
      /scrape stages must be \[site_crawled, results_saved\]/,
    );
    expect(() => defineStagedJob({ type: 'scrape', stages: [stage('site_crawled')], result: () => ({}) as never })).toThrow(/got \[site_crawled\]/);
  });
});

describe('@kai-jobs/workers/testing', () => {
  it('records progress, counters, resume states and aborts, with a validated payload', async () => {
    const ctx = createTestStageContext({
      type: 'xml-import',
      stage: 'products_imported',
      payload: { importJobId: 'i', sourceName: 'acme', source: { kind: 'file', path: '/f.xml' } },
      resumeState: { recordsConsumed: 10 },
    });
    expect(ctx.payload.batchSize).toBe(500);
    expect(ctx.resumeState).toEqual({ recordsConsumed: 10 });
    await ctx.progress(40, 'batch 2');
    await ctx.setCounters({ processed_products: 1000 });
    await ctx.saveResumeState({ recordsConsumed: 1000 });
    ctx.logger.info('hello', { a: 1 });
    expect(ctx.recording.progress).toEqual([{ percent: 40, detail: 'batch 2' }]);
    expect(ctx.recording.counters).toEqual([{ processed_products: 1000 }]);
    expect(ctx.recording.resumeStates).toEqual([{ recordsConsumed: 1000 }]);
    expect(ctx.recording.logs[0]).toMatchObject({ message: 'hello', fields: { a: 1, stage: 'products_imported' } });
    await expect(ctx.progress(120)).rejects.toThrow(/outside 0–100/);
    ctx.abort(new Error('stop'));
    expect(() => ctx.throwIfAborted()).toThrow('stop');
    const ref = await ctx.artifacts.put('x.txt', 'data');
    expect(ref.key).toBe('test-job/products_imported/x.txt');
    await ctx.close();
  });

  it('runs all stages of a job in order', async () => {
    const calls: string[] = [];
    const job = defineStagedJob({
      type: 'scrape',
      stages: [
        defineStage({ name: 'site_crawled', output: out, run: async () => (calls.push('a'), { n: 2 }) }),
        defineStage({
          name: 'results_saved',
          output: out,
          run: async (_ctx, previous) => (calls.push('b'), { n: (previous.byName('site_crawled') as { n: number }).n + 1 }),
        }),
      ],
      result: (outputs) => ({ sessionId: 's', totalPages: (outputs.byName('results_saved') as { n: number }).n, completedPages: 0, failedPages: 0, products: 0 }),
    });
    const { result } = await runStagesForTest(job, { type: 'scrape', payload: { sessionId: 's', sourceUrl: 'https://a.example/' } });
    expect(calls).toEqual(['a', 'b']);
    expect(result).toMatchObject({ totalPages: 3 });
  });
});

describe('ProgressReporter', () => {
  it('coalesces updates into one write per throttle window, latest values winning', async () => {
    const writes: ProgressUpdate[] = [];
    const reporter = new ProgressReporter({
      store: { progress: async (_id, _fence, update) => void writes.push(update) },
      jobId: 'j',
      fence: 'f',
      throttleMs: 60_000,
      clock: systemClock,
      onError: () => undefined,
    });
    await reporter.report({ percent: 1, counters: { total_pages: 10 } });
    await reporter.report({ percent: 2, counters: { completed_pages: 1 } });
    await reporter.report({ percent: 3, detail: 'page 3', counters: { completed_pages: 2 } });
    expect(writes).toHaveLength(1);
    await reporter.flush();
    expect(writes).toEqual([
      { percent: 1, counters: { total_pages: 10 } },
      { percent: 3, detail: 'page 3', counters: { completed_pages: 2 } },
    ]);
    reporter.dispose();
  });
});

describe('HeartbeatBatcher', () => {
  it('writes all active jobs in one call and reports rejected ones', async () => {
    const calls: HeartbeatEntry[][] = [];
    const rejected: string[] = [];
    const batcher = new HeartbeatBatcher({
      store: { heartbeat: async (entries) => (calls.push([...entries]), { rejected: ['b'] }) },
      intervalMs: 1000,
      clock: systemClock,
      logger: createMemoryLogger(),
      onRejected: (ids) => rejected.push(...ids),
    });
    batcher.add('a', 'pdf', 'fa');
    batcher.add('b', 'scrape', 'fb');
    await batcher.writeNow();
    expect(calls).toEqual([[{ id: 'a', type: 'pdf', fence: 'fa' }, { id: 'b', type: 'scrape', fence: 'fb' }]]);
    expect(rejected).toEqual(['b']);
    expect(batcher.size).toBe(1);
    await batcher.stop();
  });
});
