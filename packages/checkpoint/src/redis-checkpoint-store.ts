import { z } from 'zod';
import {
  DEFAULT_FINISHED_RETENTION_MS,
  DEFAULT_KEY_PREFIX,
  DEFAULT_MAX_HISTORY_ENTRIES,
  InvalidTransitionError,
  JobNotFoundError,
  KeyPrefixSchema,
  loadLuaScripts,
  QUEUE_LUA_INCLUDES_URL,
  ScriptSet,
  StaleFenceError,
  StoreError,
  statusKeys,
  type RedisClient,
} from '@kai-jobs/queue';
import { CheckpointTooLargeError } from './errors.js';
import { checkpointKeys } from './keys.js';
import type {
  Checkpoint,
  CheckpointStore,
  CheckpointValidation,
  JobRef,
  ResumeState,
  SaveCheckpointInput,
  SaveResumeStateInput,
  StageSpec,
} from './types.js';
import { checkpointSha256, validateCheckpoints } from './validation.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Default largest checkpoint: 256 KiB of JSON. */
export const DEFAULT_MAX_CHECKPOINT_BYTES = 256 * 1024;

/** Options of {@link RedisCheckpointStore}. */
export const RedisCheckpointStoreOptionsSchema = z
  .object({
    /** The connection to use; the store does not close it. Must be the status store's Redis. */
    connection: z.custom<RedisClient>((value) => typeof value === 'object' && value !== null, {
      message: 'expected an ioredis connection',
    }),
    /** Key prefix; the same as the status store's. Default `kai`. */
    prefix: KeyPrefixSchema.default(DEFAULT_KEY_PREFIX),
    /** Largest checkpoint data, as UTF-8 JSON (bytes). Default 256 KiB. */
    maxCheckpointBytes: z.number().int().positive().default(DEFAULT_MAX_CHECKPOINT_BYTES),
    /** How long checkpoints are kept after the job finishes (ms). Default 7 days. */
    retentionMs: z.number().int().positive().default(7 * DAY_MS),
    /** The status store's `finishedRetentionMs` (used by `saveAndComplete`). Default 7 days. */
    finishedRetentionMs: z.number().int().positive().default(DEFAULT_FINISHED_RETENTION_MS),
    /** The status store's `maxHistoryEntries` (used by `saveAndComplete`). Default 200. */
    maxHistoryEntries: z.number().int().min(10).max(10_000).default(DEFAULT_MAX_HISTORY_ENTRIES),
  })
  .strict();
/** What callers pass to construct a {@link RedisCheckpointStore}. */
export type RedisCheckpointStoreOptions = z.input<typeof RedisCheckpointStoreOptionsSchema>;

const scripts = new ScriptSet('kaiCheckpoint', loadLuaScripts(new URL('./lua/', import.meta.url), [QUEUE_LUA_INCLUDES_URL]));

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
 * The Redis adapter of {@link CheckpointStore}. Checkpoints live beside the Redis status
 * rows (same prefix, same `{queue}` hash tag): a save checks the row's fence and records
 * the status progress in one Lua script, so a stage costs one round trip. Every save
 * (re)arms the retention TTL, so checkpoints expire `retentionMs` after the job's last
 * save — in practice after it finished — even when `expire` is never called.
 */
export class RedisCheckpointStore implements CheckpointStore {
  private readonly redis: RedisClient;
  private readonly prefix: string;
  private readonly maxCheckpointBytes: number;
  private readonly retentionMs: number;
  private readonly finishedRetentionMs: number;
  private readonly maxHistoryEntries: number;

  constructor(options: RedisCheckpointStoreOptions) {
    const parsed = RedisCheckpointStoreOptionsSchema.parse(options);
    this.redis = parsed.connection;
    this.prefix = parsed.prefix;
    this.maxCheckpointBytes = parsed.maxCheckpointBytes;
    this.retentionMs = parsed.retentionMs;
    this.finishedRetentionMs = parsed.finishedRetentionMs;
    this.maxHistoryEntries = parsed.maxHistoryEntries;
  }

  private throwForCode(code: number, job: JobRef, operation: string): void {
    if (code === -1) throw new JobNotFoundError(job.id);
    if (code === -2) throw new StaleFenceError(job.id, operation);
    if (code === -3) throw new InvalidTransitionError(job.id, `${operation} refused: the job is not running`);
  }

  async save(job: JobRef, input: SaveCheckpointInput): Promise<Checkpoint> {
    const dataJson = JSON.stringify(input.data ?? null);
    const bytes = Buffer.byteLength(dataJson, 'utf8');
    if (bytes > this.maxCheckpointBytes) throw new CheckpointTooLargeError(job.id, input.stage, bytes, this.maxCheckpointBytes);
    const sha256 = checkpointSha256(dataJson);
    const status = statusKeys(this.prefix, job.type);
    const keys = checkpointKeys(this.prefix, job.type);
    const reply = (await scripts.run(
      this.redis,
      'save',
      [status.row(job.id), keys.checkpoints(job.id), keys.resumeStates(job.id), status.updateIndex],
      [
        job.id,
        input.stage,
        input.fence,
        dataJson,
        sha256,
        input.stageIndex,
        input.schemaVersion,
        input.attempt,
        input.progress?.nextStage ?? '',
        input.progress === undefined ? '' : Math.round(input.progress.percent * 100) / 100,
        this.retentionMs,
      ],
    )) as [number, number?];
    this.throwForCode(reply[0], job, `checkpoint ${input.stage}`);
    return {
      jobId: job.id,
      stage: input.stage,
      stageIndex: input.stageIndex,
      data: input.data,
      dataJson,
      sha256,
      schemaVersion: input.schemaVersion,
      attempt: input.attempt,
      fence: input.fence,
      createdAt: Number(reply[1]),
      bytes,
    };
  }

  async saveAndComplete(job: JobRef, input: Omit<SaveCheckpointInput, 'progress'>, result: unknown): Promise<void> {
    const dataJson = JSON.stringify(input.data ?? null);
    const bytes = Buffer.byteLength(dataJson, 'utf8');
    if (bytes > this.maxCheckpointBytes) throw new CheckpointTooLargeError(job.id, input.stage, bytes, this.maxCheckpointBytes);
    const status = statusKeys(this.prefix, job.type);
    const keys = checkpointKeys(this.prefix, job.type);
    const reply = (await scripts.run(
      this.redis,
      'save-and-complete',
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
        dataJson,
        checkpointSha256(dataJson),
        input.stageIndex,
        input.schemaVersion,
        input.attempt,
        this.retentionMs,
        JSON.stringify(result ?? null),
        this.finishedRetentionMs,
        this.maxHistoryEntries,
      ],
    )) as [number, number?];
    this.throwForCode(reply[0], job, `completing with checkpoint ${input.stage}`);
  }

  async saveResumeState(job: JobRef, input: SaveResumeStateInput): Promise<void> {
    const stateJson = JSON.stringify(input.state ?? null);
    const bytes = Buffer.byteLength(stateJson, 'utf8');
    if (bytes > this.maxCheckpointBytes) throw new CheckpointTooLargeError(job.id, input.stage, bytes, this.maxCheckpointBytes);
    const status = statusKeys(this.prefix, job.type);
    const reply = (await scripts.run(
      this.redis,
      'save-resume',
      [status.row(job.id), checkpointKeys(this.prefix, job.type).resumeStates(job.id), status.updateIndex],
      [job.id, input.stage, input.fence, stateJson, input.attempt, this.retentionMs],
    )) as [number, number?];
    this.throwForCode(reply[0], job, `resume state of ${input.stage}`);
  }

  async loadResumeState(job: JobRef, stage: string): Promise<ResumeState | null> {
    const raw = await this.redis.hget(checkpointKeys(this.prefix, job.type).resumeStates(job.id), stage);
    if (raw === null) return null;
    try {
      const parsed = JSON.parse(raw) as Omit<ResumeState, 'stage'>;
      return { stage, ...parsed };
    } catch (error) {
      throw new StoreError(`resume state of ${job.id}/${stage} is not valid JSON`, { cause: error, retryable: false });
    }
  }

  async list(job: JobRef): Promise<Checkpoint[]> {
    const hash = await this.redis.hgetall(checkpointKeys(this.prefix, job.type).checkpoints(job.id));
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

  async latestValid(job: JobRef, stages: readonly StageSpec[]): Promise<CheckpointValidation> {
    return validateCheckpoints(await this.list(job), stages);
  }

  async clear(job: JobRef): Promise<void> {
    const keys = checkpointKeys(this.prefix, job.type);
    await this.redis.unlink(keys.checkpoints(job.id), keys.resumeStates(job.id));
  }

  async expire(job: JobRef): Promise<void> {
    const keys = checkpointKeys(this.prefix, job.type);
    // Plain commands, not a pipeline object: building one copies every script command defined
    // on the connection, which costs more than the two commands themselves.
    await Promise.all([
      this.redis.pexpire(keys.checkpoints(job.id), this.retentionMs),
      this.redis.pexpire(keys.resumeStates(job.id), this.retentionMs),
    ]);
  }

  async close(): Promise<void> {
    // The connection belongs to the caller.
  }
}
