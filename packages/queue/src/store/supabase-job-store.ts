import { decodeOutboxEntry } from '../recovery/outbox-codec.js';
import type { OutboxAlert, RecoverWithAlertInput, RecoverWithAlertResult } from '../recovery/outbox-types.js';
import { z } from 'zod';
import { CounterName, type JobType } from '../catalog/index.js';
import { StaleFenceError, StoreError, ValidationError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { assertJobType, parseOrThrow } from '../validation.js';
import {
  decodeCreateResults,
  decodeHistory,
  decodeRecoverResult,
  decodeRows,
  decodeStaleCandidates,
  decodeSupabaseStatusRow,
  encodeCreateInput,
  requireSupabaseStatusRow,
} from '../status/supabase-row-codec.js';
import { SupabaseConnectionOptionsSchema, SupabaseRpcClient } from '../status/supabase-rpc-client.js';
import type {
  CreateStatusInput,
  FailOptions,
  FindStaleQuery,
  HeartbeatEntry,
  HeartbeatResult,
  HistoryEntry,
  HistoryEntryInput,
  ListQuery,
  MarkProcessingInput,
  ProgressUpdate,
  RecoverInput,
  RecoverResult,
  StaleCandidate,
  StatusRow,
} from '../status/types.js';
import { checkpointSha256, encodeStoredJson, StoreRetentionSchema, type EncodedJson, type StoreRetention } from './retention.js';
import type {
  Checkpoint,
  FinalCheckpointInput,
  JobRef,
  JobStore,
  ResumeState,
  SaveCheckpointInput,
  SaveResumeStateInput,
} from './types.js';

const COUNTER_NAMES: readonly string[] = Object.values(CounterName);

/** Options of {@link SupabaseJobStore}: the connection (url, serviceRoleKey, schema, requestTimeoutMs, logger) and retention. */
export const SupabaseJobStoreOptionsSchema = SupabaseConnectionOptionsSchema.extend({
  /**
   * Retention and the checkpoint size limit. `finishedRetentionMs` releases a finished job's
   * idempotency key (as the Redis store expires it); `checkpointRetentionMs` keeps checkpoints
   * after the job finished; `maxHistoryEntries` is Redis-only (the SQL purge keeps history).
   */
  retention: StoreRetentionSchema.prefault({}),
}).strict();
/** What callers pass to construct a {@link SupabaseJobStore}. */
export type SupabaseJobStoreOptions = z.input<typeof SupabaseJobStoreOptionsSchema>;

/** A row of `kai_list_checkpoints`. */
const StoredCheckpointSchema = z.object({
  stage: z.string(),
  stage_index: z.number().int().nullable(),
  data_json: z.string(),
  bytes: z.number().int(),
  sha256: z.string(),
  schema_version: z.number().int(),
  attempt: z.number().int(),
  fence: z.string(),
  created_at: z.number(),
});
const StoredCheckpointsSchema = z.array(StoredCheckpointSchema);

/** What `kai_load_resume_state` returns. */
const StoredResumeStateSchema = z
  .object({
    state_json: z.string(),
    sha256: z.string(),
    attempt: z.number().int(),
    fence: z.string(),
    saved_at: z.number(),
  })
  .nullable();

const CreatedAtSchema = z.object({ created_at: z.number() });

function decode<T>(schema: z.ZodType<T>, value: unknown, fn: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new StoreError(`${fn} returned an unexpected shape: ${parsed.error.issues[0]?.message ?? 'invalid'}`, { retryable: false });
  }
  return parsed.data;
}

function checkPercent(id: string, percent: number): void {
  // JSON has no NaN or Infinity: they would arrive as null and be ignored silently.
  if (!Number.isFinite(percent)) {
    throw new ValidationError(`progress of job ${id}`, [
      { path: 'percent', message: 'expected a number from 0 to 100', received: String(percent) },
    ]);
  }
}

function checkCounterNames(id: string, counters: Record<string, unknown>): void {
  const unknown = Object.keys(counters).filter((name) => !COUNTER_NAMES.includes(name));
  if (unknown.length > 0) {
    throw new ValidationError(
      `progress of job ${id}`,
      unknown.map((name) => ({ path: `counters.${name}`, message: `unknown counter; expected one of ${COUNTER_NAMES.join(', ')}` })),
    );
  }
}

function historyWithoutAt(entry: HistoryEntryInput): Record<string, unknown> {
  const { at: _at, ...rest } = entry as HistoryEntryInput & { at?: unknown };
  return rest;
}

/**
 * The Supabase adapter of {@link JobStore}: the platform's tables `background_jobs`,
 * `scraping_sessions` and `data_import_jobs` and the kai-jobs `job_checkpoints` table, written
 * only through the SQL functions of `supabase/migrations` with supabase-js `.rpc()` — one round
 * trip and one transaction per operation, judged by Postgres `now()`. Every checkpoint write
 * locks the job's status row and compares its fence in the same transaction; a save records
 * the status progress and `completeWithCheckpoint` completes the job in that transaction too —
 * one round trip per stage, as with Redis. Checkpoint data is stored as the exact JSON text
 * that was hashed (a `text` column, not `jsonb`, which would not give the same text back).
 * Passes the same contract suites as the Redis store.
 */
export class SupabaseJobStore implements JobStore {
  private readonly client: SupabaseRpcClient;
  private readonly retention: StoreRetention;
  private readonly finishedRetentionMs: number;
  private readonly logger: Logger;

  constructor(options: SupabaseJobStoreOptions) {
    const parsed = parseOrThrow(SupabaseJobStoreOptionsSchema, options, 'Supabase job store options');
    const { retention, ...connection } = parsed;
    this.retention = retention;
    this.finishedRetentionMs = retention.finishedRetentionMs;
    this.logger = (parsed.logger ?? silentLogger).child({ component: 'supabase-job-store' });
    this.client = new SupabaseRpcClient(connection, 'supabase-job-store');
  }

  /** Calls SQL function `fn` in one RPC; a failure becomes the matching kai-jobs error. */
  private rpc(fn: string, args: Record<string, unknown>, operation: string, jobId?: string): Promise<unknown> {
    return this.client.call(fn, args, jobId === undefined ? { operation } : { operation, jobId });
  }

  async now(): Promise<number> {
    const value = await this.rpc('kai_now', {}, 'now');
    if (typeof value !== 'number') throw new StoreError('kai_now returned no number', { retryable: false });
    return value;
  }

  async create(input: CreateStatusInput): Promise<{ row: StatusRow; created: boolean }> {
    const [result] = await this.createMany([input]);
    return result as { row: StatusRow; created: boolean };
  }

  async createMany(inputs: readonly CreateStatusInput[]): Promise<{ row: StatusRow; created: boolean }[]> {
    if (inputs.length === 0) return [];
    for (const input of inputs) assertJobType(input.type);
    const data = await this.rpc(
      'kai_create_jobs',
      { p_jobs: inputs.map(encodeCreateInput), p_idempotency_retention_ms: this.finishedRetentionMs },
      'create',
      inputs.length === 1 ? inputs[0]?.id : undefined,
    );
    const results = decodeCreateResults(data);
    if (results.length !== inputs.length) {
      throw new StoreError(`kai_create_jobs returned ${results.length} rows for ${inputs.length} inputs`, { retryable: false });
    }
    return results;
  }

  async markProcessing(id: string, input: MarkProcessingInput): Promise<StatusRow> {
    const data = await this.rpc(
      'kai_mark_processing',
      {
        p_id: id,
        p_fence: input.fence,
        p_worker_id: input.workerId,
        p_stage: input.stage ?? null,
        p_resumed_from: input.resumedFrom ?? null,
      },
      'markProcessing',
      id,
    );
    return requireSupabaseStatusRow(data, `markProcessing of job ${id}`);
  }

  async heartbeat(entries: readonly HeartbeatEntry[]): Promise<HeartbeatResult> {
    if (entries.length === 0) return { rejected: [] };
    // Every job of the process in one RPC, one UPDATE per job type, one timestamp.
    const data = await this.rpc(
      'kai_heartbeat',
      { p_beats: entries.map((entry) => ({ id: entry.id, job_type: entry.type, fence: entry.fence })) },
      'heartbeat',
    );
    if (!Array.isArray(data)) throw new StoreError('kai_heartbeat returned no array', { retryable: false });
    return { rejected: data.map(String) };
  }

  async progress(id: string, fence: string, update: ProgressUpdate): Promise<void> {
    if (update.percent !== undefined) checkPercent(id, update.percent);
    if (update.counters !== undefined) checkCounterNames(id, update.counters);
    // Bounds (0–100, counters ≥ 0) are the table's CHECK constraints: a violation comes back
    // as a ValidationError naming the constraint, and nothing is written.
    await this.rpc(
      'kai_progress',
      {
        p_id: id,
        p_fence: fence,
        p_stage: update.stage ?? null,
        p_percent: update.percent ?? null,
        p_detail: update.detail ?? null,
        p_counters: update.counters ?? null,
        p_status: update.status ?? null,
      },
      'progress',
      id,
    );
  }

  async complete(id: string, fence: string, result: unknown): Promise<StatusRow> {
    if (fence === '') throw new StaleFenceError(id, 'complete');
    const data = await this.rpc('kai_complete', { p_id: id, p_fence: fence, p_result: result ?? null }, 'complete', id);
    return requireSupabaseStatusRow(data, `complete of job ${id}`);
  }

  async fail(id: string, fence: string, error: string, stage?: string | null, options: FailOptions = {}): Promise<StatusRow> {
    if (fence === '') throw new StaleFenceError(id, 'fail');
    const data = await this.rpc(
      'kai_fail',
      { p_id: id, p_fence: fence, p_error: error, p_stage: stage ?? null, p_alert: options.alert ?? null },
      'fail',
      id,
    );
    return requireSupabaseStatusRow(data, `fail of job ${id}`);
  }

  async cancel(id: string, reason: string): Promise<StatusRow | null> {
    return decodeSupabaseStatusRow(await this.rpc('kai_cancel', { p_id: id, p_reason: reason }, 'cancel', id));
  }

  async get(id: string): Promise<StatusRow | null> {
    return decodeSupabaseStatusRow(await this.rpc('kai_get_job', { p_id: id }, 'get', id));
  }

  async findStale(type: JobType, query: FindStaleQuery): Promise<StaleCandidate[]> {
    assertJobType(type);
    const data = await this.rpc(
      'kai_find_stale',
      {
        p_type: type,
        p_heartbeat_older_than_ms: query.heartbeatOlderThanMs,
        p_update_older_than_ms: query.updateOlderThanMs,
        p_limit: query.limit ?? 1000,
      },
      'findStale',
    );
    return decodeStaleCandidates(data);
  }

  async deferCheck(type: JobType, ids: readonly string[]): Promise<void> {
    assertJobType(type);
    if (ids.length === 0) return;
    await this.rpc('kai_defer_check', { p_type: type, p_ids: ids }, 'deferCheck');
  }

  async recover(id: string, input: RecoverInput): Promise<RecoverResult> {
    const data = await this.rpc(
      'kai_recover',
      {
        p_id: id,
        p_expected_fence: input.expectedFence,
        p_expected_restart_count: input.expectedRestartCount,
        p_action: input.action,
        p_error: input.error ?? null,
        p_history: { ...historyWithoutAt(input.history), event: input.history.event || `recovery:${input.action}` },
      },
      'recover',
      id,
    );
    return decodeRecoverResult(data);
  }

  async recoverWithAlert(id: string, input: RecoverWithAlertInput): Promise<RecoverWithAlertResult> {
    const data = await this.rpc(
      'kai_recover_with_alert',
      {
        p_id: id,
        p_expected_fence: input.expectedFence,
        p_expected_restart_count: input.expectedRestartCount,
        p_action: input.action,
        p_error: input.error ?? null,
        p_history: { ...historyWithoutAt(input.history), event: input.history.event || `recovery:${input.action}` },
        p_failure_kind: input.action === 'fail' ? (input.failureKind ?? null) : null,
        p_alert: input.alert ?? null,
      },
      'recoverWithAlert',
      id,
    );
    const incident = (data as { incident?: unknown } | null)?.incident;
    return { ...decodeRecoverResult(data), incident: typeof incident === 'number' ? incident : null };
  }

  async pendingAlerts(type: JobType, limit = 100): Promise<OutboxAlert[]> {
    assertJobType(type);
    const data = await this.rpc('kai_pending_alerts', { p_type: type, p_limit: limit }, 'pendingAlerts');
    if (!Array.isArray(data)) throw new StoreError('kai_pending_alerts returned an unexpected shape', { retryable: false });
    return data.map((entry) => decodeOutboxEntry(type, entry)).filter((entry): entry is OutboxAlert => entry !== null);
  }

  async markAlertSent(type: JobType, jobId: string, incident: number): Promise<boolean> {
    assertJobType(type);
    return (await this.rpc('kai_mark_alert_sent', { p_id: jobId, p_incident: incident }, 'markAlertSent', jobId)) === true;
  }

  async appendHistory(id: string, entry: HistoryEntryInput): Promise<void> {
    await this.rpc('kai_append_history', { p_id: id, p_entry: historyWithoutAt(entry) }, 'appendHistory', id);
  }

  async history(id: string, limit = 200): Promise<HistoryEntry[]> {
    return decodeHistory(await this.rpc('kai_history', { p_id: id, p_limit: limit }, 'history', id));
  }

  async list(query: ListQuery): Promise<StatusRow[]> {
    assertJobType(query.type);
    const data = await this.rpc(
      'kai_list_jobs',
      {
        p_type: query.type,
        p_status: query.status,
        p_limit: query.limit ?? 50,
        ...(query.updatedAfter === undefined ? {} : { p_updated_after: Math.floor(query.updatedAfter) }),
      },
      'list',
    );
    return decodeRows(data, 'kai_list_jobs');
  }

  /**
   * Retention (not part of {@link StatusStore}): removes history and checkpoints of up to
   * `limit` jobs finished longer than `finishedRetentionMs` ago and releases their idempotency
   * keys; the rows stay, as the platform's record. Call it daily, or schedule
   * `kai_purge_finished` with pg_cron.
   */
  async purgeFinished(limit = 1000): Promise<{ jobs: number; history: number; checkpoints: number }> {
    const data = await this.rpc(
      'kai_purge_finished',
      { p_retention_ms: this.finishedRetentionMs, p_limit: limit },
      'purgeFinished',
    );
    const parsed = z.object({ jobs: z.number(), history: z.number(), checkpoints: z.number() }).safeParse(data);
    if (!parsed.success) throw new StoreError('kai_purge_finished returned an unexpected shape', { retryable: false });
    return parsed.data;
  }

  // ----- checkpoints and resume states ---------------------------------------------------------

  private checkpointArgs(job: JobRef, input: FinalCheckpointInput, data: EncodedJson) {
    return {
      p_job_id: job.id,
      p_fence: input.fence,
      p_stage: input.stage,
      p_stage_index: input.stageIndex,
      p_data_json: data.json,
      p_sha256: data.sha256,
      p_schema_version: input.schemaVersion,
      p_attempt: input.attempt,
    };
  }

  async saveCheckpoint(job: JobRef, input: SaveCheckpointInput): Promise<Checkpoint> {
    const data = encodeStoredJson(job, input.stage, input.data, this.retention.maxCheckpointBytes);
    if (input.progress !== undefined && !Number.isFinite(input.progress.percent)) {
      // JSON has no NaN or Infinity: they would arrive as null and silently skip the progress write.
      throw new ValidationError(`checkpoint progress of job ${job.id}`, [
        { path: 'progress.percent', message: 'expected a number from 0 to 100', received: String(input.progress.percent) },
      ]);
    }
    const reply = await this.client.call(
      'kai_save_checkpoint',
      {
        ...this.checkpointArgs(job, input, data),
        p_next_stage: input.progress?.nextStage ?? null,
        p_percent: input.progress === undefined ? null : Math.round(input.progress.percent * 100) / 100,
      },
      { operation: `checkpoint ${input.stage}`, jobId: job.id },
    );
    return {
      jobId: job.id,
      stage: input.stage,
      stageIndex: input.stageIndex,
      data: input.data,
      dataJson: data.json,
      sha256: data.sha256,
      schemaVersion: input.schemaVersion,
      attempt: input.attempt,
      fence: input.fence,
      createdAt: decode(CreatedAtSchema, reply, 'kai_save_checkpoint').created_at,
      bytes: data.bytes,
    };
  }

  async completeWithCheckpoint(job: JobRef, input: FinalCheckpointInput, result: unknown): Promise<void> {
    const data = encodeStoredJson(job, input.stage, input.data, this.retention.maxCheckpointBytes);
    await this.client.call(
      'kai_save_checkpoint_and_complete',
      { ...this.checkpointArgs(job, input, data), p_result: result ?? null, p_retention_ms: this.retention.checkpointRetentionMs },
      { operation: `completing with checkpoint ${input.stage}`, jobId: job.id },
    );
  }

  async saveResumeState(job: JobRef, input: SaveResumeStateInput): Promise<void> {
    const state = encodeStoredJson(job, input.stage, input.state, this.retention.maxCheckpointBytes);
    await this.client.call(
      'kai_save_resume_state',
      { p_job_id: job.id, p_fence: input.fence, p_stage: input.stage, p_state_json: state.json, p_attempt: input.attempt },
      { operation: `resume state of ${input.stage}`, jobId: job.id },
    );
  }

  async loadResumeState(job: JobRef, stage: string): Promise<ResumeState | null> {
    const reply = await this.client.call('kai_load_resume_state', { p_job_id: job.id, p_stage: stage }, {
      operation: 'loadResumeState',
      jobId: job.id,
    });
    const stored = decode(StoredResumeStateSchema, reply, 'kai_load_resume_state');
    if (stored === null) return null;
    if (checkpointSha256(stored.state_json) !== stored.sha256) {
      // A damaged resume state is not an error: the stage starts over from its beginning,
      // which is always correct (it is only a shortcut).
      this.logger.warn('resume state does not match its sha256; the stage starts over', { jobId: job.id, stage });
      return null;
    }
    let state: unknown;
    try {
      state = JSON.parse(stored.state_json);
    } catch (error) {
      throw new StoreError(`resume state of ${job.id}/${stage} is not valid JSON`, { cause: error, retryable: false });
    }
    return { stage, state, attempt: stored.attempt, fence: stored.fence, savedAt: stored.saved_at };
  }

  async listCheckpoints(job: JobRef): Promise<Checkpoint[]> {
    const reply = await this.client.call('kai_list_checkpoints', { p_job_id: job.id }, { operation: 'list', jobId: job.id });
    return decode(StoredCheckpointsSchema, reply, 'kai_list_checkpoints').map((row) => {
      let data: unknown = null;
      try {
        data = JSON.parse(row.data_json);
      } catch {
        // Left for validation to report as unreadable / hash mismatch.
      }
      return {
        jobId: job.id,
        stage: row.stage,
        stageIndex: row.stage_index ?? 0,
        data,
        dataJson: row.data_json,
        sha256: row.sha256,
        schemaVersion: row.schema_version,
        attempt: row.attempt,
        fence: row.fence,
        createdAt: row.created_at,
        bytes: row.bytes,
      };
    });
  }

  async clearCheckpoints(job: JobRef): Promise<void> {
    await this.client.call('kai_clear_checkpoints', { p_job_id: job.id }, { operation: 'clear', jobId: job.id });
  }

  async expireCheckpoints(job: JobRef): Promise<void> {
    await this.client.call(
      'kai_expire_checkpoints',
      { p_job_id: job.id, p_retention_ms: this.retention.checkpointRetentionMs },
      { operation: 'expire', jobId: job.id },
    );
  }

  /**
   * Retention (not part of {@link JobStore}): deletes up to `limit` expired checkpoints and
   * resume states. `kai_purge_finished` ({@link purgeFinished}) does this too.
   */
  async purgeExpiredCheckpoints(limit = 10_000): Promise<number> {
    const reply = await this.client.call('kai_purge_expired_checkpoints', { p_limit: limit }, { operation: 'purgeExpired' });
    return decode(z.number().int(), reply, 'kai_purge_expired_checkpoints');
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
