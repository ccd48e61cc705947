/**
 * Retention settings read from the environment, shared by every entry point (worker, monitor,
 * CLI) so that whichever process finishes a job expires it on the same schedule. Pure: the
 * entry point passes `process.env`.
 */

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d+)(ms|s|m|h|d)?$/;

/**
 * Parses a duration: a whole number with a unit (`500ms`, `30s`, `15m`, `12h`, `7d`) or a bare
 * whole number of milliseconds. Returns null when the text is not one.
 */
export function parseDurationMs(text: string): number | null {
  const match = DURATION.exec(text.trim());
  if (match === null) return null;
  const value = Number(match[1]) * UNIT_MS[(match[2] ?? 'ms') as keyof typeof UNIT_MS];
  return Number.isSafeInteger(value) ? value : null;
}

/** The retention variables, each with what it sets. */
export const RETENTION_ENV_VARIABLES = {
  /** Status rows, their history and idempotency keys of finished jobs (status store `finishedRetentionMs`). */
  KAI_RETENTION_FINISHED: 'finishedRetentionMs',
  /** Checkpoints and resume states, after the job's last write (checkpoint store `retentionMs`). */
  KAI_RETENTION_CHECKPOINTS: 'checkpointRetentionMs',
  /** History entries kept per job (a count; stores' `maxHistoryEntries`). */
  KAI_RETENTION_HISTORY_ENTRIES: 'maxHistoryEntries',
  /** Artifacts of completed jobs (the worker's artifact sweep). */
  KAI_RETENTION_ARTIFACTS_COMPLETED: 'artifactsCompletedMs',
  /** Artifacts of failed jobs (the worker's artifact sweep). */
  KAI_RETENTION_ARTIFACTS_FAILED: 'artifactsFailedMs',
  /** Artifacts whose job has no status row any more, once untouched this long. */
  KAI_RETENTION_ARTIFACTS_ORPHAN: 'artifactOrphanGraceMs',
  /** How often each worker sweeps its artifact store; `0` turns the sweep off. */
  KAI_ARTIFACT_SWEEP_INTERVAL: 'artifactSweepIntervalMs',
  /** BullMQ's copy of completed jobs (`removeOnComplete` age of the jobs a producer adds). */
  KAI_RETENTION_BULLMQ_COMPLETED: 'bullmqCompletedMs',
  /** BullMQ's copy of failed jobs (`removeOnFail` age). */
  KAI_RETENTION_BULLMQ_FAILED: 'bullmqFailedMs',
} as const;

/** Retention set in the environment; an absent field keeps the component's default. */
export interface RetentionEnvConfig {
  finishedRetentionMs?: number;
  checkpointRetentionMs?: number;
  maxHistoryEntries?: number;
  artifactsCompletedMs?: number;
  artifactsFailedMs?: number;
  artifactOrphanGraceMs?: number;
  artifactSweepIntervalMs?: number;
  bullmqCompletedMs?: number;
  bullmqFailedMs?: number;
}

/**
 * Reads the `KAI_RETENTION_*` variables (see {@link RETENTION_ENV_VARIABLES}). Returns the
 * settings and the problems found, each naming its variable, for the entry point's one
 * configuration error.
 */
export function parseRetentionEnv(env: Readonly<Record<string, string | undefined>>): { retention: RetentionEnvConfig; problems: string[] } {
  const retention: RetentionEnvConfig = {};
  const problems: string[] = [];
  for (const [variable, field] of Object.entries(RETENTION_ENV_VARIABLES) as [keyof typeof RETENTION_ENV_VARIABLES, keyof RetentionEnvConfig][]) {
    const raw = env[variable]?.trim();
    if (raw === undefined || raw === '') continue;
    if (field === 'maxHistoryEntries') {
      const count = /^\d+$/.test(raw) ? Number(raw) : NaN;
      if (!(count >= 10 && count <= 10_000)) problems.push(`${variable}: expected a whole number from 10 to 10000, got "${raw}"`);
      else retention[field] = count;
      continue;
    }
    const ms = parseDurationMs(raw);
    const zeroAllowed = field === 'artifactSweepIntervalMs' || field === 'artifactOrphanGraceMs' || field === 'artifactsCompletedMs' || field === 'artifactsFailedMs';
    if (ms === null || (ms === 0 && !zeroAllowed)) {
      problems.push(`${variable}: expected a duration such as 30s, 15m, 12h, 7d or a whole number of milliseconds${zeroAllowed ? '' : ' above 0'}, got "${raw}"`);
    } else {
      retention[field] = ms;
    }
  }
  return { retention, problems };
}

/** The stores' retention options (by their option names) of a {@link RetentionEnvConfig}; absent fields are left out. */
export interface StoreRetentionOptions {
  finishedRetentionMs?: number;
  checkpointRetentionMs?: number;
  maxHistoryEntries?: number;
}

/** Picks what the status and checkpoint stores take from `retention` (for `createJobStore`'s `retention`). */
export function storeRetentionOptions(retention: RetentionEnvConfig): StoreRetentionOptions {
  const { finishedRetentionMs, checkpointRetentionMs, maxHistoryEntries } = retention;
  return {
    ...(finishedRetentionMs === undefined ? {} : { finishedRetentionMs }),
    ...(checkpointRetentionMs === undefined ? {} : { checkpointRetentionMs }),
    ...(maxHistoryEntries === undefined ? {} : { maxHistoryEntries }),
  };
}

/** The job client's `finishedJobs` (BullMQ's retention of finished jobs) of a {@link RetentionEnvConfig}; undefined when unset. */
export function finishedBullJobsOptions(retention: RetentionEnvConfig): { completedMs?: number; failedMs?: number } | undefined {
  const { bullmqCompletedMs, bullmqFailedMs } = retention;
  if (bullmqCompletedMs === undefined && bullmqFailedMs === undefined) return undefined;
  return { ...(bullmqCompletedMs === undefined ? {} : { completedMs: bullmqCompletedMs }), ...(bullmqFailedMs === undefined ? {} : { failedMs: bullmqFailedMs }) };
}
