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
  /** How far the skewed workers' clocks are off (ms): one this much ahead, one this much behind. */
  skewMs: positive('CHAOS_SKEW_MS', 600_000),
  /** How long the Supabase endpoint stays down in the outage scenario (s). */
  outageSeconds: positive('CHAOS_OUTAGE_SECONDS', 30),
} as const;
