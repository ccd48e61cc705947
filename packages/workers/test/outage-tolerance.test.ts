import { describe, expect, it } from 'vitest';
import { RedisJobStore, SupabaseJobStore } from '@kai-jobs/queue';
import { WorkerRuntimeOptionsSchema } from '../src/index.js';
import { OutageToleranceOptionsSchema, resolveOutageTolerance } from '../src/runtime/outage-tolerance.js';

// Which stores the runtime wraps. Constructing the stores opens no connection.
const redisStore = new RedisJobStore({ connection: {} as never });
const supabaseStore = new SupabaseJobStore({ url: 'http://127.0.0.1:1', serviceRoleKey: 'k' });
const defaults = OutageToleranceOptionsSchema.parse({});

describe('resolveOutageTolerance', () => {
  it('is on by default for a status store that is not the Redis one', () => {
    expect(resolveOutageTolerance(undefined, supabaseStore)).toEqual(defaults);
    expect(resolveOutageTolerance(undefined, undefined)).toBeNull();
    expect(resolveOutageTolerance(undefined, redisStore)).toBeNull();
  });

  it('follows an explicit setting', () => {
    expect(resolveOutageTolerance(false, supabaseStore)).toBeNull();
    expect(resolveOutageTolerance(true, redisStore)).toEqual(defaults);
    expect(resolveOutageTolerance({ writeTimeoutMs: 100 }, undefined)).toEqual({ ...defaults, writeTimeoutMs: 100 });
  });

  it('is validated with the runtime options', () => {
    const result = WorkerRuntimeOptionsSchema.safeParse({ jobs: [{}], outageTolerance: { writeTimeoutMs: -1, unknown: 1 } });
    expect(result.success).toBe(false);
    expect(result.error?.issues.some((issue) => issue.path.join('.').startsWith('outageTolerance'))).toBe(true);
  });
});
