import type { UpdateGapSample } from '@kai-jobs/queue';
import { describe, expect, it } from 'vitest';
import { adviseThresholds } from '../src/index.js';

const T0 = 1_700_000_000_000;

function samples(updateGaps: number[], heartbeatGaps: (number | null)[], startMs = T0): UpdateGapSample[] {
  return updateGaps.map((maxUpdateGapMs, i) => ({
    atMs: startMs + i * 1000,
    maxUpdateGapMs,
    maxHeartbeatGapMs: heartbeatGaps[i] ?? null,
  }));
}

describe('adviseThresholds', () => {
  it('puts observed p95/p99 beside the thresholds and counts the jobs each would have flagged', () => {
    // 100 jobs: update gaps 1..100 s; heartbeat gaps 30 s except three of 20 min.
    const updates = Array.from({ length: 100 }, (_, i) => (i + 1) * 1000);
    const heartbeats = updates.map((_, i) => (i >= 97 ? 20 * 60_000 : 30_000));
    const advice = adviseThresholds(
      samples(updates, heartbeats),
      { heartbeatTimeoutMs: 15 * 60_000, updateTimeoutMs: 90_000 },
      { fromMs: T0, toMs: T0 + 100_000, listFull: false },
    );
    expect(advice.jobs).toBe(100);
    expect(advice.truncated).toBe(false);
    expect(advice.update).toEqual({
      configuredMs: 90_000,
      samples: 100,
      p50Ms: 50_000,
      p95Ms: 95_000,
      p99Ms: 99_000,
      maxMs: 100_000,
      wouldFlag: 10,
      wouldFlagRatio: 0.1,
      headroom: 90_000 / 99_000,
    });
    expect(advice.heartbeat).toMatchObject({
      configuredMs: 15 * 60_000,
      samples: 100,
      p95Ms: 30_000,
      p99Ms: 20 * 60_000,
      wouldFlag: 3,
      wouldFlagRatio: 0.03,
    });
  });

  it('ignores samples outside the window and says when the capped list cut the window', () => {
    const all = samples([1000, 2000, 3000, 4000], [null, null, null, null]);
    const advice = adviseThresholds(all, { heartbeatTimeoutMs: null, updateTimeoutMs: 2500 }, {
      fromMs: T0 + 1000,
      toMs: T0 + 2000,
      listFull: false,
    });
    expect(advice.jobs).toBe(2);
    expect(advice.update).toMatchObject({ samples: 2, maxMs: 3000, wouldFlag: 1 });
    // No heartbeat check for the type: nothing flagged, no headroom, no samples.
    expect(advice.heartbeat).toEqual({
      configuredMs: null,
      samples: 0,
      p50Ms: null,
      p95Ms: null,
      p99Ms: null,
      maxMs: null,
      wouldFlag: 0,
      wouldFlagRatio: null,
      headroom: null,
    });
    const full = adviseThresholds(all, { heartbeatTimeoutMs: null, updateTimeoutMs: 2500 }, {
      fromMs: T0 - 10_000,
      toMs: T0 + 10_000,
      listFull: true,
    });
    expect(full.truncated).toBe(true);
  });

  it('flags only gaps strictly longer than the threshold', () => {
    const advice = adviseThresholds(samples([5000, 5000, 5001], []), { heartbeatTimeoutMs: null, updateTimeoutMs: 5000 }, {
      fromMs: T0,
      toMs: T0 + 10_000,
      listFull: false,
    });
    expect(advice.update.wouldFlag).toBe(1);
  });
});
