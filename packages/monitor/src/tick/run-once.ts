import { JOB_TYPES, RecoveryPolicy, repairPendingWithoutJob, toError, type Clock, type JobStore, type JobType, type StaleCandidate } from '@kai-jobs/queue';
import { cronOpenCheckInKey } from '../keys.js';
import { typeSettings, type ResolvedMonitorOptions, type WriteLagProbe } from '../config.js';
import type { MonitorStateStore, TickSummary } from '../monitor-state.js';
import { takeOverUnstopped, type StopRequested } from './abort-takeover.js';
import { applyDecision, type ApplyDeps } from './apply-decision.js';
import { readBullView } from './bull-view.js';
import { lastValidCheckpointStage } from './checkpoint-probe.js';
import { classify } from './classify.js';
import { decide } from './decide.js';
import { BullClassification, MonitorAction, type MonitorDecision } from './decision-types.js';
import { sweepFailures } from './failure-alerts.js';
import { typesWithPendingToRepair } from './pending-repair-gate.js';
import { deliverOutbox } from '../alerts/outbox-delivery.js';
import { cronIntervalMinutes } from '../alerts/alerter-options.js';

/** What a tick needs: its I/O as narrow dependencies, so tests can call it directly. */
export interface TickDeps extends ApplyDeps {
  options: ResolvedMonitorOptions;
  /** The same job store as `statusStore`, for the checkpoint probe. */
  checkpointStore: Pick<JobStore, 'listCheckpoints'>;
  state: MonitorStateStore;
  writeLag: WriteLagProbe | undefined;
  monitorId: string;
  clock: Clock;
  /** Key of the failure sweep's cursors. */
  failureCursorKey: string;
  /** Jitter source for the backoff (tests pin it). */
  random?: () => number;
}

/** What one tick found and did. */
export interface TickResult {
  summary: TickSummary;
  /** Every decision, including `leave` ones and those another monitor won (`applied: false`). */
  decisions: MonitorDecision[];
}

/** KEYS[1] the open check-in key, ARGV[1] this tick's check-in id: deletes the key only if it still holds it. */
const DELETE_IF_EQUAL = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

const STUCK = new Set<string>([
  BullClassification.Hung,
  BullClassification.FailedByBullmq,
  BullClassification.CompletedInBullmq,
  BullClassification.Lost,
]);

/**
 * True when `now` (the row read again) shows life the candidate did not: another attempt or
 * status, progress, or — for a heartbeat timeout — a heartbeat. (A hung job's heartbeats go on:
 * they do not clear an update timeout.)
 */
function movedSince(candidate: StaleCandidate, now: StaleCandidate['row'] | null): boolean {
  const found = candidate.row;
  return (
    now === null ||
    now.status !== found.status ||
    now.fence !== found.fence ||
    now.restartCount !== found.restartCount ||
    now.updatedAt !== found.updatedAt ||
    (candidate.reason === 'heartbeat_timeout' && now.lastHeartbeat !== found.lastHeartbeat)
  );
}

/** The fence of the attempt the job's last restart stopped (its `recovery:restarted` history entry), or null. */
async function lastStoppedFence(deps: TickDeps, id: string): Promise<string | null> {
  const history = await deps.statusStore.history(id, 50);
  const restart = history.filter((entry) => entry.event === 'recovery:restarted').at(-1);
  const fence = restart?.['stoppedFence'];
  return typeof fence === 'string' && fence !== '' ? fence : null;
}

async function examine(candidate: StaleCandidate, deps: TickDeps): Promise<MonitorDecision> {
  const { row } = candidate;
  const settings = typeSettings(deps.options, row.type);
  const view = await readBullView(deps.queues[row.type], deps.redis, row.id);
  const classification = classify(view);
  const running = row.status !== 'pending';
  const stuck = running && STUCK.has(classification);
  const checkpointStage =
    stuck && settings.recovery === RecoveryPolicy.RestartFromCheckpoint
      ? await lastValidCheckpointStage(deps.checkpointStore, { id: row.id, type: row.type })
      : null;
  const workerBehind = stuck && deps.writeLag !== undefined && row.workerId !== null ? await deps.writeLag.isBehind(row.workerId) : false;
  // The candidate is a snapshot from the start of the tick; before acting on it, make sure no
  // write landed since (the compare-and-set checks the fence and restart count, not the times).
  const changedSinceFound = stuck && !workerBehind ? movedSince(candidate, await deps.statusStore.get(row.id)) : false;
  const stoppedFence = row.status === 'pending' && classification === BullClassification.Hung ? await lastStoppedFence(deps, row.id) : null;
  const decision = decide({
    candidate,
    classification,
    settings,
    autoRestart: deps.options.autoRestart,
    backoff: deps.options.backoff,
    lastValidCheckpointStage: checkpointStage,
    workerBehind,
    lockToken: view.lockToken ?? null,
    stoppedFence,
    changedSinceFound,
    ...(deps.random ? { random: deps.random } : {}),
  });
  return applyDecision(decision, candidate, deps);
}

/**
 * One monitor pass: finds candidates from the status store's indexes (by the store's clock),
 * classifies each against BullMQ, decides in a pure function, acts with compare-and-set
 * transitions, alerts on jobs that failed since the last pass, records the tick, and checks
 * in with Sentry Crons. Timers live in the monitor's `start()`, not here.
 */
export async function runOnce(deps: TickDeps): Promise<TickResult> {
  const startedAt = deps.clock.now();
  // The schedule really used (the BullMQ scheduler's `every: checkIntervalMs`), in Sentry's whole minutes.
  const intervalMinutes = cronIntervalMinutes(deps.options.checkIntervalMs);
  // A tick whose monitor died left its `in_progress` open: close it (as failed — it was), so
  // Sentry does not wait for it until it times out while other monitors tick fine.
  const openKey = cronOpenCheckInKey(deps.prefix);
  const orphaned = await deps.redis.get(openKey).catch(() => null);
  if (orphaned !== null) {
    deps.alerter.checkIn({ monitorSlug: deps.options.cronMonitorSlug, status: 'error', checkInId: orphaned, schedule: { intervalMinutes } });
    deps.logger.warn('closed the Crons check-in of a tick whose monitor died', { checkInId: orphaned });
  }
  const checkInId = deps.alerter.checkIn({
    monitorSlug: deps.options.cronMonitorSlug,
    status: 'in_progress',
    schedule: { intervalMinutes },
  });
  // Kept for two intervals at most: long enough for the next tick to find it. Not waited for:
  // the connection sends it before the tick's reads, and the compare-and-delete at the end of
  // the tick goes after it on the same connection (one round trip less per tick).
  void deps.redis
    .set(openKey, checkInId, 'PX', Math.max(deps.options.checkIntervalMs * 2, 10_000))
    .catch((caught: unknown) => deps.logger.warn('could not record the open check-in', { error: toError(caught).message }));
  const decisions: MonitorDecision[] = [];
  let storeNow = startedAt;
  let failureAlerts = 0;
  let readdedByRepair = 0;
  let takenOver = 0;
  // Filled by the restart decisions of this tick that asked a hung attempt to stop.
  const stopRequests: StopRequested[] = [];
  const tickDeps: TickDeps = { ...deps, stopRequests };
  let error: Error | null = null;
  try {
    const findStale = (type: JobType) => {
      const settings = typeSettings(deps.options, type);
      return deps.statusStore.findStale(type, {
        heartbeatOlderThanMs: settings.heartbeatTimeoutMs,
        updateOlderThanMs: settings.updateTimeoutMs,
        limit: deps.options.candidateLimit,
      });
    };
    // Every type's candidates and the pending-repair gate in one round trip (with the store's
    // clock): most ticks find nothing. The gate's answer holds for the whole tick: a row that
    // enters `pending` during it (a restart) is fresh, not old enough to repair.
    const [now, toRepair, ...prefetched] = await Promise.all([
      deps.statusStore.now(),
      // Only the types with a pending row old enough: the repair's own search also returns
      // healthy running rows (see pending-repair-gate.ts), which made an idle tick O(candidate limit).
      typesWithPendingToRepair({ statusStore: deps.statusStore, olderThanMs: deps.options.pendingRepairAfterMs }, JOB_TYPES),
      ...JOB_TYPES.map(findStale),
    ]);
    storeNow = now;
    let examined = false;
    for (const [index, type] of JOB_TYPES.entries()) {
      // Once a type's candidates have been examined (which takes time), a later type's prefetched
      // snapshot is stale: read it again, as the tick did before it prefetched.
      const candidates: StaleCandidate[] = examined ? await findStale(type) : (prefetched[index] ?? []);
      examined ||= candidates.length > 0;
      for (const candidate of candidates) {
        try {
          decisions.push(await examine(candidate, tickDeps));
        } catch (caught) {
          // One bad candidate must not stop the tick; it is examined again next time.
          deps.logger.error('examining a stuck-work candidate failed', { jobId: candidate.row.id, error: toError(caught).message });
        }
      }
    }
    // The abort grace: an attempt asked to stop that still holds its job (frozen, partitioned)
    // has the job taken over with its lock token, so it resumes now, not when the lock expires.
    const takeovers = await takeOverUnstopped(stopRequests, {
      redis: deps.redis,
      statusStore: deps.statusStore,
      logger: deps.logger,
      clock: deps.clock,
      graceMs: deps.options.abortGraceMs,
    });
    takenOver = takeovers.filter((takeover) => takeover.outcome === 'taken_over').length;
    // After the candidates, so a pending row the tick is still judging (a stopped attempt that
    // missed its abort) is not deferred out of its sight.
    for (const type of toRepair) {
      const repaired = await repairPendingWithoutJob({
        store: deps.statusStore,
        queue: deps.queues[type],
        type,
        olderThanMs: deps.options.pendingRepairAfterMs,
        limit: deps.options.candidateLimit,
        logger: deps.logger,
      });
      readdedByRepair += repaired.readded.length;
    }
    // The failure sweep and the outbox are independent (the sweep skips every failure that
    // alerts through the outbox): side by side, their reads share round trips. Both are waited
    // for before a failure of either fails the tick.
    const [swept, delivered] = await Promise.allSettled([
      sweepFailures({
        statusStore: deps.statusStore,
        alerter: deps.alerter,
        redis: deps.redis,
        cursorKey: deps.failureCursorKey,
        storeNow,
        firstSweepWindowMs: deps.options.checkIntervalMs * 2,
        limit: deps.options.candidateLimit,
        logger: deps.logger,
      }),
      // Every tick delivers the outbox: its own alerts and any a dead monitor or a Sentry outage left.
      deliverOutbox({
        statusStore: deps.statusStore,
        alerter: deps.alerter,
        logger: deps.logger,
        limit: deps.options.candidateLimit,
        waitMs: deps.options.alertDeliveryWaitMs,
        crashHook: deps.crashHook,
      }),
    ]);
    if (swept.status === 'rejected') throw swept.reason;
    if (delivered.status === 'rejected') throw delivered.reason;
    failureAlerts = swept.value;
    const outbox = delivered.value;
    if (outbox.delivered > 0 || outbox.left > 0) deps.logger.info('alert outbox delivered', { ...outbox });
  } catch (caught) {
    error = toError(caught);
    deps.logger.error('monitor tick failed', { error: error.message });
  }
  const count = (action: string) => decisions.filter((d) => d.action === action && d.applied !== false).length;
  const summary: TickSummary = {
    startedAt,
    durationMs: deps.clock.now() - startedAt,
    storeNow,
    intervalMs: deps.options.checkIntervalMs,
    candidates: decisions.length,
    restarted: count(MonitorAction.Restart),
    failed: count(MonitorAction.Fail),
    readded: count(MonitorAction.Readd) + readdedByRepair,
    left: count(MonitorAction.Leave),
    failureAlerts,
    error: error?.message ?? null,
    monitorId: deps.monitorId,
  };
  await deps.state.recordTick(summary, decisions).catch((caught: unknown) =>
    deps.logger.warn('could not record the tick', { error: toError(caught).message }),
  );
  // Ours only: a later tick may have taken the key over already (compare and delete, one round trip).
  await deps.redis.eval(DELETE_IF_EQUAL, 1, openKey, checkInId).catch(() => undefined);
  deps.alerter.checkIn({
    monitorSlug: deps.options.cronMonitorSlug,
    status: error === null ? 'ok' : 'error',
    checkInId,
    durationMs: summary.durationMs,
    schedule: { intervalMinutes },
  });
  deps.logger.info('monitor tick', { ...summary, takenOver });
  if (error !== null) throw error;
  return { summary, decisions };
}
