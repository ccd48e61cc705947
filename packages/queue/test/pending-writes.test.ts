import { describe, expect, it } from 'vitest';
import { mergeProgress } from '../src/index.js';
import { PendingWrites } from '../src/status/pending-writes.js';

describe('PendingWrites (the buffer of BufferedStatusStore)', () => {
  it('merges progress per attempt: the latest value of each field, counters field by field', () => {
    const pending = new PendingWrites(10, 5);
    pending.addProgress('j', 'f1', { percent: 10, detail: 'a', counters: { total_pages: 9 } }, 1000);
    pending.addProgress('j', 'f1', { percent: 20, counters: { completed_pages: 1 } }, 1100);
    pending.addProgress('j', 'f2', { percent: 5 }, 1200);
    const [first, second] = pending.entriesOf('j');
    expect(first?.progress).toEqual({ percent: 20, detail: 'a', counters: { total_pages: 9, completed_pages: 1 } });
    expect(second?.progress).toEqual({ percent: 5 });
    expect(pending.lag(1500)).toEqual({ pendingJobs: 1, oldestPendingMs: 500 });
    expect(mergeProgress({ status: 'scraping' }, { percent: 1 })).toEqual({ status: 'scraping', percent: 1 });
  });

  it('drops the oldest entry without a finish when full, never a finish; history is capped per entry', () => {
    const pending = new PendingWrites(2, 2);
    expect(pending.addFinish('a', 'f', { kind: 'complete', result: 1 }, 1)).toBeNull();
    expect(pending.addProgress('b', 'f', { percent: 1 }, 2)).toBeNull();
    expect(pending.addProgress('c', 'f', { percent: 1 }, 3)?.jobId).toBe('b');
    expect(pending.addFinish('d', 'f', { kind: 'fail', error: 'x', stage: null }, 4)?.jobId).toBe('c');
    // Only finishing entries left: the bound gives way rather than drop one.
    expect(pending.addFinish('e', 'f', { kind: 'complete', result: 2 }, 5)).toBeNull();
    expect(pending.all().map((entry) => entry.jobId)).toEqual(['a', 'd', 'e']);
    for (const event of ['h1', 'h2', 'h3']) pending.addHistory('a', { event }, 6);
    expect(pending.entriesOf('a')[0]?.history.map((entry) => entry.event)).toEqual(['h2', 'h3']);
  });

  it('keeps the latest heartbeat per job and drops it when the attempt finishes', () => {
    const pending = new PendingWrites(10, 5);
    pending.addBeats([{ id: 'a', type: 'pdf', fence: 'f' }, { id: 'b', type: 'pdf', fence: 'f' }], 100);
    pending.addBeats([{ id: 'a', type: 'pdf', fence: 'f' }], 200);
    expect(pending.pendingBeats().map((beat) => [beat.id, beat.sinceMs])).toEqual([
      ['a', 100],
      ['b', 100],
    ]);
    pending.addFinish('a', 'f', { kind: 'complete', result: null }, 300);
    expect(pending.pendingBeats().map((beat) => beat.id)).toEqual(['b']);
    expect(pending.lag(400)).toEqual({ pendingJobs: 2, oldestPendingMs: 300 });
    pending.removeBeats(pending.pendingBeats());
    const [entry] = pending.entriesOf('a');
    if (entry === undefined) throw new Error('no entry');
    entry.finish = null;
    pending.removeIfEmpty(entry);
    expect(pending.isEmpty).toBe(true);
    expect(pending.lag(500)).toEqual({ pendingJobs: 0, oldestPendingMs: 0 });
  });
});
