import { isFailureKind } from '../recovery/recovery-decision.js';
import { z } from 'zod';
import { JOB_TYPES, jobCatalog, JobStatus, type Counters, type JobType } from '../catalog/index.js';
import { StoreError } from '../errors.js';
import type { CreateStatusInput, HistoryEntry, StaleCandidate, StatusRefs, StatusRow } from './types.js';

/**
 * Mapping between the rows of the Supabase status tables (as the SQL functions return them,
 * `to_jsonb(row)`: snake_case, ISO timestamps) and {@link StatusRow}.
 */

const TimestampSchema = z.string().nullable();
const NullableString = z.string().nullable();
const NullableNumber = z.number().nullable();

/** A row of `background_jobs`, `scraping_sessions` or `data_import_jobs` as JSON. */
const DbStatusRowSchema = z.looseObject({
  id: z.string(),
  job_type: z.enum(JOB_TYPES as [JobType, ...JobType[]]),
  status: z.enum(Object.values(JobStatus) as [JobStatus, ...JobStatus[]]),
  attempt: z.number().int(),
  fence: NullableString,
  worker_id: NullableString,
  restart_count: z.number().int(),
  progress: z.number(),
  current_stage: NullableString,
  progress_detail: NullableString,
  resumed_from: NullableString,
  last_heartbeat: TimestampSchema,
  created_at: z.string(),
  updated_at: z.string(),
  started_at: TimestampSchema,
  completed_at: TimestampSchema,
  duration_ms: NullableNumber,
  /** `background_jobs` names it `error`, the other two tables `error_message`. */
  error: NullableString.optional(),
  error_message: NullableString.optional(),
  error_stage: NullableString,
  result: z.unknown(),
  payload: z.unknown(),
  refs: z.record(z.string(), z.unknown()),
  idempotency_key: NullableString,
  heartbeat_timeout_ms: NullableNumber,
  update_timeout_ms: NullableNumber,
});

function toMs(value: string, field: string, id: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new StoreError(`status row ${id}: ${field} "${value}" is not a timestamp`, { retryable: false });
  return ms;
}

function toMsOrNull(value: string | null, field: string, id: string): number | null {
  return value === null ? null : toMs(value, field, id);
}

/** Decodes one status-table row (JSON from an RPC) into a {@link StatusRow}; null stays null. */
export function decodeSupabaseStatusRow(value: unknown): StatusRow | null {
  if (value === null || value === undefined) return null;
  const parsed = DbStatusRowSchema.safeParse(value);
  if (!parsed.success) {
    const id = typeof value === 'object' && 'id' in value ? String((value as { id: unknown }).id) : '?';
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new StoreError(`status row ${id} from Supabase is malformed: ${problems}`, { retryable: false });
  }
  const row = parsed.data;
  const raw = value as Record<string, unknown>;
  const counters: Counters = {};
  for (const name of jobCatalog[row.job_type].counters) {
    const count = raw[name];
    if (typeof count === 'number') counters[name] = count;
  }
  return {
    id: row.id,
    type: row.job_type,
    status: row.status,
    attempt: row.attempt,
    fence: row.fence,
    workerId: row.worker_id,
    restartCount: row.restart_count,
    progress: row.progress,
    currentStage: row.current_stage,
    progressDetail: row.progress_detail,
    resumedFrom: row.resumed_from,
    lastHeartbeat: toMsOrNull(row.last_heartbeat, 'last_heartbeat', row.id),
    createdAt: toMs(row.created_at, 'created_at', row.id),
    updatedAt: toMs(row.updated_at, 'updated_at', row.id),
    startedAt: toMsOrNull(row.started_at, 'started_at', row.id),
    completedAt: toMsOrNull(row.completed_at, 'completed_at', row.id),
    durationMs: row.duration_ms,
    error: (row.job_type === 'pdf' ? row.error : row.error_message) ?? null,
    errorStage: row.error_stage,
    result: row.result ?? null,
    counters,
    refs: row.refs as StatusRefs,
    payload: row.payload ?? null,
    idempotencyKey: row.idempotency_key,
    heartbeatTimeoutMs: row.heartbeat_timeout_ms,
    updateTimeoutMs: row.update_timeout_ms,
    // `failure_kind` is a nullable column a later migration adds: only when recorded.
    ...(isFailureKind(raw['failure_kind']) ? { failureKind: raw['failure_kind'] } : {}),
  };
}

/** Like {@link decodeSupabaseStatusRow}, for a row the call must return. */
export function requireSupabaseStatusRow(value: unknown, what: string): StatusRow {
  const row = decodeSupabaseStatusRow(value);
  if (row === null) throw new StoreError(`${what}: Supabase returned no row`, { retryable: false });
  return row;
}

/** One element of `kai_create_jobs(p_jobs)`. */
export function encodeCreateInput(input: CreateStatusInput): Record<string, unknown> {
  return {
    id: input.id,
    job_type: input.type,
    payload: input.payload ?? null,
    refs: input.refs ?? {},
    idempotency_key: input.idempotencyKey ?? null,
    heartbeat_timeout_ms: input.heartbeatTimeoutMs ?? null,
    update_timeout_ms: input.updateTimeoutMs ?? null,
  };
}

const CreateResultSchema = z.array(z.object({ created: z.boolean(), row: z.unknown() }));

/** Decodes the result of `kai_create_jobs`. */
export function decodeCreateResults(value: unknown): { row: StatusRow; created: boolean }[] {
  const parsed = CreateResultSchema.safeParse(value);
  if (!parsed.success) throw new StoreError('kai_create_jobs returned an unexpected shape', { retryable: false });
  return parsed.data.map((entry) => ({ created: entry.created, row: requireSupabaseStatusRow(entry.row, 'create') }));
}

const StaleResultSchema = z.object({
  now: z.number(),
  candidates: z.array(
    z.object({
      reason: z.enum(['heartbeat_timeout', 'update_timeout']),
      age_ms: z.number(),
      row: z.unknown(),
      foreign: z.boolean().optional(),
    }),
  ),
});

/** Decodes the result of `kai_find_stale`. */
export function decodeStaleCandidates(value: unknown): StaleCandidate[] {
  const parsed = StaleResultSchema.safeParse(value);
  if (!parsed.success) throw new StoreError('kai_find_stale returned an unexpected shape', { retryable: false });
  return parsed.data.candidates.map((candidate) => ({
    row: requireSupabaseStatusRow(candidate.row, 'findStale'),
    reason: candidate.reason,
    ageMs: candidate.age_ms,
    storeNow: parsed.data.now,
    ...(candidate.foreign === true ? { foreign: true } : {}),
  }));
}

const RecoverResultSchema = z.object({ applied: z.boolean(), row: z.unknown() });

/** Decodes the result of `kai_recover`. */
export function decodeRecoverResult(value: unknown): { applied: boolean; row: StatusRow | null } {
  const parsed = RecoverResultSchema.safeParse(value);
  if (!parsed.success) throw new StoreError('kai_recover returned an unexpected shape', { retryable: false });
  return { applied: parsed.data.applied, row: decodeSupabaseStatusRow(parsed.data.row) };
}

const HistorySchema = z.array(z.looseObject({ at: z.number(), event: z.string() }));

/** Decodes the result of `kai_history`. */
export function decodeHistory(value: unknown): HistoryEntry[] {
  const parsed = HistorySchema.safeParse(value);
  if (!parsed.success) throw new StoreError('kai_history returned an unexpected shape', { retryable: false });
  return parsed.data as HistoryEntry[];
}

/** Decodes a JSON array of rows (`kai_list_jobs`). */
export function decodeRows(value: unknown, what: string): StatusRow[] {
  if (!Array.isArray(value)) throw new StoreError(`${what} returned an unexpected shape`, { retryable: false });
  return value.map((row) => requireSupabaseStatusRow(row, what));
}
