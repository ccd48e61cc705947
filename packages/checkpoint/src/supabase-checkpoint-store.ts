import { z } from 'zod';
import {
  parseOrThrow,
  silentLogger,
  StoreError,
  SupabaseConnectionOptionsSchema,
  SupabaseRpcClient,
  ValidationError,
  type Logger,
} from '@kai-jobs/queue';
import { CheckpointTooLargeError } from './errors.js';
import { DEFAULT_MAX_CHECKPOINT_BYTES } from './redis-checkpoint-store.js';
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

/** Options of {@link SupabaseCheckpointStore}: the connection (url, serviceRoleKey, schema, requestTimeoutMs, logger) and limits. */
export const SupabaseCheckpointStoreOptionsSchema = SupabaseConnectionOptionsSchema.extend({
  /** Largest checkpoint data or resume state, as UTF-8 JSON (bytes). Default 256 KiB. */
  maxCheckpointBytes: z.number().int().positive().default(DEFAULT_MAX_CHECKPOINT_BYTES),
  /** How long checkpoints are kept after the job finishes (ms). Default 7 days. */
  retentionMs: z.number().int().positive().default(7 * DAY_MS),
}).strict();
/** What callers pass to construct a {@link SupabaseCheckpointStore}. */
export type SupabaseCheckpointStoreOptions = z.input<typeof SupabaseCheckpointStoreOptionsSchema>;

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

function checkPercent(job: JobRef, percent: number): void {
  // JSON has no NaN or Infinity: they would arrive as null and silently skip the progress write.
  if (!Number.isFinite(percent)) {
    throw new ValidationError(`checkpoint progress of job ${job.id}`, [
      { path: 'progress.percent', message: 'expected a number from 0 to 100', received: String(percent) },
    ]);
  }
}

/**
 * The Supabase adapter of {@link CheckpointStore}: the `job_checkpoints` table, written only
 * through the SQL functions of `supabase/migrations` with supabase-js `.rpc()`. Every write
 * locks the job's status row and compares its fence in the same transaction, so a superseded
 * attempt cannot write a resume point; `save` records the status progress and
 * `saveAndComplete` completes the job in that transaction too — one round trip per stage, as
 * with Redis. The data is stored as the exact JSON text that was hashed (a `text` column, not
 * `jsonb`, which would not give the same text back), so validation re-hashes what it reads.
 * Passes the same contract suite as {@link RedisCheckpointStore}.
 */
export class SupabaseCheckpointStore implements CheckpointStore {
  private readonly client: SupabaseRpcClient;
  private readonly maxCheckpointBytes: number;
  private readonly retentionMs: number;
  private readonly logger: Logger;

  constructor(options: SupabaseCheckpointStoreOptions) {
    const parsed = parseOrThrow(SupabaseCheckpointStoreOptionsSchema, options, 'Supabase checkpoint store options');
    const { maxCheckpointBytes, retentionMs, ...connection } = parsed;
    this.maxCheckpointBytes = maxCheckpointBytes;
    this.retentionMs = retentionMs;
    this.logger = (parsed.logger ?? silentLogger).child({ component: 'supabase-checkpoint-store' });
    this.client = new SupabaseRpcClient(connection, 'supabase-checkpoint-store');
  }

  /** The JSON text to store, its size and hash; refuses data over the limit. */
  private encode(job: JobRef, stage: string, value: unknown): { json: string; bytes: number; sha256: string } {
    const json = JSON.stringify(value ?? null);
    const bytes = Buffer.byteLength(json, 'utf8');
    if (bytes > this.maxCheckpointBytes) throw new CheckpointTooLargeError(job.id, stage, bytes, this.maxCheckpointBytes);
    return { json, bytes, sha256: checkpointSha256(json) };
  }

  private checkpointArgs(job: JobRef, input: Omit<SaveCheckpointInput, 'progress'>, data: { json: string; sha256: string }) {
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

  async save(job: JobRef, input: SaveCheckpointInput): Promise<Checkpoint> {
    const data = this.encode(job, input.stage, input.data);
    if (input.progress !== undefined) checkPercent(job, input.progress.percent);
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

  async saveAndComplete(job: JobRef, input: Omit<SaveCheckpointInput, 'progress'>, result: unknown): Promise<void> {
    const data = this.encode(job, input.stage, input.data);
    await this.client.call(
      'kai_save_checkpoint_and_complete',
      { ...this.checkpointArgs(job, input, data), p_result: result ?? null, p_retention_ms: this.retentionMs },
      { operation: `completing with checkpoint ${input.stage}`, jobId: job.id },
    );
  }

  async saveResumeState(job: JobRef, input: SaveResumeStateInput): Promise<void> {
    const state = this.encode(job, input.stage, input.state);
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

  async list(job: JobRef): Promise<Checkpoint[]> {
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

  async latestValid(job: JobRef, stages: readonly StageSpec[]): Promise<CheckpointValidation> {
    return validateCheckpoints(await this.list(job), stages);
  }

  async clear(job: JobRef): Promise<void> {
    await this.client.call('kai_clear_checkpoints', { p_job_id: job.id }, { operation: 'clear', jobId: job.id });
  }

  async expire(job: JobRef): Promise<void> {
    await this.client.call('kai_expire_checkpoints', { p_job_id: job.id, p_retention_ms: this.retentionMs }, {
      operation: 'expire',
      jobId: job.id,
    });
  }

  /**
   * Retention (not part of {@link CheckpointStore}): deletes up to `limit` expired checkpoints
   * and resume states. `kai_purge_finished` (the status store's daily purge) does this too.
   */
  async purgeExpired(limit = 10_000): Promise<number> {
    const reply = await this.client.call('kai_purge_expired_checkpoints', { p_limit: limit }, { operation: 'purgeExpired' });
    return decode(z.number().int(), reply, 'kai_purge_expired_checkpoints');
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
