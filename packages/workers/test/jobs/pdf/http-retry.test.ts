import { describe, expect, it } from 'vitest';
import { HttpRetryOptionsSchema, retryDelayMs } from '@kai-jobs/workers';

describe('retryDelayMs', () => {
  const options = { retryBaseDelayMs: 500, retryMaxDelayMs: 20_000 };

  it('doubles per retry with equal jitter, capped at the maximum', () => {
    expect([0, 1, 2, 3].map((attempt) => retryDelayMs(attempt, options, () => 0))).toEqual([250, 500, 1000, 2000]);
    expect([0, 1, 2, 3].map((attempt) => retryDelayMs(attempt, options, () => 0.999_999))).toEqual([500, 1000, 2000, 4000]);
    expect(retryDelayMs(10, options, () => 0.5)).toBe(15_000);
  });

  it("takes a server's Retry-After as a floor, capped at the maximum", () => {
    expect(retryDelayMs(0, options, () => 0, 3000)).toBe(3000);
    expect(retryDelayMs(0, options, () => 0, 60_000)).toBe(20_000);
    expect(retryDelayMs(3, options, () => 0, 100)).toBe(2000);
  });

  it('has documented defaults', () => {
    expect(HttpRetryOptionsSchema.parse({})).toEqual({ timeoutMs: 30_000, maxRetries: 3, retryBaseDelayMs: 500, retryMaxDelayMs: 20_000 });
  });
});
