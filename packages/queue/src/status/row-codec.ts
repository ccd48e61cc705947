import { isFailureKind } from '../recovery/recovery-decision.js';
import { CounterName, isJobType, JobStatus, type Counters } from '../catalog/index.js';
import { StoreError } from '../errors.js';
import type { LinkedJobRow, LinkedJobStatus, StatusRefs, StatusRow } from './types.js';

const COUNTER_NAMES: readonly string[] = Object.values(CounterName);
const STATUSES: readonly string[] = Object.values(JobStatus);

function optionalNumber(value: string | undefined): number | null {
  if (value === undefined || value === '') return null;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : null;
}

function optionalString(value: string | undefined): string | null {
  return value === undefined || value === '' ? null : value;
}

function parseJson(value: string | undefined, field: string, id: string): unknown {
  if (value === undefined || value === '') return null;
  try {
    return JSON.parse(value) as unknown;
  } catch (error) {
    throw new StoreError(`status row ${id}: field ${field} is not valid JSON`, { cause: error, retryable: false });
  }
}

/** Decodes a Redis status hash into a {@link StatusRow}; null for an empty hash. */
export function decodeStatusRow(hash: Record<string, string>): StatusRow | null {
  const id = hash['id'];
  if (id === undefined) return null;
  const type = hash['type'];
  const status = hash['status'];
  if (!isJobType(type) || status === undefined || !STATUSES.includes(status)) {
    throw new StoreError(`status row ${id} is corrupt: type "${type}", status "${status}"`, { retryable: false });
  }
  const counters: Counters = {};
  for (const name of COUNTER_NAMES) {
    const value = optionalNumber(hash[name]);
    if (value !== null) counters[name as CounterName] = value;
  }
  return {
    id,
    type,
    status: status as JobStatus,
    attempt: optionalNumber(hash['attempt']) ?? 0,
    fence: optionalString(hash['fence']),
    workerId: optionalString(hash['worker_id']),
    restartCount: optionalNumber(hash['restart_count']) ?? 0,
    progress: optionalNumber(hash['progress']) ?? 0,
    currentStage: optionalString(hash['current_stage']),
    progressDetail: optionalString(hash['progress_detail']),
    resumedFrom: optionalString(hash['resumed_from']),
    lastHeartbeat: optionalNumber(hash['last_heartbeat']),
    createdAt: optionalNumber(hash['created_at']) ?? 0,
    updatedAt: optionalNumber(hash['updated_at']) ?? 0,
    startedAt: optionalNumber(hash['started_at']),
    completedAt: optionalNumber(hash['completed_at']),
    durationMs: optionalNumber(hash['duration_ms']),
    error: optionalString(hash['error']),
    errorStage: optionalString(hash['error_stage']),
    result: parseJson(hash['result'], 'result', id),
    counters,
    refs: (parseJson(hash['refs'], 'refs', id) as StatusRefs | null) ?? {},
    payload: parseJson(hash['payload'], 'payload', id),
    idempotencyKey: optionalString(hash['idempotency_key']),
    heartbeatTimeoutMs: optionalNumber(hash['heartbeat_timeout_ms']),
    updateTimeoutMs: optionalNumber(hash['update_timeout_ms']),
    // Only when recorded, so rows of the paths that do not set it read as before.
    ...(isFailureKind(hash['failure_kind']) ? { failureKind: hash['failure_kind'] } : {}),
  };
}

const LINKED_STATUSES: readonly string[] = ['pending', 'processing', 'completed', 'failed'] satisfies LinkedJobStatus[];

/** Decodes a Redis linked `background_jobs` hash (written by the scripts' `sync_linked`); null for an empty hash. */
export function decodeLinkedJobRow(hash: Record<string, string>): LinkedJobRow | null {
  const id = hash['id'];
  if (id === undefined) return null;
  const jobType = hash['job_type'];
  const status = hash['status'];
  const followsId = hash['bullmq_job_id'];
  if (!isJobType(jobType) || status === undefined || !LINKED_STATUSES.includes(status) || !followsId) {
    throw new StoreError(`background_jobs row ${id} is corrupt: job_type "${jobType}", status "${status}"`, {
      retryable: false,
    });
  }
  const refs = parseJson(hash['refs'], 'refs', id);
  return {
    id,
    jobType,
    followsId,
    status: status as LinkedJobStatus,
    progress: optionalNumber(hash['progress']) ?? 0,
    currentStage: optionalString(hash['current_stage']),
    progressDetail: optionalString(hash['progress_detail']),
    lastHeartbeat: optionalNumber(hash['last_heartbeat']),
    error: optionalString(hash['error']),
    errorStage: optionalString(hash['error_stage']),
    attempt: optionalNumber(hash['attempt']) ?? 0,
    workerId: optionalString(hash['worker_id']),
    restartCount: optionalNumber(hash['restart_count']) ?? 0,
    createdAt: optionalNumber(hash['created_at']) ?? 0,
    updatedAt: optionalNumber(hash['updated_at']) ?? 0,
    startedAt: optionalNumber(hash['started_at']),
    completedAt: optionalNumber(hash['completed_at']),
    durationMs: optionalNumber(hash['duration_ms']),
    refs: typeof refs === 'object' && refs !== null && !Array.isArray(refs) ? (refs as Record<string, unknown>) : {},
  };
}

/** Flattens counters into hash field/value pairs, checking names and values. */
export function encodeCounters(counters: Counters): string[] {
  const pairs: string[] = [];
  for (const [name, value] of Object.entries(counters)) {
    if (!COUNTER_NAMES.includes(name)) throw new StoreError(`unknown counter ${name}`, { retryable: false });
    if (!Number.isInteger(value) || (value as number) < 0) {
      throw new StoreError(`counter ${name} must be a non-negative integer, got ${String(value)}`, { retryable: false });
    }
    pairs.push(name, String(value));
  }
  return pairs;
}
