/**
 * Sizes of the chaos scenarios. The defaults are the (300 jobs, 60 s of crashes) and
 * fit CI's 10-minute budget; `CHAOS_*` variables scale a local run up or down.
 */
function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

/** Scenario sizes (see test/chaos/README.md). */
export const CHAOS = {
  /** Jobs of the crash scenario. */
  crashJobs: positive('CHAOS_CRASH_JOBS', 300),
  /** How long workers are killed (s). */
  crashSeconds: positive('CHAOS_CRASH_SECONDS', 60),
  /** Sleep of every stage of the crash scenario's jobs (ms): long enough that kills land mid-stage. */
  crashStageMs: positive('CHAOS_CRASH_STAGE_MS', 400),
  /** Jobs of the Redis-restart scenario (a second batch of a quarter as many follows the restarts). */
  redisRestartJobs: positive('CHAOS_REDIS_RESTART_JOBS', 120),
  /** Jobs of the Redis-restart scenario's `appendfsync everysec` run. */
  redisEverysecJobs: positive('CHAOS_REDIS_EVERYSEC_JOBS', 45),
  /** Sleep of every stage of the Redis-restart scenario's jobs (ms). */
  redisRestartStageMs: positive('CHAOS_REDIS_RESTART_STAGE_MS', 300),
  /** How long Redis stays down in the short outage (ms): well within the scenario's 5 s lock. */
  redisShortDownMs: positive('CHAOS_REDIS_SHORT_DOWN_MS', 1000),
  /** How long Redis stays down in the long outage (ms): longer than the scenario's 5 s lock. */
  redisLongDownMs: positive('CHAOS_REDIS_LONG_DOWN_MS', 6500),
  /** Ordinary jobs of the poison scenario (two poison jobs go in among them). */
  poisonJobs: positive('CHAOS_POISON_JOBS', 60),
  /** Sleep of every stage of the poison scenario's ordinary jobs (ms). */
  poisonStageMs: positive('CHAOS_POISON_STAGE_MS', 250),
  /** How far the skewed workers' clocks are off (ms): one this much ahead, one this much behind. */
  skewMs: positive('CHAOS_SKEW_MS', 600_000),
  /** How long the Supabase endpoint stays down in the outage scenario (s). */
  outageSeconds: positive('CHAOS_OUTAGE_SECONDS', 30),
} as const;
