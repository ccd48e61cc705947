import { hasErrorCode, isKaiJobsError, QueueErrorCode, toError } from '../errors.js';
import type { Logger } from '../logger.js';
import { mergeProgress, type PendingEntry, type PendingWrites } from './pending-writes.js';
import type { HistoryEntryInput, StatusStore } from './types.js';

/** A replayed write was refused because another attempt owns the job now. */
export interface StaleFenceEvent {
  jobId: string;
  /** The fence of the attempt that lost the job. */
  fence: string;
  /** What was being replayed: `progress`, `appendHistory`, `complete`, `fail`, `heartbeat`. */
  operation: string;
}

/** What replaying needs: the store, the buffer, where to log and whom to tell about a lost job. */
export interface ReplayDeps {
  store: StatusStore;
  pending: PendingWrites;
  logger: Logger;
  onStaleFence(event: StaleFenceEvent): void;
}

/** Errors worth retrying: the store's own retryable ones and anything that is not a kai-jobs error (a network failure). */
export function isRetryable(error: unknown): boolean {
  return isKaiJobsError(error) ? error.retryable : true;
}

/** A replayed write met a superseded fence: the whole attempt's pending writes are void. */
class FencedOff extends Error {
  constructor(readonly operation: string) {
    super(`${operation} fenced off`);
  }
}

/** One replayed call: rethrows retryable errors, turns a superseded fence into {@link FencedOff}, logs and skips other refusals. */
async function applyStep(
  deps: ReplayDeps,
  entry: PendingEntry,
  operation: string,
  call: () => Promise<unknown>,
  handlers: { onRetry?: () => void; onInvalidTransition?: () => void },
): Promise<void> {
  try {
    await call();
  } catch (error) {
    if (isRetryable(error)) {
      handlers.onRetry?.();
      throw error;
    }
    if (hasErrorCode(error, QueueErrorCode.StaleFence)) throw new FencedOff(operation);
    if (hasErrorCode(error, QueueErrorCode.InvalidTransition) && handlers.onInvalidTransition !== undefined) {
      handlers.onInvalidTransition();
      return;
    }
    deps.logger.error('the store refused a buffered status write; dropped it', { jobId: entry.jobId, operation, error: toError(error).message });
  }
}

/**
 * Applies one attempt's pending writes: progress, then history, then the finish. Throws only
 * retryable errors (what is not yet applied stays queued). A refused write is dropped on its
 * own — never the finish behind it — except a superseded fence, which voids the attempt's
 * writes and is reported through `onStaleFence`. A refused finish with `InvalidTransitionError`
 * was already applied (a timed-out call that landed): done.
 */
export async function applyEntry(deps: ReplayDeps, entry: PendingEntry): Promise<void> {
  const { store, pending, logger } = deps;
  const { jobId, fence } = entry;
  try {
    if (entry.progress !== null && fence !== null) {
      const update = entry.progress;
      entry.progress = null;
      await applyStep(deps, entry, 'progress', () => store.progress(jobId, fence, update), {
        // Put it back before anything queued since, which is newer.
        onRetry: () => (entry.progress = entry.progress === null ? update : mergeProgress(update, entry.progress)),
        // The job finished meanwhile (its last checkpoint completed it): nothing left to show.
        onInvalidTransition: () => undefined,
      });
    }
    while (entry.history.length > 0) {
      const item = entry.history[0] as HistoryEntryInput;
      await applyStep(deps, entry, 'appendHistory', () => store.appendHistory(jobId, item), {});
      entry.history.shift();
    }
    if (entry.finish !== null && fence !== null) {
      const finish = entry.finish;
      await applyStep(
        deps,
        entry,
        finish.kind,
        () => (finish.kind === 'complete' ? store.complete(jobId, fence, finish.result) : store.fail(jobId, fence, finish.error, finish.stage, finish.alert === undefined ? {} : { alert: finish.alert })),
        { onInvalidTransition: () => logger.info('buffered finish was already applied', { jobId, outcome: finish.kind }) },
      );
      entry.finish = null;
    }
    pending.removeIfEmpty(entry);
  } catch (error) {
    if (!(error instanceof FencedOff)) throw error;
    pending.remove(entry);
    logger.warn('a buffered status write was fenced off: the attempt lost the job', { jobId, operation: error.operation });
    if (fence !== null) deps.onStaleFence({ jobId, fence, operation: error.operation });
  }
}

/** Writes the pending heartbeats in one call; a rejected one means that attempt lost its job. */
export async function applyBeats(deps: ReplayDeps): Promise<void> {
  const beats = deps.pending.pendingBeats();
  if (beats.length === 0) return;
  const { rejected } = await deps.store.heartbeat(beats.map(({ id, type, fence }) => ({ id, type, fence })));
  deps.pending.removeBeats(beats);
  for (const id of rejected) {
    const beat = beats.find((candidate) => candidate.id === id);
    if (beat !== undefined) deps.onStaleFence({ jobId: id, fence: beat.fence, operation: 'heartbeat' });
  }
}
