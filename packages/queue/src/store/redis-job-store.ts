import { z } from 'zod';
import { JOB_TYPES, type JobType } from '../catalog/index.js';
import { assertOpen, type RedisClient } from '../connection.js';
import {
  InvalidTransitionError,
  JobNotFoundError,
  StaleFenceError,
  StoreError,
  toError,
  ValidationError,
} from '../errors.js';
import { checkpointKeys, statusKeys, type CheckpointKeys, type StatusKeys } from '../keys.js';
import { loadLuaScripts, ScriptSet } from '../lua-scripts.js';
import { decodeOutboxEntry } from '../recovery/outbox-codec.js';
import type { OutboxAlert, RecoverWithAlertInput, RecoverWithAlertResult } from '../recovery/outbox-types.js';
import { decodeLinkedJobRow, decodeStatusRow, encodeCounters } from '../status/row-codec.js';
import {
  StaleReason,
  type CreateStatusInput,
  type FailOptions,
  type FindStaleQuery,
  type HeartbeatEntry,
  type HeartbeatResult,
  type HistoryEntry,
  type HistoryEntryInput,
  type LinkedJobRow,
  type ListQuery,
  type MarkProcessingInput,
  type ProgressUpdate,
  type RecoverInput,
  type RecoverResult,
  type StaleCandidate,
  type StatusRow,
} from '../status/types.js';
import { KeyPrefixSchema, DEFAULT_KEY_PREFIX } from '../config.js';
import { encodeStoredJson, StoreRetentionSchema, type StoreRetention } from './retention.js';
import type {
  Checkpoint,
  FinalCheckpointInput,
  JobRef,
  JobStore,
  ResumeState,
  SaveCheckpointInput,
  SaveResumeStateInput,
} from './types.js';

/** Options of {@link RedisJobStore}. */
export const RedisJobStoreOptionsSchema = z
  .object({
    /** The connection to use; the store does not close it. */
    connection: z.custom<RedisClient>((value) => typeof value === 'object' && value !== null, {
      message: 'expected an ioredis connection',
    }),
    /** Key prefix. Default `kai`. */
    prefix: KeyPrefixSchema.default(DEFAULT_KEY_PREFIX),
    /** Retention of rows, history and checkpoints, and the checkpoint size limit. Defaults: 7 days, 200 entries, 256 KiB. */
    retention: StoreRetentionSchema.prefault({}),
  })
  .strict();
/** What callers pass to construct a {@link RedisJobStore}. */
export type RedisJobStoreOptions = z.input<typeof RedisJobStoreOptionsSchema>;

/** The one set of job-store scripts: status changes and checkpoints alike (the board's script is job-board-script.ts's). */
const scripts = new ScriptSet(
  'kaiJob',
  loadLuaScripts(new URL('../lua/', import.meta.url)).filter((script) => script.name !== 'board-write'),
);

/** Rows per `create-many` script call: bounds how long one call holds Redis (about a millisecond per 1,000 rows). */
const CREATE_BATCH_ROWS = 1000;

/** The history entry of a created row. */
const CREATED_HISTORY_JSON = JSON.stringify({ event: 'created' });

/** How checkpoint metadata is stored beside its data (`<stage>` → this JSON, `<stage>#data` → the data). */
interface StoredMeta {
  stageIndex: number;
  sha256: string;
  schemaVersion: number;
  attempt: number;
  fence: string;
  createdAt: number;
  bytes: number;
}

/**
 * Upper bound of the id → type cache; ids never change type, so eviction only costs a lookup.
 * Finished jobs leave the cache at once: it holds the jobs a process is working on.
 */
const TYPE_CACHE_LIMIT = 10_000;

function checkPercent(id: string, percent: number): void {
  if (!Number.isFinite(percent) || percent < 0 || percent > 100) {
    throw new ValidationError(`progress of job ${id}`, [
      { path: 'percent', message: 'expected a number from 0 to 100', received: String(percent) },
    ]);
  }
}

/** Decodes a flat HGETALL-style field/value list returned by a script. */
function rowFromReply(flat: readonly (number | string)[], id: string): StatusRow {
  const hash: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) hash[String(flat[i])] = String(flat[i + 1]);
  const row = decodeStatusRow(hash);
  if (row === null) throw new StoreError(`status row ${id} vanished during a write`);
  return row;
}

function stringifyHistory(entry: HistoryEntryInput): string {
  const { at: _at, ...rest } = entry as HistoryEntryInput & { at?: unknown };
  return JSON.stringify(rest);
}

/**
 * The Redis adapter of {@link JobStore}: one hash per row, sorted-set indexes on heartbeat
 * and update times per job type (finding stale rows is O(log N + found)), checkpoints and
 * resume states in hashes beside the row (same `{queue}` hash tag), and one Lua script per
 * state change, judged by Redis `TIME`. A checkpoint save checks the row's fence and records
 * the status progress in one script, so a stage costs one round trip; the last checkpoint and
 * the completion are one script too. Every checkpoint save (re)arms the retention TTL, so
 * checkpoints expire `checkpointRetentionMs` after the job's last save even when
 * `expireCheckpoints` is never called.
 */
export class RedisJobStore implements JobStore {
  private readonly redis: RedisClient;
  private readonly prefix: string;
  private readonly retention: StoreRetention;
  private readonly finishedRetentionMs: number;
  private readonly maxHistoryEntries: number;
  private readonly keysByType: Record<JobType, StatusKeys>;
  private readonly checkpointKeysByType: Record<JobType, CheckpointKeys>;
  private readonly typeCache = new Map<string, JobType>();

  constructor(options: RedisJobStoreOptions) {
    const parsed = RedisJobStoreOptionsSchema.parse(options);
    this.redis = parsed.connection;
    this.prefix = parsed.prefix;
    this.retention = parsed.retention;
    this.finishedRetentionMs = parsed.retention.finishedRetentionMs;
    this.maxHistoryEntries = parsed.retention.maxHistoryEntries;
    this.keysByType = Object.fromEntries(JOB_TYPES.map((type) => [type, statusKeys(this.prefix, type)])) as Record<
      JobType,
      StatusKeys
    >;
    this.checkpointKeysByType = Object.fromEntries(
      JOB_TYPES.map((type) => [type, checkpointKeys(this.prefix, type)]),
    ) as Record<JobType, CheckpointKeys>;
  }

  /** The status keys of `type` (for tests and tools that inspect Redis directly). */
  keys(type: JobType): StatusKeys {
    return this.keysByType[type];
  }

  private remember(id: string, type: JobType): void {
    if (this.typeCache.size >= TYPE_CACHE_LIMIT) {
      const oldest = this.typeCache.keys().next().value;
      if (oldest !== undefined) this.typeCache.delete(oldest);
    }
    this.typeCache.set(id, type);
  }

  /** Finds which type's keys hold row `id` (cached: a row never changes type). */
  private async resolveType(id: string): Promise<JobType | null> {
    const cached = this.typeCache.get(id);
    if (cached !== undefined) return cached;
    const exists = await this.eachType(`looking up job ${id}`, (type) => this.redis.exists(this.keysByType[type].row(id)));
    for (const [index, type] of JOB_TYPES.entries()) {
      if (exists[index] === 1) {
        this.remember(id, type);
        return type;
      }
    }
    return null;
  }

  /**
   * Runs `read` for every job type concurrently (one round trip). Not one pipeline: each
   * type's keys are its own Redis Cluster slot, and a cluster pipeline must stay in one slot.
   */
  private async eachType<T>(what: string, read: (type: JobType) => Promise<T>): Promise<T[]> {
    try {
      return await Promise.all(JOB_TYPES.map(read));
    } catch (error) {
      throw new StoreError(`${what} failed: ${toError(error).message}`, { cause: error });
    }
  }

  private async requireType(id: string): Promise<JobType> {
    const type = await this.resolveType(id);
    if (type === null) throw new JobNotFoundError(id);
    return type;
  }

  async now(): Promise<number> {
    return Number(await scripts.run(this.redis, 'time', [], []));
  }

  /** The row's field/value pairs a create script writes beside its fixed fields. */
  private rowFields(input: CreateStatusInput): string[] {
    const fields: string[] = ['type', input.type, 'payload', JSON.stringify(input.payload ?? null)];
    fields.push('refs', JSON.stringify(input.refs ?? {}));
    // A session's or import's linked background_jobs row, kept in step by every script that
    // changes the row (as the Supabase store's trigger does); a PDF job is itself one.
    const link = input.refs?.backgroundJobId;
    if (input.type !== 'pdf' && link !== undefined && link !== '') fields.push('background_job_id', link);
    if (input.idempotencyKey !== undefined) fields.push('idempotency_key', input.idempotencyKey);
    if (input.heartbeatTimeoutMs !== undefined) fields.push('heartbeat_timeout_ms', String(input.heartbeatTimeoutMs));
    if (input.updateTimeoutMs !== undefined) fields.push('update_timeout_ms', String(input.updateTimeoutMs));
    return fields;
  }

  async create(input: CreateStatusInput): Promise<{ row: StatusRow; created: boolean }> {
    const [result] = await this.createMany([input]);
    return result as { row: StatusRow; created: boolean };
  }

  async createMany(inputs: readonly CreateStatusInput[]): Promise<{ row: StatusRow; created: boolean }[]> {
    if (inputs.length === 0) return [];
    // One pipeline per job type (a Redis Cluster pipeline must stay in one slot), run concurrently.
    const indexesByType = new Map<JobType, number[]>();
    for (const [index, input] of inputs.entries()) {
      indexesByType.set(input.type, [...(indexesByType.get(input.type) ?? []), index]);
    }
    const outcomes: { row: StatusRow; created: boolean }[] = new Array(inputs.length);
    await Promise.all(
      [...indexesByType.values()].map(async (indexes) => {
        const created = await this.createOfOneType(indexes.map((index) => inputs[index] as CreateStatusInput));
        for (const [k, index] of indexes.entries()) outcomes[index] = created[k] as { row: StatusRow; created: boolean };
      }),
    );
    return outcomes;
  }

  /**
   * {@link createMany} for inputs of one type: one `create-many` script per
   * {@link CREATE_BATCH_ROWS} rows (one script call and one `TIME` for a batch, not one per row),
   * the batches in one pipeline. A created row is built from the fields the script wrote (with
   * its `now`), so only rows that already existed (an idempotent repeat) are read back, in a
   * second round trip.
   */
  private async createOfOneType(inputs: readonly CreateStatusInput[]): Promise<{ row: StatusRow; created: boolean }[]> {
    assertOpen(this.redis);
    const type = (inputs[0] as CreateStatusInput).type;
    const keys = this.keysByType[type];
    const pipeline = scripts.pipeline(this.redis);
    const written: string[][] = [];
    for (let start = 0; start < inputs.length; start += CREATE_BATCH_ROWS) {
      const args: (string | number)[] = [keys.base, this.maxHistoryEntries, CREATED_HISTORY_JSON];
      for (const input of inputs.slice(start, start + CREATE_BATCH_ROWS)) {
        const fields = this.rowFields(input);
        written.push(fields);
        args.push(input.id, input.idempotencyKey ?? '', fields.length, ...fields);
      }
      scripts.queue(pipeline, 'create-many', [keys.updateIndex, keys.overrideIndex], args);
    }
    const replies = (await pipeline.exec()) ?? [];
    const outcomes: { row: StatusRow | null; created: boolean; id: string; type: JobType }[] = [];
    for (const [error, reply] of replies) {
      if (error) throw new StoreError(`creating status rows failed: ${error.message}`, { cause: error });
      const [now, ...pairs] = reply as [number, ...(number | string)[]];
      for (let k = 0; k + 1 < pairs.length; k += 2) {
        const index = outcomes.length;
        const created = pairs[k] === 1;
        const id = String(pairs[k + 1]);
        this.remember(id, type);
        if (!created) {
          outcomes.push({ row: null, created: false, id, type });
          continue;
        }
        // Exactly what create-many-2.lua wrote: its fixed fields, then the input's field/value pairs.
        const hash: Record<string, string> = {
          id,
          status: 'pending',
          attempt: '0',
          restart_count: '0',
          progress: '0',
          created_at: String(now),
          updated_at: String(now),
        };
        const fields = written[index] as string[];
        for (let i = 0; i + 1 < fields.length; i += 2) hash[fields[i] as string] = fields[i + 1] as string;
        outcomes.push({ row: decodeStatusRow(hash), created: true, id, type });
      }
    }
    const existing = outcomes.filter((outcome) => outcome.row === null);
    if (existing.length > 0) {
      const readBack = this.redis.pipeline();
      for (const outcome of existing) readBack.hgetall(this.keysByType[outcome.type].row(outcome.id));
      const hashes = (await readBack.exec()) ?? [];
      for (const [index, outcome] of existing.entries()) {
        const [error, hash] = hashes[index] ?? [null, {}];
        if (error) throw new StoreError(`reading status row ${outcome.id} failed: ${error.message}`, { cause: error });
        outcome.row = decodeStatusRow(hash as Record<string, string>);
      }
    }
    return outcomes.map((outcome) => {
      if (outcome.row === null) throw new StoreError(`status row ${outcome.id} vanished right after create`);
      return { row: outcome.row, created: outcome.created };
    });
  }

  async markProcessing(id: string, input: MarkProcessingInput): Promise<StatusRow> {
    if (input.type !== undefined) this.remember(id, input.type);
    const type = await this.requireType(id);
    const keys = this.keysByType[type];
    const reply = (await scripts.run(
      this.redis,
      'mark-processing',
      [keys.row(id), keys.heartbeatIndex, keys.updateIndex, keys.history(id)],
      [keys.base, id, input.fence, input.workerId, input.stage ?? '', input.resumedFrom ?? '', this.maxHistoryEntries],
    )) as (number | string)[];
    if (reply[0] === -1) throw new JobNotFoundError(id);
    if (reply[0] === -3) throw new InvalidTransitionError(id, `cannot start an attempt: the job is ${String(reply[1])}`);
    return rowFromReply(reply.slice(3), id);
  }

  async heartbeat(entries: readonly HeartbeatEntry[]): Promise<HeartbeatResult> {
    if (entries.length === 0) return { rejected: [] };
    const byType = new Map<JobType, HeartbeatEntry[]>();
    for (const entry of entries) {
      const list = byType.get(entry.type) ?? [];
      list.push(entry);
      byType.set(entry.type, list);
      this.remember(entry.id, entry.type);
    }
    // One script call per job type, sent concurrently: one round trip for the whole process.
    // Not one pipeline: each type is its own Redis Cluster slot (often on another node).
    const results = await Promise.all(
      [...byType].map(([type, list]) => {
        const keys = this.keysByType[type];
        return scripts
          .run(this.redis, 'heartbeat', [keys.heartbeatIndex], [keys.base, ...list.flatMap((e) => [e.id, e.fence])])
          .catch((error: unknown) => {
            throw new StoreError(`heartbeat write failed: ${toError(error).message}`, { cause: error });
          });
      }),
    );
    return { rejected: results.flatMap((value) => value as string[]) };
  }

  async progress(id: string, fence: string, update: ProgressUpdate): Promise<void> {
    const type = await this.requireType(id);
    const keys = this.keysByType[type];
    const fields: string[] = [];
    if (update.stage !== undefined) fields.push('current_stage', update.stage);
    if (update.percent !== undefined) {
      checkPercent(id, update.percent);
      fields.push('progress', String(Math.round(update.percent * 100) / 100));
    }
    if (update.detail !== undefined) fields.push('progress_detail', update.detail.slice(0, 500));
    if (update.counters !== undefined) fields.push(...encodeCounters(update.counters));
    const code = Number(
      await scripts.run(
        this.redis,
        'progress',
        [keys.row(id), keys.updateIndex],
        [keys.base, id, fence, update.status ?? '', ...fields],
      ),
    );
    this.throwForCode(code, id, 'progress');
  }

  private throwForCode(code: number, id: string, operation: string, status?: string): void {
    if (code === -1) throw new JobNotFoundError(id);
    if (code === -2) throw new StaleFenceError(id, operation);
    if (code === -3) throw new InvalidTransitionError(id, `${operation} refused: the job is ${status ?? 'not running'}`);
  }

  private async finish(
    id: string,
    fence: string,
    outcome: 'completed' | 'failed',
    result: unknown,
    error: string,
    stage: string,
    history: HistoryEntryInput,
  ): Promise<StatusRow | null> {
    const type = await this.requireType(id);
    const keys = this.keysByType[type];
    const reply = (await scripts.run(
      this.redis,
      'finish',
      [keys.row(id), keys.heartbeatIndex, keys.updateIndex, keys.overrideIndex, keys.history(id)],
      [
        keys.base,
        id,
        fence,
        outcome,
        JSON.stringify(result ?? null),
        error,
        stage,
        this.finishedRetentionMs,
        this.maxHistoryEntries,
        stringifyHistory(history),
      ],
    )) as (number | string)[];
    if (fence === '' && reply[0] === -3) return null;
    this.throwForCode(Number(reply[0]), id, outcome === 'completed' ? 'complete' : 'fail', reply[1] as string | undefined);
    this.typeCache.delete(id);
    return rowFromReply(reply.slice(2), id);
  }

  async complete(id: string, fence: string, result: unknown): Promise<StatusRow> {
    if (fence === '') throw new StaleFenceError(id, 'complete');
    return (await this.finish(id, fence, 'completed', result, '', '', { event: 'completed' })) as StatusRow;
  }

  async fail(id: string, fence: string, error: string, stage?: string | null, options: FailOptions = {}): Promise<StatusRow> {
    if (fence === '') throw new StaleFenceError(id, 'fail');
    if (options.alert !== undefined) return this.failWithAlert(id, fence, error, stage ?? '', options.alert);
    return (await this.finish(id, fence, 'failed', null, error, stage ?? '', {
      event: 'failed',
      error,
      ...(stage ? { stage } : {}),
    })) as StatusRow;
  }

  /** {@link fail} with its alert written to the outbox in the same script (`fail-alert-6.lua`). */
  private async failWithAlert(id: string, fence: string, error: string, stage: string, alert: Record<string, unknown>): Promise<StatusRow> {
    const type = await this.requireType(id);
    const keys = this.keysByType[type];
    const reply = (await scripts.run(
      this.redis,
      'fail-alert',
      [keys.row(id), keys.heartbeatIndex, keys.updateIndex, keys.overrideIndex, keys.history(id), keys.alertOutbox],
      [
        keys.base,
        id,
        fence,
        error,
        stage,
        this.finishedRetentionMs,
        this.maxHistoryEntries,
        stringifyHistory({ event: 'failed', error, ...(stage ? { stage } : {}) }),
        JSON.stringify(alert),
      ],
    )) as (number | string)[];
    this.throwForCode(Number(reply[0]), id, 'fail', reply[1] as string | undefined);
    this.typeCache.delete(id);
    return rowFromReply(reply.slice(3), id) as StatusRow;
  }

  async cancel(id: string, reason: string): Promise<StatusRow | null> {
    return this.finish(id, '', 'failed', null, `cancelled: ${reason}`, '', { event: 'cancelled', reason });
  }

  async get(id: string): Promise<StatusRow | null> {
    const cached = this.typeCache.get(id);
    if (cached !== undefined) {
      const row = decodeStatusRow(await this.redis.hgetall(this.keysByType[cached].row(id)));
      if (row !== null) return row;
    }
    const hashes = await this.eachType(`reading job ${id}`, (type) => this.redis.hgetall(this.keysByType[type].row(id)));
    for (const hash of hashes) {
      const row = decodeStatusRow(hash);
      if (row !== null) {
        this.remember(id, row.type);
        return row;
      }
    }
    return null;
  }

  private async getMany(type: JobType, ids: readonly string[]): Promise<(StatusRow | null)[]> {
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.keysByType[type].row(id));
    const results = (await pipeline.exec()) ?? [];
    return results.map(([error, hash]) => {
      if (error) throw new StoreError(`reading status rows failed: ${error.message}`, { cause: error });
      return decodeStatusRow(hash as Record<string, string>);
    });
  }

  async findStale(type: JobType, query: FindStaleQuery): Promise<StaleCandidate[]> {
    const keys = this.keysByType[type];
    const reply = (await scripts.run(
      this.redis,
      'find-stale',
      [keys.heartbeatIndex, keys.updateIndex, keys.overrideIndex],
      [
        keys.base,
        query.heartbeatOlderThanMs === null ? '' : query.heartbeatOlderThanMs,
        query.updateOlderThanMs === null ? '' : query.updateOlderThanMs,
        query.limit ?? 1000,
      ],
    )) as (string | number)[];
    const storeNow = Number(reply[0]);
    // Rows come with the candidates, read in the same script as the indexes: one snapshot.
    const candidates: StaleCandidate[] = [];
    for (let i = 1; i + 3 < reply.length; ) {
      const id = String(reply[i]);
      const reason = reply[i + 1] === 'heartbeat_timeout' ? StaleReason.Heartbeat : StaleReason.Update;
      const ageMs = Number(reply[i + 2]);
      const fieldCount = Number(reply[i + 3]);
      const row = rowFromReply(reply.slice(i + 4, i + 4 + fieldCount), id);
      candidates.push({ row, reason, ageMs, storeNow });
      i += 4 + fieldCount;
    }
    return candidates;
  }

  async deferCheck(type: JobType, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const now = await this.now();
    // XX: only rows still in the index (a finished row must not come back).
    await this.redis.zadd(this.keysByType[type].updateIndex, 'XX', ...ids.flatMap((id) => [now, id]));
  }

  async recover(id: string, input: RecoverInput): Promise<RecoverResult> {
    // One compare-and-set script for both: a plain recovery is one that raises no alert.
    const { applied, row } = await this.recoverWithAlert(id, input);
    return { applied, row };
  }

  async recoverWithAlert(id: string, input: RecoverWithAlertInput): Promise<RecoverWithAlertResult> {
    const type = await this.resolveType(id);
    if (type === null) return { applied: false, row: null, incident: null };
    const keys = this.keysByType[type];
    const newFence = `recovery:${input.expectedRestartCount + 1}:${Math.random().toString(36).slice(2, 10)}`;
    const history: HistoryEntryInput = {
      ...input.history,
      event: input.history.event || `recovery:${input.action}`,
    };
    const reply = (await scripts.run(
      this.redis,
      'recover-alert',
      [keys.row(id), keys.heartbeatIndex, keys.updateIndex, keys.overrideIndex, keys.history(id), keys.alertOutbox],
      [
        keys.base,
        id,
        input.expectedFence ?? '',
        input.expectedRestartCount,
        input.action,
        newFence,
        input.error ?? '',
        this.finishedRetentionMs,
        this.maxHistoryEntries,
        stringifyHistory(history),
        input.action === 'fail' ? (input.failureKind ?? '') : '',
        input.alert === undefined ? '' : JSON.stringify(input.alert),
      ],
    )) as [number, string | number, number?];
    const applied = reply[0] === 1;
    const incident = applied && typeof reply[2] === 'number' && reply[2] > 0 ? reply[2] : null;
    return { applied, row: await this.get(id), incident };
  }

  async pendingAlerts(type: JobType, limit = 100): Promise<OutboxAlert[]> {
    const key = this.keysByType[type].alertOutbox;
    const alerts: OutboxAlert[] = [];
    let cursor = '0';
    // HSCAN: the outbox is small (alerts not yet delivered); a long Sentry outage must not block Redis.
    do {
      const [next, flat] = await this.redis.hscan(key, cursor, 'COUNT', Math.max(10, limit));
      cursor = next;
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const entry = decodeOutboxEntry(type, flat[i + 1] as string);
        if (entry !== null) alerts.push(entry);
      }
    } while (cursor !== '0' && alerts.length < limit);
    return alerts.sort((a, b) => a.at - b.at || a.incident - b.incident).slice(0, limit);
  }

  async markAlertSent(type: JobType, jobId: string, incident: number): Promise<boolean> {
    return (await this.redis.hdel(this.keysByType[type].alertOutbox, `${jobId}:${incident}`)) === 1;
  }

  async appendHistory(id: string, entry: HistoryEntryInput): Promise<void> {
    const type = await this.requireType(id);
    await scripts.run(
      this.redis,
      'append-history',
      [this.keysByType[type].history(id)],
      [stringifyHistory(entry), this.maxHistoryEntries],
    );
  }

  async history(id: string, limit = 200): Promise<HistoryEntry[]> {
    const type = await this.resolveType(id);
    if (type === null) return [];
    const lines = await this.redis.lrange(this.keysByType[type].history(id), -limit, -1);
    return lines.map((line) => JSON.parse(line) as HistoryEntry);
  }

  async list(query: ListQuery): Promise<StatusRow[]> {
    const limit = query.limit ?? 50;
    const index = this.keysByType[query.type].stateIndex(query.status);
    const ids =
      query.updatedAfter === undefined
        ? await this.redis.zrevrange(index, 0, limit - 1)
        : await this.redis.zrangebyscore(index, `(${query.updatedAfter}`, '+inf', 'LIMIT', 0, limit);
    const rows = await this.getMany(query.type, ids);
    return rows.filter((row): row is StatusRow => row !== null && row.status === query.status);
  }

  // ----- checkpoints and resume states ---------------------------------------------------------

  private throwForCheckpointCode(code: number, job: JobRef, operation: string): void {
    if (code === -1) throw new JobNotFoundError(job.id);
    if (code === -2) throw new StaleFenceError(job.id, operation);
    if (code === -3) throw new InvalidTransitionError(job.id, `${operation} refused: the job is not running`);
  }

  async saveCheckpoint(job: JobRef, input: SaveCheckpointInput): Promise<Checkpoint> {
    const data = encodeStoredJson(job, input.stage, input.data, this.retention.maxCheckpointBytes);
    const status = this.keysByType[job.type];
    const keys = this.checkpointKeysByType[job.type];
    const reply = (await scripts.run(
      this.redis,
      'save-checkpoint',
      [status.row(job.id), keys.checkpoints(job.id), keys.resumeStates(job.id), status.updateIndex],
      [
        job.id,
        input.stage,
        input.fence,
        data.json,
        data.sha256,
        input.stageIndex,
        input.schemaVersion,
        input.attempt,
        input.progress?.nextStage ?? '',
        input.progress === undefined ? '' : Math.round(input.progress.percent * 100) / 100,
        this.retention.checkpointRetentionMs,
      ],
    )) as [number, number?];
    this.throwForCheckpointCode(reply[0], job, `checkpoint ${input.stage}`);
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
      createdAt: Number(reply[1]),
      bytes: data.bytes,
    };
  }

  async completeWithCheckpoint(job: JobRef, input: FinalCheckpointInput, result: unknown): Promise<void> {
    const data = encodeStoredJson(job, input.stage, input.data, this.retention.maxCheckpointBytes);
    const status = this.keysByType[job.type];
    const keys = this.checkpointKeysByType[job.type];
    const reply = (await scripts.run(
      this.redis,
      'complete-with-checkpoint',
      [
        status.row(job.id),
        keys.checkpoints(job.id),
        keys.resumeStates(job.id),
        status.heartbeatIndex,
        status.updateIndex,
        status.overrideIndex,
        status.history(job.id),
      ],
      [
        status.base,
        job.id,
        input.stage,
        input.fence,
        data.json,
        data.sha256,
        input.stageIndex,
        input.schemaVersion,
        input.attempt,
        this.retention.checkpointRetentionMs,
        JSON.stringify(result ?? null),
        this.finishedRetentionMs,
        this.maxHistoryEntries,
      ],
    )) as [number, number?];
    this.throwForCheckpointCode(reply[0], job, `completing with checkpoint ${input.stage}`);
    this.typeCache.delete(job.id);
  }

  async saveResumeState(job: JobRef, input: SaveResumeStateInput): Promise<void> {
    const state = encodeStoredJson(job, input.stage, input.state, this.retention.maxCheckpointBytes);
    const status = this.keysByType[job.type];
    const reply = (await scripts.run(
      this.redis,
      'save-resume',
      [status.row(job.id), this.checkpointKeysByType[job.type].resumeStates(job.id), status.updateIndex],
      [job.id, input.stage, input.fence, state.json, input.attempt, this.retention.checkpointRetentionMs],
    )) as [number, number?];
    this.throwForCheckpointCode(reply[0], job, `resume state of ${input.stage}`);
  }

  async loadResumeState(job: JobRef, stage: string): Promise<ResumeState | null> {
    const raw = await this.redis.hget(this.checkpointKeysByType[job.type].resumeStates(job.id), stage);
    if (raw === null) return null;
    try {
      const parsed = JSON.parse(raw) as Omit<ResumeState, 'stage'>;
      return { stage, ...parsed };
    } catch (error) {
      throw new StoreError(`resume state of ${job.id}/${stage} is not valid JSON`, { cause: error, retryable: false });
    }
  }

  async listCheckpoints(job: JobRef): Promise<Checkpoint[]> {
    const hash = await this.redis.hgetall(this.checkpointKeysByType[job.type].checkpoints(job.id));
    const checkpoints: Checkpoint[] = [];
    for (const [field, metaJson] of Object.entries(hash)) {
      if (field.endsWith('#data')) continue;
      const dataJson = hash[`${field}#data`] ?? '';
      let meta: StoredMeta;
      try {
        meta = JSON.parse(metaJson) as StoredMeta;
      } catch (error) {
        throw new StoreError(`checkpoint metadata of ${job.id}/${field} is not valid JSON`, { cause: error, retryable: false });
      }
      let data: unknown = null;
      try {
        data = JSON.parse(dataJson);
      } catch {
        // Left for validation to report as unreadable / hash mismatch.
      }
      checkpoints.push({ jobId: job.id, stage: field, data, dataJson, ...meta });
    }
    return checkpoints.sort((a, b) => a.stageIndex - b.stageIndex);
  }

  async clearCheckpoints(job: JobRef): Promise<void> {
    const keys = this.checkpointKeysByType[job.type];
    await this.redis.unlink(keys.checkpoints(job.id), keys.resumeStates(job.id));
  }

  async expireCheckpoints(job: JobRef): Promise<void> {
    const keys = this.checkpointKeysByType[job.type];
    // Plain commands, not a pipeline object: building one copies every script command defined
    // on the connection, which costs more than the two commands themselves.
    await Promise.all([
      this.redis.pexpire(keys.checkpoints(job.id), this.retention.checkpointRetentionMs),
      this.redis.pexpire(keys.resumeStates(job.id), this.retention.checkpointRetentionMs),
    ]);
  }

  /**
   * The linked `background_jobs` row `backgroundJobId` of a scraping session or import, or null
   * (none linked, or expired with its finished row after the retention). Kept under the queue
   * of the job it follows; if a session and an import both link the same id, the one updated
   * last is returned (Supabase keeps one row, last writer wins).
   */
  async linkedJob(backgroundJobId: string): Promise<LinkedJobRow | null> {
    const linkTypes = JOB_TYPES.filter((type) => type !== 'pdf');
    const hashes = await Promise.all(
      linkTypes.map((type) => this.redis.hgetall(this.keysByType[type].backgroundJob(backgroundJobId))),
    ).catch((error: unknown) => {
      throw new StoreError(`reading background_jobs row ${backgroundJobId} failed: ${toError(error).message}`, {
        cause: error,
      });
    });
    const rows = hashes.map(decodeLinkedJobRow).filter((row): row is LinkedJobRow => row !== null);
    return rows.sort((a, b) => b.updatedAt - a.updatedAt)[0] ?? null;
  }

  async close(): Promise<void> {
    // The connection belongs to the caller.
  }
}
