import type { Counters, JobType, Logger, Payload, StageName } from '@kai-jobs/queue';
import type { ScopedArtifactStore } from './artifacts/artifact-store.js';
import type { CpuTask } from './cpu/cpu-task.js';

/**
 * What a stage's `run` receives. The runtime implements it on top of the stores; the
 * testing context (`@kai-jobs/workers/testing`) records every call instead.
 */
export interface StageContext<T extends JobType = JobType> {
  readonly jobId: string;
  readonly type: T;
  /** The validated payload (catalog defaults applied). */
  readonly payload: Payload<T>;
  /** The stage being run. */
  readonly stage: StageName<T>;
  /** Attempts started for this job so far, this one included (1-based). */
  readonly attempt: number;
  /** Aborted when the job is cancelled, restarted by the monitor, or the worker shuts down past its grace period. */
  readonly signal: AbortSignal;
  /** Logger scoped with `queue`, `jobId`, `workerId`, `stage`. */
  readonly logger: Logger;
  /** Artifacts of this job's stage (`<jobId>/<stage>/…`); a re-run overwrites. */
  readonly artifacts: ScopedArtifactStore;
  /**
   * Progress within this stage, 0–100; the runtime maps it onto the job's overall 0–100 and
   * throttles the writes. `detail` is a short human text (`page 3 of 40`).
   */
  progress(percent: number, detail?: string): Promise<void>;
  /** Sets counters on the status row (absolute values: `total_pages`, `processed_products`, …). */
  setCounters(counters: Counters): Promise<void>;
  /** Scraping sessions only: moves the row from `processing` to `scraping`. */
  markScraping(): Promise<void>;
  /**
   * State saved by {@link saveResumeState} in an earlier, interrupted attempt of this stage
   * (committed batches, a crawl frontier); `null` on a fresh start of the stage.
   */
  readonly resumeState: unknown;
  /**
   * Saves intra-stage state durably (fenced like a checkpoint) so an interrupted attempt
   * continues from it instead of restarting the stage. Resolves once it is stored.
   */
  saveResumeState(state: unknown): Promise<void>;
  /** Runs a CPU-heavy function in the worker-thread pool so heartbeats and lock renewal keep running. */
  runInWorkerThread<I, O>(task: CpuTask<I, O>, input: I, transfer?: readonly ArrayBuffer[]): Promise<O>;
  /** Throws the abort reason when {@link signal} is aborted. */
  throwIfAborted(): void;
}
