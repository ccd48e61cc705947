import {
  AbortAction,
  bullJobOptions,
  decideOperatorRestart,
  executeRecoveryDecision,
  recoverySnapshotOf,
  jobCatalog,
  RecoveryAction,
  JobNotFoundError,
  publishAbortRequest,
  queueClockMs,
  TERMINAL_STATUSES,
  type JobClient,
  type RedisClient,
  type StatusStore,
  type JobStore,
} from '@kai-jobs/queue';
import { CommandFailedError } from '../cli/errors.js';

/** How the restarted job gets going again. */
export const RestartAction = {
  /** It was running: its attempt was asked to stop and hand the job back (it resumes after `delayMs`). */
  AbortRequested: 'abort-requested',
  /** It was waiting, delayed, failed in BullMQ or missing: its BullMQ job was (re-)added. */
  Requeued: 'requeued',
  /** BullMQ still has it active but no worker holds its lock: BullMQ's stalled check hands it back. */
  AwaitingStallCheck: 'awaiting-stall-check',
} as const;
/** One of {@link RestartAction}. */
export type RestartAction = (typeof RestartAction)[keyof typeof RestartAction];

/** What {@link restartJob} did. */
export interface RestartOutcome {
  id: string;
  type: string;
  restartCount: number;
  /** The last valid checkpoint the job resumes after; null: it starts from its first stage. */
  checkpointStage: string | null;
  previousStatus: string;
  bullState: string;
  action: RestartAction;
}

/** What restarting needs. */
export interface RestartDeps {
  statusStore: StatusStore;
  checkpointStore: Pick<JobStore, 'listCheckpoints'>;
  client: JobClient;
  redis: RedisClient;
  prefix: string;
}

/**
 * Restarts an unfinished job from its last valid checkpoint, by the same compare-and-set as
 * the monitor's restart: the row goes back to `pending` with a new fence and one more restart
 * only if it still has the fence and restart count read just before — so an operator racing
 * the monitor (or the worker finishing) gives one restart, and the old attempt's writes are
 * refused from then on. Then a running attempt is asked to stop (its worker moves the job to
 * delayed), and a job BullMQ is not running is re-added.
 */
export async function restartJob(
  deps: RestartDeps,
  id: string,
  options: {
    reason: string;
    delayMs?: number;
    by?: string;
    /** Restart even when the job has used its type's restart limit. */
    force?: boolean;
    /** The type's restart limit. Default the catalog's. */
    maxRestarts?: number;
  },
): Promise<RestartOutcome> {
  const row = await deps.statusStore.get(id);
  if (row === null) throw new JobNotFoundError(id);
  if (TERMINAL_STATUSES.includes(row.status)) {
    throw new CommandFailedError(`job ${id} is ${row.status}: a finished job is not restarted; enqueue it again (same payload, a new id)`);
  }
  // Imported here: @kai-jobs/monitor loads the Sentry SDK, which `kai-jobs restart` never uses.
  const { lastValidCheckpointStage } = await import('@kai-jobs/monitor');
  const checkpointStage = await lastValidCheckpointStage(deps.checkpointStore, { id, type: row.type });
  // The shared rule: the job type's restart limit holds here too, unless the operator forces it.
  const decision = decideOperatorRestart(
    recoverySnapshotOf(row, row.type, {
      maxRestarts: options.maxRestarts ?? jobCatalog[row.type].defaults.maxRestarts,
      hasValidCheckpoint: checkpointStage !== null,
    }),
    { force: options.force === true },
  );
  if (decision.action !== RecoveryAction.Restart) throw new CommandFailedError(`job ${id}: ${decision.why}`);
  const queue = deps.client.queue(row.type);
  const job = await queue.getJob(id);
  const bullState = job ? await job.getState() : 'missing';
  const delayMs = options.delayMs ?? 0;
  // The one executor: the store's compare-and-set on the fence and restart count read above.
  const outcome = await executeRecoveryDecision(deps.statusStore, row, decision, {
    history: {
      event: 'recovery:restarted',
      reason: 'operator',
      why: options.reason,
      by: options.by ?? 'kai-jobs restart',
      classification: bullState,
      stage: row.currentStage,
      workerId: row.workerId,
      lastHeartbeat: row.lastHeartbeat,
      lastUpdate: row.updatedAt,
      checkpointUsed: checkpointStage,
      restartNumber: row.restartCount + 1,
      ...(delayMs > 0 ? { delayMs } : {}),
      // The running attempt's fence: a monitor asks that attempt again if it misses the abort.
      ...(bullState === 'active' && row.fence ? { stoppedFence: row.fence } : {}),
    },
  });
  if (!outcome.applied) {
    throw new CommandFailedError(
      `job ${id} changed while it was being restarted (${outcome.row?.status ?? 'gone'}; another monitor, operator or its worker moved it first) — nothing was done; look again with "kai-jobs status ${id}"`,
    );
  }
  let action: RestartAction;
  if (bullState === 'active') {
    const lock = await deps.redis.exists(queue.toKey(`${id}:lock`));
    if (lock === 1) {
      await publishAbortRequest(deps.redis, deps.prefix, { jobId: id, action: AbortAction.Restart, reason: options.reason, delayMs });
      action = RestartAction.AbortRequested;
    } else {
      action = RestartAction.AwaitingStallCheck;
    }
  } else {
    if (job) await job.remove();
    // Dated by Redis's clock: the delay must not depend on this machine's clock.
    await queue.add(row.type, row.payload, bullJobOptions(row.type, id, { delayMs, queueNowMs: await queueClockMs(deps.redis) }));
    action = RestartAction.Requeued;
  }
  return {
    id,
    type: row.type,
    restartCount: outcome.row?.restartCount ?? row.restartCount + 1,
    checkpointStage,
    previousStatus: row.status,
    bullState,
    action,
  };
}
