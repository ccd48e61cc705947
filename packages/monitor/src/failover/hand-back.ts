import { Job, type Queue } from 'bullmq';
import {
  decideFailover,
  executeRecoveryDecision,
  HandBackKind,
  RecoveryAction,
  recoverySnapshotOf,
  isDrillPayload,
  jobTypeOfQueue,
  systemClock,
  TERMINAL_STATUSES,
  toError,
  type Clock,
  type HistoryEntryInput,
  type JobType,
  type Logger,
  type MetricsRecorder,
  type RedisClient,
  type StatusStore,
} from '@kai-jobs/queue';
import { appendJobLog, formatMs } from '../job-log.js';
import type { DeadWorker } from './liveness.js';

/** What became of one job of a dead worker. */
export const HandBackOutcome = {
  /** Back in the queue (its row fenced off first): another worker resumes it from its checkpoint. */
  HandedBack: 'handed_back',
  /** The row changed between the read and the compare-and-set (another watcher, or a completion): nothing done. */
  RowChanged: 'row_changed',
  /** The row was fenced off but BullMQ refused the move (the lock changed or expired): BullMQ's stall check moves it. */
  LockChanged: 'lock_changed',
  /** The job was restarted `maxRestarts` times already: left to BullMQ's lock and stall check. */
  RestartLimit: 'restart_limit',
  /** The job vanished from BullMQ meanwhile. */
  Missing: 'missing',
  /** This watcher's leadership term ran out (by its own clock) before it got to the job: nothing done. */
  NotLeader: 'not_leader',
} as const;
/** One of {@link HandBackOutcome}. */
export type HandBackOutcome = (typeof HandBackOutcome)[keyof typeof HandBackOutcome];

/** One job of a dead worker and what the watcher did with it. */
export interface JobHandBack {
  jobId: string;
  queue: string;
  type: JobType | null;
  /** The stage the job was in (from its status row), if known. */
  stage: string | null;
  outcome: HandBackOutcome;
  /** True for a recovery drill's canary (its row's payload says so). */
  drill: boolean;
}

/** What {@link handBackJobsOf} needs. */
export interface HandBackDeps {
  /** The watcher's connection (reads the jobs' BullMQ lock values). */
  redis: RedisClient;
  /** The BullMQ queue object of a queue name. */
  queueFor(queueName: string): Queue;
  statusStore: Pick<StatusStore, 'get' | 'recoverWithAlert' | 'appendHistory'>;
  metrics: Pick<MetricsRecorder, 'failover' | 'handedBack'>;
  /** False once the watcher may no longer act (its leadership term ran out by its own clock). */
  canAct(): boolean;
  logger: Logger;
  /** Restart limit of a type not in `maxRestartsByType` (and of a job whose type is unknown). */
  maxRestarts: number;
  /** Each job type's restart limit (the monitor's per-type settings). */
  maxRestartsByType?: Partial<Record<JobType, number>>;
  /** Jobs handed back at the same time. */
  concurrency: number;
  /** Written into each job's `failover` history entry. */
  watcherId: string;
  leaderEpoch: number;
  /** Stamps the job log lines (default: the system clock). */
  clock?: Clock;
}

/** Runs `fn` over `items`, at most `limit` at a time; results in input order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  });
  await Promise.all(lanes);
  return results;
}

/** The active jobs of `queue` whose BullMQ lock token starts with one of `prefixes`, with the token. */
export async function activeJobsLockedBy(
  redis: RedisClient,
  queue: Queue,
  prefixes: readonly string[],
): Promise<{ jobId: string; token: string }[]> {
  const ids = await queue.getRanges(['active'], 0, -1);
  if (ids.length === 0 || prefixes.length === 0) return [];
  // One pipeline: a queue's keys share its {hash tag}, so this also works on a cluster.
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.get(`${queue.toKey(id)}:lock`);
  const replies = (await pipeline.exec()) ?? [];
  const held: { jobId: string; token: string }[] = [];
  for (const [index, id] of ids.entries()) {
    const [error, token] = replies[index] ?? [null, null];
    if (error || typeof token !== 'string') continue;
    if (prefixes.some((prefix) => token.startsWith(prefix))) held.push({ jobId: id, token });
  }
  return held;
}

/**
 * Hands every active job of a dead worker back to its queue. Per job: its status row is
 * fenced off first by the store's compare-and-set restart (a new fence, status `pending`, a
 * `failover` history entry, one restart counted) — from that instant nothing the old attempt
 * sends can land — then BullMQ's `Job.moveToWait(lockToken)` puts it back in the queue, where
 * any worker resumes it from its last checkpoint. The compare-and-set and the lock token make
 * a second watcher acting on the same job a no-op, so each job is failed over once.
 */
export async function handBackJobsOf(dead: DeadWorker, deps: HandBackDeps): Promise<JobHandBack[]> {
  const { entry, goneForMs } = dead;
  const handBacks: JobHandBack[] = [];
  for (const queueName of entry.queues) {
    if (!deps.canAct()) break;
    const queue = deps.queueFor(queueName);
    const type = jobTypeOfQueue(queueName) ?? null;
    const held = await activeJobsLockedBy(deps.redis, queue, entry.lockTokenPrefixes);
    const done = await mapLimit(held, deps.concurrency, (job) => handBackOne(queue, type, job.jobId, job.token, dead, deps));
    handBacks.push(...done);
  }
  await Promise.all(
    handBacks
      .filter((job) => job.outcome === HandBackOutcome.HandedBack && job.type !== null)
      .flatMap((job) => [
        deps.metrics.failover(job.type as JobType, entry.workerId, { drill: job.drill }),
        // The page's "Latest recoveries" lists failovers beside the monitor's decisions.
        deps.metrics.handedBack({
          kind: HandBackKind.Failover,
          type: job.type as JobType,
          jobId: job.jobId,
          stage: job.stage,
          workerId: entry.workerId,
          goneForMs,
          drill: job.drill,
        }),
      ]),
  );
  const handedBack = handBacks.filter((job) => job.outcome === HandBackOutcome.HandedBack).length;
  deps.logger[handedBack > 0 ? 'warn' : 'info']('failed over a vanished worker', {
    workerId: entry.workerId,
    host: entry.host,
    pid: entry.pid,
    goneForMs,
    handedBack,
    left: handBacks.length - handedBack,
  });
  return handBacks;
}

async function handBackOne(
  queue: Queue,
  type: JobType | null,
  jobId: string,
  token: string,
  dead: DeadWorker,
  deps: HandBackDeps,
): Promise<JobHandBack> {
  let drill = false;
  const result = (outcome: HandBackOutcome, stage: string | null): JobHandBack => ({ jobId, queue: queue.name, type, stage, outcome, drill });
  if (!deps.canAct()) return result(HandBackOutcome.NotLeader, null);
  const logger = deps.logger.child({ jobId, queue: queue.name, workerId: dead.entry.workerId });
  const row = await deps.statusStore.get(jobId);
  drill = row !== null && isDrillPayload(row.payload);
  const stage = row?.currentStage ?? null;
  const unfinished = row !== null && !TERMINAL_STATUSES.includes(row.status);
  const history: HistoryEntryInput = {
    event: 'failover',
    workerId: dead.entry.workerId,
    jobId,
    stage,
    goneForMs: dead.goneForMs,
    queue: queue.name,
    restartNumber: row === null ? null : row.restartCount + (unfinished ? 1 : 0),
    watcherId: deps.watcherId,
    leaderEpoch: deps.leaderEpoch,
  };
  if (unfinished) {
    // The shared rule, with the job type's own limit (not the largest of all types).
    const maxRestarts = deps.maxRestartsByType?.[row.type] ?? deps.maxRestarts;
    const decision = decideFailover(recoverySnapshotOf(row, row.type, { maxRestarts, hasValidCheckpoint: true }));
    if (decision.action !== RecoveryAction.Restart) {
      logger.warn('not failing over a job restarted too often: BullMQ lock expiry and the monitor take it from here', {
        restartCount: row.restartCount,
        maxRestarts,
        why: decision.why,
      });
      return result(HandBackOutcome.RestartLimit, stage);
    }
    // The one executor: the store's compare-and-set on the fence and restart count just read.
    const recovered = await executeRecoveryDecision(deps.statusStore, row, decision, { history });
    if (!recovered.applied) return result(HandBackOutcome.RowChanged, stage);
  }
  const job = await Job.fromId(queue, jobId);
  if (job === undefined) return result(HandBackOutcome.Missing, stage);
  try {
    await job.moveToWait(token);
  } catch (error) {
    logger.warn('BullMQ refused to move the job back (its lock changed); the stall check will', { error: toError(error).message });
    return result(HandBackOutcome.LockChanged, stage);
  }
  // A finished row (the worker died between its completion and BullMQ's) takes no fence; the
  // next worker finds it finished and just completes the BullMQ job.
  if (row !== null && !unfinished) {
    await deps.statusStore.appendHistory(jobId, history).catch((error: unknown) =>
      logger.warn('could not record the failover in the history', { error: toError(error).message }),
    );
  }
  logger.info('failed over: handed the job back to the queue', { stage, goneForMs: dead.goneForMs });
  const restart = unfinished && row !== null ? `; restart ${history['restartNumber'] as number} of ${deps.maxRestartsByType?.[row.type] ?? deps.maxRestarts}` : '';
  await appendJobLog(
    queue,
    jobId,
    `failed over: worker ${dead.entry.workerId} vanished (its connection gone for ${formatMs(dead.goneForMs)})${stage === null ? '' : ` in ${stage}`}; handed back to the queue, the next worker resumes from the last checkpoint${restart}`,
    { clock: deps.clock ?? systemClock, logger },
  );
  return result(HandBackOutcome.HandedBack, stage);
}
