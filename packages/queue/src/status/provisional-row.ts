import type { PendingFinish } from './pending-writes.js';
import type { StatusRow } from './types.js';

/** What a {@link OutageTolerantJobStore} remembers of the rows its attempts claimed (payload and result left out). */
export type RowMemory = Map<string, StatusRow>;

/** Rows remembered at most: enough for every job a worker process runs at once, many times over. */
const MAX_REMEMBERED_ROWS = 10_000;

/** Remembers a claimed row (without its payload), forgetting the oldest beyond the bound. */
export function rememberRow(rows: RowMemory, row: StatusRow): void {
  rows.delete(row.id);
  rows.set(row.id, { ...row, payload: null, result: null });
  if (rows.size > MAX_REMEMBERED_ROWS) {
    const oldest = rows.keys().next().value;
    if (oldest !== undefined) rows.delete(oldest);
  }
}

/**
 * The row a buffered completion or failure will produce once it lands, built from the row the
 * attempt claimed. Store times are this process's estimate; fields this process never saw
 * keep defaults. The runtime only awaits these calls; nothing reads the row back.
 */
export function provisionalRow(rows: RowMemory, id: string, fence: string, finish: PendingFinish, nowMs: number): StatusRow {
  const claimed = rows.get(id);
  const base: StatusRow = claimed ?? {
    id,
    type: 'pdf',
    status: 'processing',
    attempt: 0,
    fence,
    workerId: null,
    restartCount: 0,
    progress: 0,
    currentStage: null,
    progressDetail: null,
    resumedFrom: null,
    lastHeartbeat: null,
    createdAt: nowMs,
    updatedAt: nowMs,
    startedAt: null,
    completedAt: null,
    durationMs: null,
    error: null,
    errorStage: null,
    result: null,
    counters: {},
    refs: {},
    payload: null,
    idempotencyKey: null,
    heartbeatTimeoutMs: null,
    updateTimeoutMs: null,
  };
  const durationMs = Math.max(0, nowMs - (base.startedAt ?? base.createdAt));
  const finished = { ...base, fence, updatedAt: nowMs, completedAt: nowMs, durationMs };
  return finish.kind === 'complete'
    ? { ...finished, status: 'completed', progress: 100, result: finish.result, error: null, errorStage: null }
    : { ...finished, status: 'failed', error: finish.error, errorStage: finish.stage ?? base.currentStage };
}
