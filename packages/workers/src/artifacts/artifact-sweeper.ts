import { z } from 'zod';
import { JobStatus, toError, type Logger, type StatusRow } from '@kai-jobs/queue';
import type { ArtifactStore } from './artifact-store.js';

const HOUR_MS = 60 * 60_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * Options of the {@link ArtifactSweeper}: how long a finished job's artifacts are kept, and how
 * long artifacts without any status row may stay.
 */
export const ArtifactSweepOptionsSchema = z
  .object({
    /** Artifacts of a completed job are deleted this long after it completed (ms). Default 7 days, as checkpoints. */
    completedRetentionMs: z.number().int().min(0).default(7 * DAY_MS),
    /** Artifacts of a failed job (which an operator may restart from its checkpoint) are kept this long (ms). Default 7 days. */
    failedRetentionMs: z.number().int().min(0).default(7 * DAY_MS),
    /**
     * Artifacts whose job has no status row (the row expired or was purged, or the folder is
     * debris of a test) are deleted once untouched for this long (ms). Default 1 hour.
     */
    orphanGraceMs: z.number().int().min(0).default(HOUR_MS),
    /** Time between two sweeps of one worker process (ms); 0 turns the timer off. Default 10 minutes. */
    intervalMs: z.number().int().min(0).default(10 * 60_000),
    /** Job folders looked at per sweep, at most (the rest wait for the next one). Default 2000. */
    maxJobsPerSweep: z.number().int().min(1).default(2000),
  })
  .strict();

/** What callers pass for the sweep. */
export type ArtifactSweepOptions = z.input<typeof ArtifactSweepOptionsSchema>;
type ResolvedSweepOptions = z.output<typeof ArtifactSweepOptionsSchema>;

/** One job's artifacts as the store lists them: the job id and when it was last written. */
export interface ArtifactJobEntry {
  jobId: string;
  /** Newest write under the job's folder the store knows of (ms, epoch). */
  modifiedAtMs: number;
}

/** An artifact store whose jobs a sweep can enumerate (both built-in stores are). */
export interface SweepableArtifactStore extends ArtifactStore {
  /** Every job id that has artifacts, with when they were last written. */
  listJobs(): Promise<ArtifactJobEntry[]>;
}

/** True when `store` can be swept. */
export function isSweepableArtifactStore(store: ArtifactStore): store is SweepableArtifactStore {
  return typeof (store as Partial<SweepableArtifactStore>).listJobs === 'function';
}

/** What a sweep does with one job's artifacts. */
export const ArtifactSweepAction = {
  Keep: 'keep',
  /** The job finished longer than its retention ago. */
  DeleteExpired: 'delete_expired',
  /** No status row, untouched for longer than the orphan grace. */
  DeleteOrphan: 'delete_orphan',
} as const;
/** One of {@link ArtifactSweepAction}. */
export type ArtifactSweepAction = (typeof ArtifactSweepAction)[keyof typeof ArtifactSweepAction];

/**
 * The sweep's decision for one job, a pure function of the job's row (null when there is
 * none), the store's clock and the options. A job that is pending or running is always kept:
 * its artifacts are what its checkpoints point at.
 */
export function decideArtifactSweep(
  entry: ArtifactJobEntry,
  row: Pick<StatusRow, 'status' | 'completedAt' | 'updatedAt'> | null,
  nowMs: number,
  options: Pick<ResolvedSweepOptions, 'completedRetentionMs' | 'failedRetentionMs' | 'orphanGraceMs'>,
): ArtifactSweepAction {
  if (row === null) return nowMs - entry.modifiedAtMs >= options.orphanGraceMs ? ArtifactSweepAction.DeleteOrphan : ArtifactSweepAction.Keep;
  const retention = row.status === JobStatus.Completed ? options.completedRetentionMs : row.status === JobStatus.Failed ? options.failedRetentionMs : null;
  if (retention === null) return ArtifactSweepAction.Keep;
  const finishedAt = row.completedAt ?? row.updatedAt;
  return nowMs - finishedAt >= retention ? ArtifactSweepAction.DeleteExpired : ArtifactSweepAction.Keep;
}

/** Counters of one sweep. */
export interface ArtifactSweepResult {
  /** Job folders looked at. */
  scanned: number;
  /** Deleted because the job finished longer than its retention ago. */
  expired: number;
  /** Deleted because no status row exists any more. */
  orphans: number;
  /** Deletes that failed (retried by the next sweep). */
  errors: number;
}

/** What the sweeper needs: the artifact store, a row lookup and the store's clock. */
export interface ArtifactSweeperDeps {
  store: SweepableArtifactStore;
  /** The job's status row, or null when there is none (status store `get`). */
  getRow(jobId: string): Promise<Pick<StatusRow, 'status' | 'completedAt' | 'updatedAt'> | null>;
  /** The status store's clock (ms): rows are dated by it, so ages are measured by it too. */
  now(): Promise<number>;
  logger?: Logger;
}

/**
 * Deletes the artifacts of jobs that finished longer than their retention ago, and orphans.
 * One per worker process, on a timer: artifacts live where the workers run (a local folder is
 * reachable only from its host), and the monitor never imports the workers. Sweeps of several
 * workers over one shared store are harmless: a delete of what is gone is a no-op.
 */
export class ArtifactSweeper {
  private readonly options: ResolvedSweepOptions;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<ArtifactSweepResult> | undefined;

  constructor(
    private readonly deps: ArtifactSweeperDeps,
    options: ArtifactSweepOptions = {},
  ) {
    this.options = ArtifactSweepOptionsSchema.parse(options);
  }

  /** One sweep; concurrent calls share the sweep in progress. */
  runOnce(): Promise<ArtifactSweepResult> {
    this.running ??= this.sweep().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async sweep(): Promise<ArtifactSweepResult> {
    const result: ArtifactSweepResult = { scanned: 0, expired: 0, orphans: 0, errors: 0 };
    const entries = (await this.deps.store.listJobs()).sort((a, b) => a.modifiedAtMs - b.modifiedAtMs).slice(0, this.options.maxJobsPerSweep);
    const nowMs = await this.deps.now();
    for (const entry of entries) {
      result.scanned += 1;
      const action = decideArtifactSweep(entry, await this.deps.getRow(entry.jobId), nowMs, this.options);
      if (action === ArtifactSweepAction.Keep) continue;
      try {
        await this.deps.store.deletePrefix(entry.jobId);
        if (action === ArtifactSweepAction.DeleteExpired) result.expired += 1;
        else result.orphans += 1;
      } catch (error) {
        result.errors += 1;
        this.deps.logger?.warn('artifact sweep: delete failed', { jobId: entry.jobId, error: toError(error).message });
      }
    }
    if (result.expired + result.orphans + result.errors > 0) this.deps.logger?.info('artifact sweep', { ...result });
    return result;
  }

  /** Sweeps every `intervalMs` (first sweep after one interval); no-op when `intervalMs` is 0. */
  start(): void {
    if (this.options.intervalMs === 0 || this.timer !== undefined) return;
    this.timer = setInterval(() => {
      this.runOnce().catch((error: unknown) => this.deps.logger?.warn('artifact sweep failed', { error: toError(error).message }));
    }, this.options.intervalMs);
    // A sweep never keeps a process alive on its own.
    this.timer.unref();
  }

  /** Stops the timer and waits for a sweep in progress. */
  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }
}
