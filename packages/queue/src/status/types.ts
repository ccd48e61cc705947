import type { OutboxAlert, RecoverWithAlertInput, RecoverWithAlertResult } from '../recovery/outbox-types.js';
import type { FailureKind } from '../recovery/recovery-decision.js';
import type { Counters, JobStatus, JobType } from '../catalog/index.js';

/**
 * Links from a status row to the platform's own ids: used for alert tags, the linked
 * `background_jobs` row of a session or import, and finding rows by platform id.
 */
export interface StatusRefs {
  documentId?: string;
  sessionId?: string;
  importJobId?: string;
  sourceUrl?: string;
  sourceName?: string;
  /** The linked `background_jobs` row of a scraping session or import job. */
  backgroundJobId?: string;
}

/**
 * One job's status row: the logical union of the platform's table columns
 * (`background_jobs`, `scraping_sessions`, `data_import_jobs`) and what kai-jobs needs.
 * All times are store times in ms since the epoch.
 */
export interface StatusRow {
  /** The job id; also the BullMQ job id. */
  id: string;
  type: JobType;
  status: JobStatus;
  /** Attempts started (incremented by every `markProcessing`). */
  attempt: number;
  /** The current attempt's fence token; writes carrying another one are rejected. */
  fence: string | null;
  /** Id of the worker process running the current attempt. */
  workerId: string | null;
  /** Restarts done by the monitor. */
  restartCount: number;
  /** 0–100. */
  progress: number;
  currentStage: string | null;
  progressDetail: string | null;
  /** The stage the current attempt resumed from (its first stage to run), if it resumed. */
  resumedFrom: string | null;
  lastHeartbeat: number | null;
  createdAt: number;
  updatedAt: number;
  startedAt: number | null;
  completedAt: number | null;
  durationMs: number | null;
  error: string | null;
  errorStage: string | null;
  /** Why a failed row failed (`stuck`, `cancelled`, `processing`); absent when not recorded. */
  failureKind?: FailureKind | null;
  result: unknown;
  counters: Counters;
  refs: StatusRefs;
  /** The validated payload (so a lost BullMQ job can be re-added from the row). */
  payload: unknown;
  idempotencyKey: string | null;
  /** Per-job override of the heartbeat timeout (ms). */
  heartbeatTimeoutMs: number | null;
  /** Per-job override of the update timeout (ms). */
  updateTimeoutMs: number | null;
}

/** The statuses of a `background_jobs` row: a session's `scraping` shows as `processing` there. */
export type LinkedJobStatus = 'pending' | 'processing' | 'completed' | 'failed';

/**
 * The linked `background_jobs` row of a scraping session or import job, as the store keeps it
 * in step with the session's or import's row: created with it, then updated by the same atomic
 * step as each of its changes (start, progress, heartbeat, completion, failure, cancel, the
 * monitor's recovery). Times are store times in ms since the epoch.
 */
export interface LinkedJobRow {
  /** The `background_jobs` id (`refs.backgroundJobId` of the row it follows). */
  id: string;
  /** The type of the job it follows: `scrape` or `xml-import`. */
  jobType: JobType;
  /** The id of the session or import job it follows (also the BullMQ job id). */
  followsId: string;
  status: LinkedJobStatus;
  /** 0–100. */
  progress: number;
  currentStage: string | null;
  progressDetail: string | null;
  lastHeartbeat: number | null;
  error: string | null;
  errorStage: string | null;
  attempt: number;
  workerId: string | null;
  restartCount: number;
  createdAt: number;
  updatedAt: number;
  startedAt: number | null;
  completedAt: number | null;
  durationMs: number | null;
  /** `sessionId` or `importJobId` of the row it follows (and whatever else was there). */
  refs: Record<string, unknown>;
}

/** What {@link StatusStore.create} needs. */
export interface CreateStatusInput {
  id: string;
  type: JobType;
  payload: unknown;
  refs?: StatusRefs;
  idempotencyKey?: string;
  heartbeatTimeoutMs?: number;
  updateTimeoutMs?: number;
}

/** What {@link StatusStore.markProcessing} needs. */
export interface MarkProcessingInput {
  /** The job's type, when the caller knows it (saves the Redis adapter a lookup). */
  type?: JobType;
  /** The new attempt's fence token (BullMQ's lock token). */
  fence: string;
  workerId: string;
  /** The stage the attempt starts with (after resuming). */
  stage?: string | null;
  /** The stage resumed from, when some stages were restored from checkpoints. */
  resumedFrom?: string | null;
}

/** A progress write. Every field is optional; omitted ones keep their value. */
export interface ProgressUpdate {
  stage?: string;
  /** 0–100. */
  percent?: number;
  detail?: string;
  /** Counter values to set (absolute, not increments). */
  counters?: Counters;
  /** Move a scraping session from `processing` to `scraping`. */
  status?: 'scraping';
}

/** One job in a batched heartbeat. */
export interface HeartbeatEntry {
  id: string;
  type: JobType;
  fence: string;
}

/** Outcome of a batched heartbeat. */
export interface HeartbeatResult {
  /** Jobs whose fence was superseded or that are no longer running: their attempt lost the job. */
  rejected: string[];
}

/** Why a row is a stuck-work candidate. */
export const StaleReason = {
  /** No heartbeat for longer than the heartbeat timeout: the process is probably gone. */
  Heartbeat: 'heartbeat_timeout',
  /** No progress for longer than the update timeout: the job is probably hung. */
  Update: 'update_timeout',
} as const;
/** One of {@link StaleReason}. */
export type StaleReason = (typeof StaleReason)[keyof typeof StaleReason];

/** Thresholds for {@link StatusStore.findStale}; `null` skips that check. */
export interface FindStaleQuery {
  heartbeatOlderThanMs: number | null;
  updateOlderThanMs: number | null;
  /** At most this many candidates. Default 1000. */
  limit?: number;
}

/** A stuck-work candidate with the store's judgement of its age. */
export interface StaleCandidate {
  row: StatusRow;
  reason: StaleReason;
  /** Age of the heartbeat or update that made it stale, by the store's clock (ms). */
  ageMs: number;
  /** The store's clock when the query ran (ms). */
  storeNow: number;
  /**
   * True for a row kai-jobs does not own (Supabase: a platform row written by the platform's
   * other writers, without kai-jobs bookkeeping or payload): judged by the platform's columns,
   * it can only be failed, never restarted. Absent (false) for kai-jobs' own rows.
   */
  foreign?: boolean;
}

/** Options of {@link StatusStore.fail}. */
export interface FailOptions {
  /**
   * The alert the failure raises (plain JSON, see `processingFailureAlert`), written to the alert
   * outbox with the transition: the monitors deliver it once per incident.
   */
  alert?: Record<string, unknown>;
}

/** The monitor's compare-and-set recovery: applied only if the row is still as observed. */
export interface RecoverInput {
  /** The fence observed when the job was judged stuck. */
  expectedFence: string | null;
  /** The restart count observed. */
  expectedRestartCount: number;
  /** Restart: back to `pending` with a new fence; fail: `failed` with the error. */
  action: 'restart' | 'fail';
  /** Error message when failing. */
  error?: string;
  /** History entry recorded with the transition (`event` defaults to `recovery:<action>`). */
  history: HistoryEntryInput;
}

/** Outcome of {@link StatusStore.recover}. */
export interface RecoverResult {
  /** False when another monitor (or the worker) changed the row first. */
  applied: boolean;
  /** The row after the call (or as found when not applied); null if it does not exist. */
  row: StatusRow | null;
}

/** A history entry as written; the store stamps `at` with its own clock. */
export interface HistoryEntryInput {
  /** `noun:verb` or a lifecycle word: `created`, `processing`, `checkpoint:invalid`, `stall:detected`, `recovery:restarted`, `failover`, `completed`, `failed`. */
  event: string;
  [field: string]: unknown;
}

/** A history entry as read back. */
export interface HistoryEntry extends HistoryEntryInput {
  /** Store time (ms). */
  at: number;
}

/** Filter for {@link StatusStore.list}. */
export interface ListQuery {
  type: JobType;
  status: JobStatus;
  /** At most this many rows, newest update first. Default 50. */
  limit?: number;
  /**
   * Only rows that entered this status after this store time (ms), oldest first — for
   * sweeps that walk forward (the monitor alerts on jobs failed since its last tick).
   */
  updatedAfter?: number;
}

/**
 * The job-status store: the status rows, their indexes and history. Two adapters (Redis,
 * Supabase) pass one contract test suite (`@kai-jobs/queue/testing`). Every write is
 * one atomic step judged by the store's clock; a write carrying a superseded fence
 * token is rejected with `StaleFenceError`.
 */
export interface StatusStore {
  /** The store's clock (Redis `TIME`, Postgres `now()`), ms. */
  now(): Promise<number>;
  /** Creates a `pending` row, or returns the existing one for the same id or idempotency key. */
  create(input: CreateStatusInput): Promise<{ row: StatusRow; created: boolean }>;
  /** {@link create} for many rows in one round trip; results in input order. */
  createMany(inputs: readonly CreateStatusInput[]): Promise<{ row: StatusRow; created: boolean }[]>;
  /** Starts an attempt: `processing`, attempt + 1, the new fence and worker. */
  markProcessing(id: string, input: MarkProcessingInput): Promise<StatusRow>;
  /** Heartbeats for many jobs in one write. */
  heartbeat(entries: readonly HeartbeatEntry[]): Promise<HeartbeatResult>;
  /** Progress, stage, counters; updates `updated_at`. */
  progress(id: string, fence: string, update: ProgressUpdate): Promise<void>;
  /** Completes the attempt's job with its result. */
  complete(id: string, fence: string, result: unknown): Promise<StatusRow>;
  /**
   * Fails the attempt's job for good (`failure_kind: processing`). With `options.alert`, the
   * "processing failed" alert is written to the alert outbox in the same atomic step.
   */
  fail(id: string, fence: string, error: string, stage?: string | null, options?: FailOptions): Promise<StatusRow>;
  /** Fails an unfinished job regardless of fence (operator cancel); returns null if already finished. */
  cancel(id: string, reason: string): Promise<StatusRow | null>;
  /** The row, or null. */
  get(id: string): Promise<StatusRow | null>;
  /** Unfinished rows of `type` whose heartbeat or update is older than the thresholds (or their per-job overrides). */
  findStale(type: JobType, query: FindStaleQuery): Promise<StaleCandidate[]>;
  /** Postpones the next stale check of these rows by a full threshold (they were found healthy, e.g. waiting). */
  deferCheck(type: JobType, ids: readonly string[]): Promise<void>;
  /** The monitor's compare-and-set recovery transition. */
  recover(id: string, input: RecoverInput): Promise<RecoverResult>;
  /** Appends to the job's history. */
  appendHistory(id: string, entry: HistoryEntryInput): Promise<void>;
  /** The job's history, oldest first (at most `limit`, newest kept). */
  history(id: string, limit?: number): Promise<HistoryEntry[]>;
  /** Rows of one type and status, newest update first. */
  list(query: ListQuery): Promise<StatusRow[]>;
  /** Releases connections the store opened itself. */
  close(): Promise<void>;
  /**
   * The recovery executor's compare-and-set ({@link recover}) that also sets the failure kind and
   * writes the alert it raises to the alert outbox — in the same atomic step, so a crash right
   * after it loses no alert.
   */
  recoverWithAlert(id: string, input: RecoverWithAlertInput): Promise<RecoverWithAlertResult>;
  /** Alerts of `type` written to the outbox and not yet marked delivered, oldest first (at most `limit`, default 100). */
  pendingAlerts(type: JobType, limit?: number): Promise<OutboxAlert[]>;
  /** Marks an outbox alert delivered; false when it was marked already (another monitor delivered it). */
  markAlertSent(type: JobType, jobId: string, incident: number): Promise<boolean>;
}
