/**
 * Restarts (failovers, monitor restarts) from which a job is a crash suspect. Two, not one:
 * a single crash is common (an OOM kill, a hard stop) and its jobs should resume at full
 * speed; a job whose attempts died twice is a pattern. Below the restart limit (3), so a
 * neighbour charged twice by a poison job still has a restart left.
 */
export const CRASH_SUSPECT_MIN_RESTARTS = 2;

/**
 * How long a deferred crash suspect waits before it may run again (ms): at least the minimum,
 * plus up to the jitter, so the suspects of one crash do not come back together.
 */
export const CRASH_SUSPECT_DEFER_MS = { min: 250, jitter: 750 } as const;

/**
 * A worker process runs at most one crash suspect at a time. A crash suspect is a job
 * restarted {@link CRASH_SUSPECT_MIN_RESTARTS} times or more: earlier attempts died with their
 * worker (failed over) or were restarted by the monitor. When a job kills its worker (an OOM,
 * a native crash), every job of that process is handed back together, and the next idle
 * worker takes them together: the killer takes the same neighbours down on every attempt,
 * until they all run out of restarts and fail with it. Once they are suspects, two never
 * share a process, so the killer goes on alone (with fresh neighbours, each charged once).
 * The cost: suspects run one per process until they finish.
 */
export class CrashSuspectSlot {
  private holder: string | undefined;

  /** Takes the slot for `jobId` (again, if it holds it); false when another job holds it. */
  enter(jobId: string): boolean {
    if (this.holder !== undefined && this.holder !== jobId) return false;
    this.holder = jobId;
    return true;
  }

  /** Frees the slot if `jobId` holds it. */
  leave(jobId: string): void {
    if (this.holder === jobId) this.holder = undefined;
  }

  /** The job holding the slot, if any. */
  get holderId(): string | undefined {
    return this.holder;
  }
}
