import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { backoffDelayMs, BackoffPolicySchema, checkpointSha256, mayRestart, validateCheckpoints, type Checkpoint } from '../src/index.js';

function checkpoint(stage: string, stageIndex: number, data: unknown, overrides: Partial<Checkpoint> = {}): Checkpoint {
  const dataJson = JSON.stringify(data);
  return {
    jobId: 'j',
    stage,
    stageIndex,
    data,
    dataJson,
    sha256: checkpointSha256(dataJson),
    schemaVersion: 1,
    attempt: 1,
    fence: 'f',
    createdAt: 1,
    bytes: dataJson.length,
    ...overrides,
  };
}

const specs = [
  { name: 'one', schema: z.object({ n: z.number() }) },
  { name: 'two', schema: z.object({ s: z.string() }) },
  { name: 'three', schema: z.object({ ok: z.boolean() }) },
];

describe('validateCheckpoints', () => {
  it('resumes after the last contiguous valid stage', () => {
    const result = validateCheckpoints([checkpoint('one', 0, { n: 1 }), checkpoint('two', 1, { s: 'x' })], specs);
    expect(result.resumeIndex).toBe(2);
    expect(result.valid.map((c) => c.stage)).toEqual(['one', 'two']);
    expect(result.invalid).toEqual([]);
  });

  it('starts from the first stage when there is nothing', () => {
    expect(validateCheckpoints([], specs)).toEqual({ valid: [], invalid: [], resumeIndex: 0 });
  });

  it('reports a gap: a later checkpoint without its earlier stage is unusable', () => {
    const result = validateCheckpoints([checkpoint('one', 0, { n: 1 }), checkpoint('three', 2, { ok: true })], specs);
    expect(result.resumeIndex).toBe(1);
    expect(result.invalid).toEqual([expect.objectContaining({ stage: 'three', reason: 'missing_earlier_stage' })]);
  });

  it('reports a flipped byte as a hash mismatch', () => {
    const good = checkpoint('one', 0, { n: 12 });
    const flipped = { ...good, dataJson: good.dataJson.replace('12', '13') };
    const result = validateCheckpoints([flipped], specs);
    expect(result.invalid[0]).toMatchObject({ stage: 'one', reason: 'sha256_mismatch' });
    expect(result.resumeIndex).toBe(0);
  });

  it('reports unreadable data, schema failures, version mismatches and unknown stages', () => {
    const unreadable = { ...checkpoint('one', 0, {}), dataJson: '{nope', sha256: checkpointSha256('{nope') };
    expect(validateCheckpoints([unreadable], specs).invalid[0]?.reason).toBe('unreadable');
    expect(validateCheckpoints([checkpoint('one', 0, { n: 'x' })], specs).invalid[0]).toMatchObject({
      reason: 'schema_invalid',
      detail: expect.stringMatching(/^n: /),
    });
    expect(validateCheckpoints([checkpoint('one', 0, { n: 1 }, { schemaVersion: 2 })], specs).invalid[0]?.reason).toBe(
      'schema_version_mismatch',
    );
    expect(validateCheckpoints([checkpoint('zzz', 9, {})], specs).invalid[0]?.reason).toBe('unknown_stage');
  });
});

describe('backoff policy', () => {
  const policy = BackoffPolicySchema.parse({ baseMs: 1000, capMs: 10_000, jitterRatio: 0.5 });

  it('doubles from the base up to the cap, with jitter removing at most its share', () => {
    expect([1, 2, 3, 4, 5, 6].map((retry) => backoffDelayMs(policy, retry, () => 0))).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect(backoffDelayMs(policy, 3, () => 0.999_999)).toBe(2000);
    for (let i = 0; i < 100; i++) {
      const delay = backoffDelayMs(policy, 2);
      expect(delay).toBeGreaterThanOrEqual(1000);
      expect(delay).toBeLessThanOrEqual(2000);
    }
  });

  it('allows 3 restarts by default and rejects bad policies', () => {
    const defaults = BackoffPolicySchema.parse({});
    expect([0, 1, 2, 3].map((count) => mayRestart(defaults, count))).toEqual([true, true, true, false]);
    expect(() => BackoffPolicySchema.parse({ baseMs: 5000, capMs: 1000 })).toThrow(/capMs/);
    expect(() => backoffDelayMs(defaults, 0)).toThrow(RangeError);
  });
});
