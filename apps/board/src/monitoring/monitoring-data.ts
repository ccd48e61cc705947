import type { MetricsReader, MetricsSeries, MonitorDecision, MonitorStateStore, TickSummary, TypeThresholdAdvice } from '@kai-jobs/monitor';
import { isDrillPayload, JOB_TYPES, jobCatalog, type Clock, type JobType, type RecordedHandBack, type StaleCandidate, type StatusStore } from '@kai-jobs/queue';
import type { MonitoringOptions, TypeThresholds } from '../config.js';

/** The monitor's health as the page shows it. */
export const MonitorHealthState = {
  /** The monitor never recorded a tick. */
  Never: 'never',
  /** The last tick went well and the next one is not late. */
  Ok: 'ok',
  /** The last tick failed (its error is shown). */
  Failing: 'failing',
  /** The next tick is later than its interval plus the grace: no monitor is running. */
  Overdue: 'overdue',
} as const;
/** One of {@link MonitorHealthState}. */
export type MonitorHealthState = (typeof MonitorHealthState)[keyof typeof MonitorHealthState];

/** The monitor's health, judged by the store's clock (the clock the monitor stamps its ticks with). */
export interface MonitorHealth {
  state: MonitorHealthState;
  lastTick: TickSummary | null;
  /** When the last tick ran (store time, ms), or null. */
  lastTickAt: number | null;
  /** When the next tick is due: last tick + its interval (store time, ms), or null. */
  nextTickAt: number | null;
  /** How late the next tick is (ms; 0 or negative while not due yet), or null. */
  lateByMs: number | null;
}

/** Everything the page shows about one job type. */
export interface TypeSnapshot {
  type: JobType;
  displayName: string;
  description: string;
  thresholds: TypeThresholds;
  series: MetricsSeries;
  /** Production jobs stuck right now by the thresholds (reason and age by the store's clock). */
  stuck: StaleCandidate[];
  /** Recovery-drill canaries stuck right now: listed labelled, never counted with {@link stuck}. */
  drillStuck: StaleCandidate[];
  advice: TypeThresholdAdvice;
}

/** One line of "Latest recoveries": a monitor decision, or a hand-back (failover, shutdown). */
export type RecoveryEntry =
  | { source: 'monitor'; at: number; drill: boolean; decision: MonitorDecision }
  | { source: 'hand-back'; at: number; drill: boolean; handBack: RecordedHandBack };

/**
 * The monitor's decisions and the hand-backs in one list, newest first, at most `limit`.
 * Decisions are stamped with the store's clock, hand-backs with the recording process's:
 * the order between two entries seconds apart may be off by that drift, no more.
 */
export function mergeRecoveries(
  decisions: readonly (MonitorDecision & { at: number })[],
  handBacks: readonly RecordedHandBack[],
  limit: number,
): RecoveryEntry[] {
  const entries: RecoveryEntry[] = [
    ...decisions.map((decision): RecoveryEntry => ({ source: 'monitor', at: decision.at, drill: decision.drill === true, decision })),
    ...handBacks.map((handBack): RecoveryEntry => ({ source: 'hand-back', at: handBack.at, drill: handBack.drill, handBack })),
  ];
  return entries.sort((a, b) => b.at - a.at).slice(0, limit);
}

/** The data of one rendering of the monitoring page. */
export interface MonitoringSnapshot {
  /** The board's clock when the data was read (ms). */
  generatedAt: number;
  /** The store's clock when the data was read (ms). */
  storeNow: number;
  windowMs: number;
  bucketMs: number;
  types: TypeSnapshot[];
  /** The monitor's latest applied decisions and the latest hand-backs (failovers, shutdowns), newest first. */
  recoveries: RecoveryEntry[];
  monitor: MonitorHealth;
}

/** What {@link loadMonitoringSnapshot} reads from. */
export interface MonitoringDeps {
  reader: MetricsReader;
  statusStore: StatusStore;
  monitorState: MonitorStateStore;
  clock: Clock;
  thresholds: Record<JobType, TypeThresholds>;
  options: MonitoringOptions;
}

/** Judges the monitor's health from its last tick (pure). */
export function judgeMonitorHealth(lastTick: TickSummary | null, storeNow: number, overdueGraceMs: number): MonitorHealth {
  if (lastTick === null) {
    return { state: MonitorHealthState.Never, lastTick: null, lastTickAt: null, nextTickAt: null, lateByMs: null };
  }
  // The tick's store time is read at its start; comparing it with the store's clock now
  // keeps the judgement free of the board's and the monitor's own clock drift.
  const lastTickAt = lastTick.storeNow;
  const nextTickAt = lastTickAt + lastTick.intervalMs;
  const lateByMs = storeNow - nextTickAt;
  const state =
    lateByMs > overdueGraceMs
      ? MonitorHealthState.Overdue
      : lastTick.error !== null
        ? MonitorHealthState.Failing
        : MonitorHealthState.Ok;
  return { state, lastTick, lastTickAt, nextTickAt, lateByMs };
}

/** Reads everything the monitoring page shows, in parallel. Rejects when Redis (or the store) fails. */
export async function loadMonitoringSnapshot(deps: MonitoringDeps): Promise<MonitoringSnapshot> {
  const { options } = deps;
  const generatedAt = deps.clock.now();
  const sinceMs = generatedAt - options.windowMs;
  const typesPromise = Promise.all(
    JOB_TYPES.map(async (type): Promise<TypeSnapshot> => {
      const thresholds = deps.thresholds[type];
      const [series, found, advice] = await Promise.all([
        deps.reader.readMetrics({ type, sinceMs, untilMs: generatedAt, bucketMs: options.bucketMs }),
        deps.statusStore.findStale(type, {
          heartbeatOlderThanMs: thresholds.heartbeatTimeoutMs,
          updateOlderThanMs: thresholds.updateTimeoutMs,
          limit: options.stuckLimit,
        }),
        deps.reader.thresholdAdvice({ type, windowMs: options.windowMs, untilMs: generatedAt, configured: thresholds }),
      ]);
      const { displayName, description } = jobCatalog[type];
      // A drill's canary hangs on purpose: it is shown, labelled, but never counted as production stuck work.
      const stuck = found.filter((candidate) => !isDrillPayload(candidate.row.payload));
      const drillStuck = found.filter((candidate) => isDrillPayload(candidate.row.payload));
      return { type, displayName, description, thresholds, series, stuck, drillStuck, advice };
    }),
  );
  const [types, decisions, handBacks, lastTick, storeNow] = await Promise.all([
    typesPromise,
    deps.monitorState.recentDecisions(options.recentDecisions),
    deps.reader.latestHandBacks(options.recentDecisions),
    deps.monitorState.lastTick(),
    deps.statusStore.now(),
  ]);
  return {
    generatedAt,
    storeNow,
    windowMs: options.windowMs,
    bucketMs: options.bucketMs,
    types,
    recoveries: mergeRecoveries(decisions, handBacks, options.recentDecisions),
    monitor: judgeMonitorHealth(lastTick, storeNow, options.overdueGraceMs),
  };
}
