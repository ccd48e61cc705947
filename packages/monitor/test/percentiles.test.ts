import { DURATION_BUCKET_BOUNDS_MS, durationBucketIndex } from '@kai-jobs/queue';
import { describe, expect, it } from 'vitest';
import { percentileFromHistogram, percentileOfSorted } from '../src/index.js';

function histogramOf(values: number[]): number[] {
  const counts = new Array<number>(DURATION_BUCKET_BOUNDS_MS.length + 1).fill(0);
  for (const value of values) counts[durationBucketIndex(value)] = (counts[durationBucketIndex(value)] ?? 0) + 1;
  return counts;
}

function exact(values: number[], q: number): number {
  return percentileOfSorted([...values].sort((a, b) => a - b), q) as number;
}

describe('percentileFromHistogram', () => {
  it('interpolates inside the bucket holding the rank', () => {
    // Bounds 10, 20, 40; four values in (10, 20], four in (20, 40].
    const bounds = [10, 20, 40];
    expect(percentileFromHistogram([0, 4, 4, 0], 0.5, bounds)).toBe(20);
    expect(percentileFromHistogram([0, 4, 4, 0], 0.25, bounds)).toBe(15);
    expect(percentileFromHistogram([0, 4, 4, 0], 0.75, bounds)).toBe(30);
    expect(percentileFromHistogram([0, 4, 4, 0], 1, bounds)).toBe(40);
    expect(percentileFromHistogram([2, 0, 0, 0], 0.5, bounds)).toBe(5);
  });

  it('returns the last bound for a rank in the overflow bucket, and null when empty', () => {
    expect(percentileFromHistogram([0, 0, 1, 9], 0.95, [10, 20, 40])).toBe(40);
    expect(percentileFromHistogram([0, 0, 0, 0], 0.5, [10, 20, 40])).toBeNull();
    expect(() => percentileFromHistogram([1], 1.5, [10])).toThrow(RangeError);
  });

  it('stays within about ±20 % of the exact percentile on realistic durations', () => {
    // A skewed, deterministic spread of processing times from 200 ms to ~10 min.
    const values = Array.from({ length: 2000 }, (_, i) => Math.round(200 * Math.exp((i % 997) / 160)));
    for (const q of [0.5, 0.95, 0.99]) {
      const estimate = percentileFromHistogram(histogramOf(values), q) as number;
      const truth = exact(values, q);
      expect(Math.abs(estimate - truth) / truth).toBeLessThan(0.2);
    }
  });
});

describe('percentileOfSorted', () => {
  it('uses the nearest rank, so the answer is always an observed value', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentileOfSorted(values, 0.5)).toBe(50);
    expect(percentileOfSorted(values, 0.95)).toBe(95);
    expect(percentileOfSorted(values, 0.99)).toBe(99);
    expect(percentileOfSorted(values, 1)).toBe(100);
    expect(percentileOfSorted(values, 0)).toBe(1);
    expect(percentileOfSorted([7], 0.99)).toBe(7);
    expect(percentileOfSorted([], 0.5)).toBeNull();
  });
});
