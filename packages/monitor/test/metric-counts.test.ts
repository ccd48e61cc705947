import { durationBucketIndex } from '@kai-jobs/queue';
import { describe, expect, it } from 'vitest';
import { addCounts, addHash, emptyCounts, summarizeCounts } from '../src/index.js';

describe('metric counts', () => {
  it('parses bucket hashes and derives the key metrics', () => {
    const a = addHash(emptyCounts(), {
      completed: '3',
      duration_sum_ms: '6000',
      [`duration_bucket:${durationBucketIndex(2000)}`]: '3',
      failed: '1',
      'failed_by_stage:tiles_generated': '1',
      stuck: '2',
      'stuck_by_reason:update_timeout': '2',
      'recovery:restarted': '2',
      'recovery:failed': '1',
      'failover_by_worker:host:1:ab': '1',
      failover: '1',
      unrelated: '9',
      'duration_bucket:999': '5',
    });
    const b = addHash(emptyCounts(), { failed: '1', 'failed_by_stage:pdf_loaded': '1', 'recovery:recovered': '3' });
    const total = addCounts(addCounts(emptyCounts(), a), b);
    const point = summarizeCounts(total, 0, 30 * 60_000);
    expect(point).toMatchObject({
      completed: 3,
      failed: 2,
      errorRate: 0.4,
      stuck: 2,
      stuckByReason: { update_timeout: 2 },
      stuckPerHour: 4,
      recoveries: { restarted: 2, failed: 1, recovered: 3 },
      recoverySuccessRate: 0.75,
      failuresByStage: { tiles_generated: 1, pdf_loaded: 1 },
      failovers: 1,
      failoversByWorker: { 'host:1:ab': 1 },
    });
    expect(point.processingTime?.avgMs).toBe(2000);
    // All three in the bucket (1810, 2560]: the percentiles fall inside it.
    expect(point.processingTime?.p50Ms).toBeGreaterThan(1810);
    expect(point.processingTime?.p95Ms).toBeLessThanOrEqual(2560);
  });

  it('gives null rates when nothing finished', () => {
    const point = summarizeCounts(emptyCounts(), 0, 60_000);
    expect(point.errorRate).toBeNull();
    expect(point.recoverySuccessRate).toBeNull();
    expect(point.processingTime).toBeNull();
    expect(point.stuckPerHour).toBe(0);
  });
});
