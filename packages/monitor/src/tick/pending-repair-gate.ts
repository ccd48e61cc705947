import { JobStatus, type JobType, type StatusStore } from '@kai-jobs/queue';

/** What the pending-repair gate reads. */
export interface PendingRepairGateDeps {
  statusStore: Pick<StatusStore, 'list' | 'now'>;
  /** The repair's threshold: pending rows older than this are examined (ms). */
  olderThanMs: number;
}

/**
 * The job types whose pending repair has something to examine: those with a `pending` row that
 * entered `pending` longer than `olderThanMs` ago, by the store's clock.
 *
 * Why a gate: the repair finds its rows with `findStale(updateOlderThanMs: pendingRepairAfterMs)`,
 * which returns every unfinished row whose last update is older than that — healthy running
 * work included (a PDF stage that reports no progress for a minute is normal) — up to the
 * candidate limit, each with its whole row, only to keep the pending ones. At 100 k tracked jobs
 * that was 1,000 row reads per type on every tick with nothing to repair (see
 * `bench/README.md`, "Monitor tick against tracked jobs"). The oldest pending row is one indexed
 * read per type (`list(… updatedAfter)` walks the state index oldest first: O(log N)).
 *
 * Exact, not a heuristic: a pending row's staleness clock (its update-index score or
 * `progress_checked_at`) starts when the row enters `pending` and a deferral only moves it
 * later, so when the oldest pending row is younger than the threshold no pending row can be a
 * repair candidate. Per-job update timeouts do not shorten the repair's wait here: the repair
 * waits `pendingRepairAfterMs`, as documented.
 */
export async function typesWithPendingToRepair(deps: PendingRepairGateDeps, types: readonly JobType[]): Promise<JobType[]> {
  const [storeNow, oldest] = await Promise.all([
    deps.statusStore.now(),
    // updatedAfter -1: every pending row, oldest first; the first one is enough.
    Promise.all(types.map((type) => deps.statusStore.list({ type, status: JobStatus.Pending, updatedAfter: -1, limit: 1 }))),
  ]);
  return types.filter((type, index) => {
    const row = oldest[index]?.[0];
    return row !== undefined && storeNow - row.updatedAt > deps.olderThanMs;
  });
}
