import type { Queue } from 'bullmq';
import {
  AbortAction,
  bullJobOptions,
  FailureKind,
  isDrillPayload,
  publishAbortRequest,
  queueClockMs,
  systemClock,
  type Clock,
  type JobType,
  type Logger,
  type MetricsRecorder,
  type RedisClient,
  type StaleCandidate,
  type StatusStore,
} from '@kai-jobs/queue';
import type { Alerter } from '../alerts/alerter.js';
import { appendJobLog, formatMs } from '../job-log.js';
import { CrashPoint, type CrashHook } from '../alerts/outbox-delivery.js';
import type { StopRequested } from './abort-takeover.js';
import { stuckAlertKind } from './alert-kinds-by-type.js';
import { BullClassification, MonitorAction, type MonitorDecision } from './decision-types.js';

/** What carrying out a decision needs. */
export interface ApplyDeps {
  statusStore: StatusStore;
  queues: Record<JobType, Queue>;
  redis: RedisClient;
  prefix: string;
  alerter: Alerter;
  metrics: MetricsRecorder;
  logger: Logger;
  /** Stamps the job log lines (default: the system clock). */
  clock?: Clock;
  /**
   * Restart decisions of this tick that asked a hung attempt to stop: the tick gives them the
   * abort grace and takes over the ones still holding the job (see `takeOverUnstopped`).
   */
  stopRequests?: StopRequested[];
  /** Test-only: called at each crash point (see {@link CrashPoint}). */
  crashHook?: CrashHook | undefined;
}

/** The monitor's line in the job's log (Bull Board's Logs tab) for an applied decision. */
function logLineOf(decision: MonitorDecision): string {
  const stuck = `stuck (${decision.reason}, ${formatMs(decision.stuckForMs)} without progress${decision.stage === null ? '' : ` in ${decision.stage}`})`;
  switch (decision.action) {
    case MonitorAction.Restart:
      return `monitor: ${stuck}; ${decision.why}${decision.delayMs ? ` after a ${formatMs(decision.delayMs)} backoff` : ''}`;
    case MonitorAction.Fail:
      return `monitor: ${stuck}; failed: ${decision.why}`;
    case MonitorAction.Readd:
      return `monitor: ${decision.why}`;
    case MonitorAction.Leave:
      return `monitor: ${decision.why}`;
    default: {
      const exhaustive: never = decision.action;
      return `monitor: ${String(exhaustive)}`;
    }
  }
}

/** Writes the decision's line into the job's BullMQ log (never throws). */
function logDecision(decision: MonitorDecision, queue: Queue, deps: ApplyDeps): Promise<void> {
  return appendJobLog(queue, decision.jobId, logLineOf(decision), { clock: deps.clock ?? systemClock, logger: deps.logger });
}

/**
 * The stuck alert a transition raises, as the outbox stores it: the alerter's input with the
 * row as the decision saw it. Written by the same atomic step as the transition.
 */
function stuckAlertOf(decision: MonitorDecision, candidate: StaleCandidate): Record<string, unknown> {
  const { row } = candidate;
  return { kind: stuckAlertKind(row.type), row, attempt: row.attempt, reason: decision.reason, stuckForMs: decision.stuckForMs };
}

function historyOf(decision: MonitorDecision, event: string): { event: string; [field: string]: unknown } {
  return {
    event,
    reason: decision.reason,
    classification: decision.classification,
    why: decision.why,
    lastHeartbeat: decision.lastHeartbeat,
    lastUpdate: decision.lastUpdate,
    stage: decision.stage,
    workerId: decision.workerId,
    checkpointUsed: decision.checkpointStage ?? null,
    restartNumber: decision.restartNumber ?? null,
    stuckForMs: decision.stuckForMs,
    ...(decision.delayMs === undefined ? {} : { delayMs: decision.delayMs }),
  };
}

/** `{ fence }` for an abort request meant for the attempt holding `fence`; `{}` when the row has none. */
function fenceOf(fence: string | null): { fence?: string } {
  return fence === null || fence === '' ? {} : { fence };
}

/**
 * Puts the BullMQ job back after `delayMs`: the job is finished (failed/completed) or missing.
 * The delay counts from Redis's clock, not this process's: a monitor whose clock runs ahead
 * would otherwise keep the job from every worker for as long as its clock is ahead.
 */
async function requeue(queue: Queue, redis: RedisClient, candidate: StaleCandidate, delayMs: number): Promise<void> {
  const { row } = candidate;
  const existing = await queue.getJob(row.id);
  if (existing) await existing.remove();
  await queue.add(row.type, row.payload, bullJobOptions(row.type, row.id, { delayMs, queueNowMs: await queueClockMs(redis) }));
}

/**
 * Carries out a decision with a compare-and-set on the row: the transition applies only if
 * the row still has the fence and restart count the monitor saw, so when two monitors act on
 * the same stuck job at once, one recovers it and alerts, the other does nothing.
 * Returns the decision with `applied` set.
 */
export async function applyDecision(decided: MonitorDecision, candidate: StaleCandidate, deps: ApplyDeps): Promise<MonitorDecision> {
  const { row } = candidate;
  // A drill's canary is labelled here, so the recorded decision (and the page) can tell it apart.
  const decision: MonitorDecision = isDrillPayload(row.payload) ? { ...decided, drill: true } : decided;
  const context = { drill: decision.drill === true };
  const queue = deps.queues[row.type];
  switch (decision.action) {
    case MonitorAction.Leave:
      if (decision.resendAbort === true && decision.abortFence !== undefined) {
        await publishAbortRequest(deps.redis, deps.prefix, { jobId: row.id, action: AbortAction.Restart, reason: decision.why, delayMs: 0, fence: decision.abortFence });
      }
      await deps.statusStore.deferCheck(row.type, [row.id]);
      return { ...decision, applied: true };
    case MonitorAction.Readd: {
      await requeue(queue, deps.redis, candidate, 0);
      await deps.statusStore.appendHistory(row.id, historyOf(decision, 'recovery:readded'));
      await logDecision(decision, queue, deps);
      await deps.statusStore.deferCheck(row.type, [row.id]);
      deps.logger.warn('re-added the missing BullMQ job of a pending row', { jobId: row.id, type: row.type });
      return { ...decision, applied: true };
    }
    case MonitorAction.Restart: {
      const delayMs = decision.delayMs ?? 0;
      // The hung attempt's fence, kept in the history: if it misses its abort, the next check asks it again by name.
      const stopped = decision.classification === BullClassification.Hung ? fenceOf(row.fence) : {};
      const outcome = await deps.statusStore.recoverWithAlert(row.id, {
        expectedFence: row.fence,
        expectedRestartCount: row.restartCount,
        action: 'restart',
        history: { ...historyOf(decision, 'recovery:restarted'), ...(stopped.fence === undefined ? {} : { stoppedFence: stopped.fence }) },
        alert: stuckAlertOf(decision, candidate),
      });
      if (!outcome.applied) return { ...decision, applied: false };
      deps.crashHook?.(CrashPoint.AfterStateChange);
      if (decision.classification === BullClassification.Hung) {
        // The attempt is alive: ask it (and only it) to stop; its worker moves the job to delayed.
        await publishAbortRequest(deps.redis, deps.prefix, { jobId: row.id, action: AbortAction.Restart, reason: decision.why, delayMs, ...stopped });
        if (stopped.fence !== undefined) deps.stopRequests?.push({ queue, jobId: row.id, lockToken: stopped.fence, delayMs });
      } else {
        await requeue(queue, deps.redis, candidate, delayMs);
      }
      // After a re-add, so the line lands on the job now in the queue.
      await logDecision(decision, queue, deps);
      await afterStuck(decision, candidate, deps, 'restarted');
      return { ...decision, applied: true };
    }
    case MonitorAction.Fail: {
      const error = `stuck: ${decision.reason} (${decision.classification}); ${decision.why}`;
      const outcome = await deps.statusStore.recoverWithAlert(row.id, {
        expectedFence: row.fence,
        expectedRestartCount: row.restartCount,
        action: 'fail',
        error,
        failureKind: FailureKind.Stuck,
        history: historyOf(decision, 'recovery:failed'),
        alert: stuckAlertOf(decision, candidate),
      });
      if (!outcome.applied) return { ...decision, applied: false };
      deps.crashHook?.(CrashPoint.AfterStateChange);
      if (decision.classification === BullClassification.Hung) {
        await publishAbortRequest(deps.redis, deps.prefix, { jobId: row.id, action: AbortAction.Cancel, reason: error, ...fenceOf(row.fence) });
      }
      await logDecision(decision, queue, deps);
      await afterStuck(decision, candidate, deps, 'failed');
      deps.metrics.jobFailed(row.type, row.currentStage, context).catch(() => undefined);
      return { ...decision, applied: true };
    }
    default: {
      const exhaustive: never = decision.action;
      throw new Error(`unknown monitor action ${String(exhaustive)}`);
    }
  }
}

async function afterStuck(decision: MonitorDecision, candidate: StaleCandidate, deps: ApplyDeps, outcome: 'restarted' | 'failed'): Promise<void> {
  const { row } = candidate;
  deps.logger.warn(outcome === 'restarted' ? 'restarting a stuck job from its checkpoint' : 'failed a stuck job', {
    jobId: row.id,
    type: row.type,
    reason: decision.reason,
    classification: decision.classification,
    why: decision.why,
    stuckForMs: decision.stuckForMs,
  });
  await Promise.all([
    deps.metrics.jobStuck(row.type, decision.reason, { drill: decision.drill === true }).catch(() => undefined),
    deps.metrics.recovery(row.type, outcome, { drill: decision.drill === true }).catch(() => undefined),
  ]);
  // The stuck alert is in the outbox, written with the transition: the tick's outbox pass delivers it.
}
