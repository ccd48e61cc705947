/**
 * `@kai-jobs/monitor` — the monitor of kai-jobs: Sentry alerts and crons, the metrics
 * read API, the Prometheus exporter, the threshold advice and the fast-failover watcher.
 * (The detection and recovery loop is built beside these.)
 */
export { ALERT_KINDS, AlertKind, MAX_TAG_VALUE_LENGTH, UNKNOWN } from './alerts/alert-kinds.js';
export type {
  AlertInput,
  AlertInputBase,
  AlertLevel,
  BuiltAlert,
  FailureInput,
  PdfProcessingFailedInput,
  ScrapingSessionFailedInput,
  StuckImportJobInput,
  StuckInput,
  StuckPdfJobInput,
  StuckScrapingSessionInput,
  XmlImportFailedInput,
} from './alerts/alert-kinds.js';
export { buildAlert } from './alerts/build-alert.js';
export { Alerter } from './alerts/alerter.js';
export type { AlertOutcome, CaptureContext, CheckInInput } from './alerts/alerter-types.js';
export { AlerterOptionsSchema, cronIntervalMinutes, CronScheduleSchema, parseAlerterOptions } from './alerts/alerter-options.js';
export type { AlerterOptions, CronSchedule, CronScheduleInput, ResolvedAlerterOptions } from './alerts/alerter-options.js';
export {
  MemoryAlertDedupeStore,
  RedisAlertDedupeStore,
  RedisAlertDedupeStoreOptionsSchema,
} from './alerts/dedupe-store.js';
export type { AlertDedupeRef, AlertDedupeStore, RedisAlertDedupeStoreOptions } from './alerts/dedupe-store.js';
export { captureException, captureMessage, installAlerter, installedAlerter } from './alerts/default-alerter.js';
// The one scrubbing module lives in @kai-jobs/queue (the logger uses it too); re-exported for callers of the alerter.
export { isSecretKey, isSecretQueryParameter, SCRUBBED, scrubSecrets, scrubString, SECRET_KEY_SUFFIXES } from '@kai-jobs/queue';
export { installProcessAlerter, parseSentryEnv, SentryEnvSchema } from './alerts/process-alerter.js';
export type { ProcessAlerter, ProcessAlerterOptions, SentryEnv } from './alerts/process-alerter.js';
export { alertDedupeKey } from './keys.js';
export { addCounts, addHash, emptyCounts, summarizeCounts } from './metrics/metric-counts.js';
export type { MetricCounts, MetricsPoint, ProcessingTime } from './metrics/metric-counts.js';
export {
  MAX_READ_MINUTES,
  MetricsQuerySchema,
  MetricsReader,
  MetricsReaderOptionsSchema,
  parseHandBack,
  ThresholdAdviceQuerySchema,
} from './metrics/metrics-reader.js';
export type {
  MetricsQuery,
  MetricsReaderOptions,
  MetricsSeries,
  ThresholdAdviceQuery,
  TypeThresholdAdvice,
} from './metrics/metrics-reader.js';
export { percentileFromHistogram, percentileOfSorted } from './metrics/percentiles.js';
export { createPrometheusExporter, PrometheusExporterOptionsSchema } from './metrics/prometheus-exporter.js';
export type { PrometheusExporter, PrometheusExporterOptions } from './metrics/prometheus-exporter.js';
export { adviseThresholds } from './metrics/threshold-advice.js';
export type { ConfiguredThresholds, GapAdvice, ThresholdAdvice } from './metrics/threshold-advice.js';
export { monitorStateKeys } from './keys.js';
export type { MonitorStateKeys } from './keys.js';
export { MonitorStateStore, MonitorStateStoreOptionsSchema } from './monitor-state.js';
export type { MonitorStateStoreOptions, TickSummary } from './monitor-state.js';
export { BullClassification, MonitorAction } from './tick/decision-types.js';
export type { MonitorDecision } from './tick/decision-types.js';
export { createMonitorId, MonitorOptionsSchema, TypeMonitorSettingsSchema, typeSettings } from './config.js';
export type { MonitorOptions, ResolvedMonitorOptions, TypeMonitorSettings, WriteLagProbe } from './config.js';
export { createMonitor, Monitor, MONITOR_QUEUE } from './monitor.js';
export { StallListener } from './stall-listener.js';
export { classify } from './tick/classify.js';
export type { BullView } from './tick/classify.js';
export { decide } from './tick/decide.js';
export type { DecisionInput } from './tick/decide.js';
export { lastValidCheckpointStage } from './tick/checkpoint-probe.js';
export { STUCK_ERROR_PREFIX } from './tick/failure-alerts.js';
export type { TickDeps, TickResult } from './tick/run-once.js';
/** Moved to `@kai-jobs/queue` (the worker writes the canary now); re-exported for existing callers. */
export { canaryPdf } from '@kai-jobs/queue';
export { DrillOptionsSchema, runDrill } from './drill.js';
export type { DrillDeps, DrillOptions, DrillResult, DrillStep } from './drill.js';
export { MonitorEnvSchema, parseMonitorEnv } from './entry/monitor-env.js';
export type { MonitorEnvConfig } from './entry/monitor-env.js';
export { failoverLeaseKeys } from './keys.js';
export type { FailoverLeaseKeys } from './keys.js';
export { FailoverWatcher } from './failover/failover-watcher.js';
export { FailoverPassStatus } from './failover/failover-pass.js';
export type { FailoverPass, WorkerFailover } from './failover/failover-pass.js';
export { FailoverWatcherOptionsSchema, parseFailoverWatcherOptions } from './failover/failover-options.js';
export type { FailoverWatcherOptions, ResolvedFailoverWatcherOptions } from './failover/failover-options.js';
export type { FailoverEventMap } from './failover/failover-events.js';
export { checkClientListUsable, parseClientNames, readClientNames } from './failover/client-list.js';
export type { ClientListCheck, ClientListSnapshot } from './failover/client-list.js';
export { assessLiveness, CONFIRM_DELAY_MS } from './failover/liveness.js';
export type { DeadWorker, LivenessInput, LivenessVerdict, MissingWorker, WorkerSighting } from './failover/liveness.js';
export { activeJobsLockedBy, HandBackOutcome } from './failover/hand-back.js';
export type { JobHandBack } from './failover/hand-back.js';
export { LeaderLease } from './failover/leader-lease.js';
export type { LeaseTerm } from './failover/leader-lease.js';
