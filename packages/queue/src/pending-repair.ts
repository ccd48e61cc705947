import type { Queue } from 'bullmq';
import { jobCatalog, JobStatus, type JobType } from './catalog/index.js';
import { decidePendingRepair, RecoveryAction } from './recovery/recovery-decision.js';
import { bullJobOptions } from './job-options.js';
import { silentLogger, type Logger } from './logger.js';
import type { StatusStore } from './status/types.js';

/** What {@link repairPendingWithoutJob} needs. */
export interface PendingRepairDeps {
  store: StatusStore;
  /** The BullMQ queue of `type`. */
  queue: Queue;
  type: JobType;
  /** Only rows created (or last checked) longer ago than this are examined (ms). */
  olderThanMs: number;
  /** At most this many rows per call. Default 1000. */
  limit?: number;
  logger?: Logger;
}

/** What one repair pass found and did. */
export interface PendingRepairResult {
  /** Pending rows examined. */
  checked: number;
  /** Pending rows whose BullMQ job was missing (or failed or completed) and was re-added. */
  readded: string[];
  /** Pending rows whose BullMQ job exists (waiting or delayed): re-checked one threshold later. */
  healthy: number;
}

/**
 * Repairs the one leftover an enqueue can leave: the producer writes the `pending` row
 * first and then adds the BullMQ job, so a crash (or a Redis error) between the two
 * leaves a row without a job — never a job without a row. This finds such rows (older
 * than `olderThanMs`, by the store's clock) and re-adds their job under the same id from
 * the payload the row holds, with a `recovery:readded` history entry; a BullMQ job that
 * failed or completed while its row is pending (a restart whose re-add never happened) is
 * replaced the same way. The monitor's tick runs it every tick (`pendingRepairAfterMs`). A producer that retries an enqueue must pass an idempotency key, or
 * the retry and the repaired job both run.
 */
export async function repairPendingWithoutJob(deps: PendingRepairDeps): Promise<PendingRepairResult> {
  const logger = deps.logger ?? silentLogger;
  const candidates = await deps.store.findStale(deps.type, {
    heartbeatOlderThanMs: null,
    updateOlderThanMs: deps.olderThanMs,
    limit: deps.limit ?? 1000,
  });
  const pending = candidates.filter((candidate) => candidate.row.status === JobStatus.Pending);
  const result: PendingRepairResult = { checked: pending.length, readded: [], healthy: 0 };
  const healthy: string[] = [];
  for (const { row } of pending) {
    const job = await deps.queue.getJob(row.id);
    const state = job ? await job.getState() : 'missing';
    const bullState = state === 'missing' || state === 'failed' || state === 'completed' ? state : state === 'active' ? 'active' : 'queued';
    // The shared rule (decidePendingRepair): re-add when BullMQ has no live job for the row.
    const decision = decidePendingRepair(
      {
        type: row.type,
        status: row.status,
        restartCount: row.restartCount,
        maxRestarts: jobCatalog[row.type].defaults.maxRestarts,
        recovery: jobCatalog[row.type].defaults.recovery,
        hasValidCheckpoint: false,
      },
      bullState,
    );
    if (decision.action !== RecoveryAction.Requeue) {
      // Queued rows are re-checked one threshold later; an active one is left to the tick, which
      // tells a new attempt's claim from a stopped attempt that missed its abort.
      if (bullState === 'queued') healthy.push(row.id);
      continue;
    }
    if (job) await job.remove();
    await deps.queue.add(row.type, row.payload, bullJobOptions(row.type, row.id));
    await deps.store.appendHistory(row.id, { event: 'recovery:readded', reason: 'pending row without a live BullMQ job', why: decision.why, bullState });
    await deps.store.deferCheck(deps.type, [row.id]);
    logger.warn('re-added the missing BullMQ job of a pending row', { jobId: row.id, type: row.type, bullState });
    result.readded.push(row.id);
  }
  await deps.store.deferCheck(deps.type, healthy);
  result.healthy = healthy.length;
  return result;
}
