/**
 * `@kai-jobs/queue` — the contract every kai-jobs package shares: the job catalog, Redis
 * connection and keys, the typed producer client, the job-status store, Clock, Logger
 * and the error classes.
 */
export {
  ACTIVE_STATUSES,
  ArtifactRefSchema,
  CounterName,
  IdSchema,
  isJobType,
  JOB_TYPES,
  jobCatalog,
  JobStatus,
  JobType,
  jobTypeOfQueue,
  PdfPayloadSchema,
  PdfProcessingOptionsSchema,
  PdfResultSchema,
  PdfStage,
  ProductFailureSchema,
  RecoveryPolicy,
  ScrapePayloadSchema,
  ScrapeResultSchema,
  ScrapeStage,
  SourceSchema,
  StatusTable,
  TERMINAL_STATUSES,
  ThresholdOverridesSchema,
  URL_PATTERN_MAX_CHARS,
  URL_PATTERN_MAX_INPUT_CHARS,
  URL_PATTERNS_MAX,
  UrlPatternSchema,
  compileUrlPattern,
  urlPatternProblem,
  XmlImportPayloadSchema,
  XmlImportResultSchema,
  XmlImportStage,
  checkFieldMapping,
  currencyFieldOf,
  DEFAULT_FIELD_MAPPING,
  FieldSpecSchema,
  FieldType,
  fieldTypeOf,
  IMPLIED_FIELD_TYPES,
  mergeFieldMapping,
  WEIGHT_UNITS,
  XML_IMPORT_PRESETS,
  XmlImportPreset,
} from './catalog/index.js';
export type {
  ArtifactRef,
  Counters,
  JobCatalog,
  JobDefinition,
  JobTypeDefaults,
  Payload,
  PayloadInput,
  PdfPayload,
  PdfPayloadInput,
  PdfResult,
  Result,
  ScrapePayload,
  ScrapePayloadInput,
  ScrapeResult,
  Source,
  StageName,
  ThresholdOverrides,
  UrlPattern,
  XmlImportPayload,
  XmlImportPayloadInput,
  XmlImportResult,
  FieldMapping,
  FieldMappingEntry,
  FieldSpec,
  XmlImportPresetDefinition,
} from './catalog/index.js';
export { refsOfPayload } from './catalog/refs.js';
export { offsetClock, systemClock } from './clock.js';
export type { Clock } from './clock.js';
export {
  ClusterNodeSchema,
  DEFAULT_KEY_PREFIX,
  DEFAULT_REDIS_URL,
  KeyPrefixSchema,
  maskRedisUrl,
  parseClusterNodes,
  parseRedisConnectionOptions,
  parseRedisUrl,
  REDIS_CLUSTER_NODES_VARIABLE,
  RedisConnectionOptionsSchema,
  splitClusterNode,
} from './config.js';
export type { ParsedRedisUrl, RedisConnectionOptions, RedisConnectionOptionsInput } from './config.js';
export { closeRedis, ConnectionRole, createRedisConnection, waitForRedis } from './connection.js';
export type { CreateRedisConnectionOptions, RedisClient } from './connection.js';
export {
  CheckpointTooLargeError,
  ConfigError,
  hasErrorCode,
  InvalidTransitionError,
  isKaiJobsError,
  JobFailedError,
  JobNotFoundError,
  KaiJobsError,
  QueueErrorCode,
  RedisUnreachableError,
  StaleFenceError,
  StoreError,
  TimeoutError,
  toError,
  ValidationError,
} from './errors.js';
export type { FieldIssue, KaiJobsErrorOptions } from './errors.js';
export { abortChannel, allKeysPattern, bullPrefix, checkpointKeys, queueKeyBase, statusKeys, workerRegistryKeys, writeLagKey } from './keys.js';
export type { CheckpointKeys } from './keys.js';
export type { StatusKeys, WorkerRegistryKeys } from './keys.js';
export { createLogger, createMemoryLogger, silentLogger } from './logger.js';
export {
  isSecretKey,
  isSecretQueryParameter,
  MAX_SCRUBBED_LENGTH,
  SCRUBBED,
  scrubErrorInPlace,
  scrubSecrets,
  scrubString,
  SECRET_KEY_SUFFIXES,
} from './scrub.js';
export type { CapturedLogLine, CreateLoggerOptions, LogFields, Logger } from './logger.js';
export { loadLuaScripts, ScriptSet } from './lua-scripts.js';
export type { LuaScript } from './lua-scripts.js';
export { bullJobOptions, KAI_BACKOFF_TYPE } from './job-options.js';
export { enqueueRecoveryDrill, INTERNAL_PAYLOAD_FIELDS, internalFieldIssues, isDrillPayload } from './internal-fields.js';
export { CANARY_TEXT, canaryPdf } from './canary-pdf.js';
export type { DrillSwitch } from './internal-fields.js';
export type { BullJobSettings, FinishedBullJobsRetention } from './job-options.js';
export { queueClockMs } from './queue-clock.js';
export { AbortAction, AbortRequestSchema, parseAbortRequest, publishAbortRequest } from './abort-requests.js';
export type { AbortRequest } from './abort-requests.js';
export { repairPendingWithoutJob } from './pending-repair.js';
export type { PendingRepairDeps, PendingRepairResult } from './pending-repair.js';
export {
  decideAttemptFailure,
  decideCancel,
  decideFailover,
  decideOperatorRestart,
  decidePendingRepair,
  decideShutdownHandBack,
  decideStuck,
  FailureKind,
  isFailureKind,
  RecoveryAction,
  RecoveryPath,
} from './recovery/recovery-decision.js';
export type { AttemptFailure, RecoveryDecision, RecoverySnapshot } from './recovery/recovery-decision.js';
export { incidentEventId } from './recovery/incident.js';
export { isProcessingFailureAlert, processingFailureAlert } from './recovery/processing-alert.js';
export type { ProcessingFailureAlert } from './recovery/processing-alert.js';
export { executeRecoveryDecision, recoverySnapshotOf } from './recovery/recovery-executor.js';
export type { ExecutedRecovery, ExecuteRecoveryOptions } from './recovery/recovery-executor.js';
export { decodeOutboxEntry } from './recovery/outbox-codec.js';
export type { OutboxAlert, RecoverWithAlertInput, RecoverWithAlertResult } from './recovery/outbox-types.js';
export { createJobClient, EnqueueOptionsSchema, JobClientOptionsSchema } from './client/job-client.js';
export type {
  BullJobView,
  CancelOutcome,
  EnqueuedJob,
  EnqueueOptions,
  JobClient,
  JobClientOptions,
  JobStatusView,
} from './client/job-client.js';
export {
  checkpointSha256,
  DEFAULT_CHECKPOINT_RETENTION_MS,
  DEFAULT_FINISHED_RETENTION_MS,
  DEFAULT_MAX_CHECKPOINT_BYTES,
  DEFAULT_MAX_HISTORY_ENTRIES,
  StoreRetentionSchema,
} from './store/retention.js';
export type { StoreRetention, StoreRetentionInput } from './store/retention.js';
export type {
  Checkpoint,
  FinalCheckpointInput,
  JobRef,
  JobStore,
  ResumeState,
  SaveCheckpointInput,
  SaveResumeStateInput,
} from './store/types.js';
export { RedisJobStore, RedisJobStoreOptionsSchema } from './store/redis-job-store.js';
export { writeJobBoard } from './store/job-board-script.js';
export { batchSocketWrites } from './store/socket-write-batching.js';
export type { JobBoardWrite } from './store/job-board-script.js';
export type { RedisJobStoreOptions } from './store/redis-job-store.js';
export { SupabaseJobStore, SupabaseJobStoreOptionsSchema } from './store/supabase-job-store.js';
export type { SupabaseJobStoreOptions } from './store/supabase-job-store.js';
export { OutageTolerantJobStore } from './store/outage-tolerant-job-store.js';
export { OutageTolerantJobStoreOptionsSchema } from './store/outage-tolerant-job-store-options.js';
export type {
  OutageTolerantJobStoreOptions,
  ResolvedOutageTolerantJobStoreOptions,
} from './store/outage-tolerant-job-store-options.js';
export {
  createJobStore,
  JobStoreConfigSchema,
  parseStoreConfigFromEnv,
  STORE_ENV_VARIABLES,
  StoreKind,
} from './store/job-store-factory.js';
export type { JobStoreConfig, StoreEnvConfig } from './store/job-store-factory.js';
export { StaleReason } from './status/types.js';
export type {
  CreateStatusInput,
  FailOptions,
  FindStaleQuery,
  HeartbeatEntry,
  HeartbeatResult,
  HistoryEntry,
  HistoryEntryInput,
  LinkedJobRow,
  LinkedJobStatus,
  ListQuery,
  MarkProcessingInput,
  ProgressUpdate,
  RecoverInput,
  RecoverResult,
  StaleCandidate,
  StatusRefs,
  StatusRow,
  StatusStore,
} from './status/types.js';
export {
  assertJobType,
  DEFAULT_MAX_PAYLOAD_BYTES,
  formatIssuePath,
  jsonByteLength,
  parseOrThrow,
  validatePayload,
  zodIssuesToFieldIssues,
} from './validation.js';
export {
  decodeGapSample,
  DURATION_BUCKET_BOUNDS_MS,
  durationBucketIndex,
  encodeGapSample,
  MAX_LABEL_LENGTH,
  metricLabel,
  MetricField,
  RECOVERY_OUTCOMES,
  RecoveryOutcome,
  UNKNOWN_LABEL,
} from './metrics/metric-fields.js';
export type { UpdateGapSample } from './metrics/metric-fields.js';
export { METRICS_BUCKET_MS, metricsKeys, minuteOf } from './metrics/metrics-keys.js';
export type { MetricsKeys } from './metrics/metrics-keys.js';
export {
  HandBackKind,
  noopMetricsRecorder,
  RedisMetricsRecorder,
  RedisMetricsRecorderOptionsSchema,
} from './metrics/metrics-recorder.js';
export type { HandBackEvent, MetricsContext, MetricsRecorder, RecordedHandBack, RedisMetricsRecorderOptions, UpdateGaps } from './metrics/metrics-recorder.js';
export { SupabaseConnectionOptionsSchema, SupabaseRpcClient } from './status/supabase-rpc-client.js';
export { mergeProgress } from './status/pending-writes.js';
export type { WriteLag } from './status/pending-writes.js';
export type { StaleFenceEvent } from './status/write-replay.js';
export { WriteLagRegistry, WriteLagRegistryOptionsSchema } from './write-lag.js';
export type { WorkerWriteLag, WriteLagRegistryOptions } from './write-lag.js';
export type { RpcPurpose, SupabaseConnectionOptions } from './status/supabase-rpc-client.js';
export { decodeSupabaseStatusRow } from './status/supabase-row-codec.js';
export { KaiSqlState, rpcErrorToKaiError } from './status/supabase-rpc-errors.js';
export type { RpcContext, RpcFailure } from './status/supabase-rpc-errors.js';
export {
  RedisWorkerRegistryStore,
  RedisWorkerRegistryStoreOptionsSchema,
  WorkerRegistryEntrySchema,
} from './registry/worker-registry-store.js';
export type {
  RedisWorkerRegistryStoreOptions,
  WorkerRegistryEntry,
  WorkerRegistrySnapshot,
} from './registry/worker-registry-store.js';
export { finishedBullJobsOptions, parseDurationMs, parseRetentionEnv, RETENTION_ENV_VARIABLES, storeRetentionOptions } from './retention-env.js';
export type { RetentionEnvConfig, StoreRetentionOptions } from './retention-env.js';
