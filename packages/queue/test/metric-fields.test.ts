import { describe, expect, it } from 'vitest';
import {
  decodeGapSample,
  DURATION_BUCKET_BOUNDS_MS,
  durationBucketIndex,
  encodeGapSample,
  metricLabel,
  metricsKeys,
  minuteOf,
} from '../src/index.js';

describe('metrics fields', () => {
  it('puts a duration in the first bucket whose bound it does not exceed, past the last in the overflow bucket', () => {
    expect(DURATION_BUCKET_BOUNDS_MS.slice(0, 6)).toEqual([10, 14, 20, 28, 40, 57]);
    expect(DURATION_BUCKET_BOUNDS_MS.at(-1)).toBeGreaterThanOrEqual(48 * 3600_000);
    expect(durationBucketIndex(0)).toBe(0);
    expect(durationBucketIndex(10)).toBe(0);
    expect(durationBucketIndex(11)).toBe(1);
    expect(durationBucketIndex(14)).toBe(1);
    expect(durationBucketIndex(15)).toBe(2);
    const last = DURATION_BUCKET_BOUNDS_MS.length - 1;
    expect(durationBucketIndex(DURATION_BUCKET_BOUNDS_MS[last] as number)).toBe(last);
    expect(durationBucketIndex((DURATION_BUCKET_BOUNDS_MS[last] as number) + 1)).toBe(last + 1);
    // Bounds grow by about √2 each: a percentile read from the histogram is within ~±20 %.
    for (let i = 8; i < DURATION_BUCKET_BOUNDS_MS.length; i += 1) {
      const ratio = (DURATION_BUCKET_BOUNDS_MS[i] as number) / (DURATION_BUCKET_BOUNDS_MS[i - 1] as number);
      expect(ratio).toBeCloseTo(Math.SQRT2, 1);
    }
  });

  it('round-trips gap samples and rejects malformed entries', () => {
    const sample = { atMs: 1_700_000_000_123, maxUpdateGapMs: 4567, maxHeartbeatGapMs: 30_012 };
    expect(decodeGapSample(encodeGapSample(sample))).toEqual(sample);
    const noHeartbeat = { atMs: 5, maxUpdateGapMs: 6, maxHeartbeatGapMs: null };
    expect(encodeGapSample(noHeartbeat)).toBe('5|6|');
    expect(decodeGapSample('5|6|')).toEqual(noHeartbeat);
    expect(decodeGapSample('garbage')).toBeNull();
    expect(decodeGapSample('1||3')).toBeNull();
    expect(decodeGapSample('x|2|3')).toBeNull();
  });

  it('builds keys under the {metrics} hash tag and bounded labels', () => {
    const keys = metricsKeys('kai');
    expect(keys.bucket('pdf', minuteOf(120_000))).toBe('kai:{metrics}:pdf:2');
    expect(keys.totals('scrape')).toBe('kai:{metrics}:scrape:total');
    expect(keys.gapSamples('xml-import')).toBe('kai:{metrics}:xml-import:gaps');
    expect(metricLabel(null)).toBe('unknown');
    expect(metricLabel('  ')).toBe('unknown');
    expect(metricLabel('x'.repeat(150))).toHaveLength(100);
  });
});
