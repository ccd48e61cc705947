import { randomUUID } from 'node:crypto';
import { Queue, type Job, type JobState } from 'bullmq';
import { z } from 'zod';
import {
  jobCatalog,
  JobStatus,
  ThresholdOverridesSchema,
  type JobType,
  type Payload,
  type PayloadInput,
  type Result,
} from '../catalog/index.js';
import { refsOfPayload } from '../catalog/refs.js';
import { systemClock, type Clock } from '../clock.js';
import { RedisConnectionOptionsSchema, maskRedisUrl } from '../config.js';
import { closeRedis, ConnectionRole, createRedisConnection, waitForRedis, type RedisClient } from '../connection.js';
import {
  InvalidTransitionError,
  JobFailedError,
  RedisUnreachableError,
  TimeoutError,
  toError,
  ValidationError,
  type FieldIssue,
} from '../errors.js';
import { internalFieldIssues, registerInternalEnqueue } from '../internal-fields.js';
import { bullJobOptions } from '../job-options.js';
import { bullPrefix } from '../keys.js';
import { silentLogger, type Logger } from '../logger.js';
import { AbortAction, publishAbortRequest } from '../abort-requests.js';
import { RedisJobStore } from '../store/redis-job-store.js';
import { decideCancel, RecoveryAction } from '../recovery/recovery-decision.js';
import { executeRecoveryDecision, recoverySnapshotOf } from '../recovery/recovery-executor.js';
import type { CreateStatusInput, StatusRow, StatusStore } from '../status/types.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, jsonByteLength, parseOrThrow, validatePayload, zodIssuesToFieldIssues } from '../validation.js';
import { assertJobType } from '../validation.js';

/** Options of {@link createJobClient}. */
export const JobClientOptionsSchema = z
  .object({
    /** Redis URL, key prefix and connect timeout. */
    redis: RedisConnectionOptionsSchema.prefault({}),
    /** Reuse an existing producer connection instead of opening one (not closed by the client). */
    connection: z.custom<RedisClient>((v) => typeof v === 'object' && v !== null).optional(),
    /** The job store (its status part is all the client uses); default: the Redis job store on the client's connection. */
    statusStore: z.custom<StatusStore>((v) => typeof v === 'object' && v !== null).optional(),
    /** Largest payload accepted, as UTF-8 JSON (bytes). Default 1 MiB. */
    maxPayloadBytes: z.number().int().positive().default(DEFAULT_MAX_PAYLOAD_BYTES),
    /**
     * How long BullMQ keeps the jobs this client adds once they finished (ms; `KAI_RETENTION_BULLMQ_*`).
     * Default: completed 1 day, failed 7 days (and at most 10 000 / 50 000 of them).
     */
    finishedJobs: z
      .object({ completedMs: z.number().int().min(1000).optional(), failedMs: z.number().int().min(1000).optional() })
      .strict()
      .optional(),
    /** Poll interval of {@link JobClient.waitForResult} (ms). Default 200. */
    waitPollIntervalMs: z.number().int().positive().default(200),
    logger: z.custom<Logger>((v) => typeof v === 'object' && v !== null).optional(),
    clock: z.custom<Clock>((v) => typeof v === 'object' && v !== null).optional(),
  })
  .strict();
/** What callers pass to {@link createJobClient}. */
export type JobClientOptions = z.input<typeof JobClientOptionsSchema>;

/** Per-job enqueue options. */
export const EnqueueOptionsSchema = z
  .object({
    /** The same key twice (per job type) returns the same job and creates no second row. */
    idempotencyKey: z.string().min(1).max(200).optional(),
    /** BullMQ priority: 1 is the highest; unset runs before every prioritised job. */
    priority: z.number().int().min(1).max(2_097_152).optional(),
    /** Run no earlier than this many ms from now. */
    delayMs: z.number().int().min(0).max(365 * 24 * 60 * 60 * 1000).optional(),
    /** Use this job id instead of a random uuid (no ":"; not an integer, as BullMQ requires). */
    jobId: z
      .string()
      .min(1)
      .max(200)
      .refine((id) => !id.includes(':'), { message: 'must not contain ":"' })
      .refine((id) => !/^\d+$/.test(id), { message: 'must not be an integer (BullMQ reserves those)' })
      .optional(),
    /** Per-job monitor thresholds (a canary needs seconds). */
    thresholds: ThresholdOverridesSchema.optional(),
  })
  .strict();
/** Per-job enqueue options. */
export type EnqueueOptions = z.input<typeof EnqueueOptionsSchema>;

/** What {@link JobClient.enqueue} returns. */
export interface EnqueuedJob<T extends JobType = JobType> {
  id: string;
  type: T;
  /** False when the id or idempotency key already existed: nothing new was enqueued. */
  created: boolean;
}

/** The BullMQ side of a job's status. */
export interface BullJobView {
  /** BullMQ's state, or `missing` when BullMQ has no such job (trimmed after finishing, or lost). */
  state: JobState | 'unknown' | 'missing';
  attemptsMade: number;
  attemptsStarted: number;
  failedReason: string | null;
  /** Lock holder's token while active (`<workerId>:<n>` style), else null. */
  processedBy: string | null;
}

/** A job's merged status: the status row and BullMQ's view. */
export interface JobStatusView {
  row: StatusRow;
  bullmq: BullJobView;
}

/** How often a cancel reads, decides and tries its compare-and-set before giving up on a row that keeps moving. */
const MAX_CANCEL_ROUNDS = 5;

/** Outcome of {@link JobClient.cancel}. */
export interface CancelOutcome {
  /** True when this call cancelled the job; false when it had already finished. */
  cancelled: boolean;
  /** The status before the call. */
  previousStatus: JobStatus | null;
  /** True when a running attempt was asked to stop. */
  abortRequested: boolean;
}

/** The typed producer client. */
export interface JobClient {
  /** Validates and enqueues one job with its `pending` status row. */
  enqueue<T extends JobType>(type: T, payload: PayloadInput<T>, options?: EnqueueOptions): Promise<EnqueuedJob<T>>;
  /** Validates every item first (nothing is enqueued if one is bad), then enqueues all in bulk. */
  enqueueBulk<T extends JobType>(
    type: T,
    items: readonly { payload: PayloadInput<T>; options?: EnqueueOptions }[],
  ): Promise<EnqueuedJob<T>[]>;
  /** The status row merged with BullMQ's state, or null if there is no such job. */
  getStatus(id: string): Promise<JobStatusView | null>;
  /** Cancels a job: removed if waiting, asked to stop if running; its row becomes `failed`. */
  cancel(id: string, reason?: string): Promise<CancelOutcome>;
  /** Waits until the job finishes; resolves with its result or rejects with {@link JobFailedError}. */
  waitForResult<T extends JobType = JobType>(id: string, options?: { timeoutMs?: number }): Promise<Result<T>>;
  /** The BullMQ queue of `type` (for tools such as Bull Board). */
  queue(type: JobType): Queue;
  /** The status store in use. */
  readonly statusStore: StatusStore;
  /** Closes queues and, if the client opened it, the connection. */
  close(): Promise<void>;
}

interface PreparedJob<T extends JobType> {
  input: CreateStatusInput;
  payload: Payload<T>;
  options: z.output<typeof EnqueueOptionsSchema>;
}

/**
 * Creates the producer client. Throws `ConfigError` at once for a malformed Redis URL; an
 * unreachable Redis surfaces as {@link RedisUnreachableError} (naming the URL) from the
 * first call, within `redis.connectTimeoutMs`.
 */
export function createJobClient(options: JobClientOptions = {}): JobClient {
  const parsed = parseOrThrow(JobClientOptionsSchema, options, 'job client options');
  const redisOptions = RedisConnectionOptionsSchema.parse(parsed.redis);
  // Parse the URL now: a malformed REDIS_URL is refused at start, not at first use.
  const ownsConnection = parsed.connection === undefined;
  const connection =
    parsed.connection ?? createRedisConnection(redisOptions, { role: ConnectionRole.Producer, connectionName: 'kai-producer' });
  // An unreachable Redis is reported by the first call; swallow the connection's own error events.
  if (ownsConnection) connection.on('error', () => undefined);
  const logger = parsed.logger ?? silentLogger;
  const clock = parsed.clock ?? systemClock;
  const statusStore = parsed.statusStore ?? new RedisJobStore({ connection, prefix: redisOptions.prefix });
  const queues = new Map<JobType, Queue>();
  let ready: Promise<void> | undefined;

  const ensureReady = async (): Promise<void> => {
    ready ??= waitForRedis(connection, redisOptions.url, redisOptions.connectTimeoutMs).catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
    await ready;
  };

  /** Runs a Redis operation; a connection failure becomes an error naming the URL. */
  const withRedis = async <R>(operation: () => Promise<R>): Promise<R> => {
    await ensureReady();
    try {
      return await operation();
    } catch (error: unknown) {
      const normalised = toError(error);
      if (/Stream isn't writeable|Connection is closed|ECONNREFUSED|max retries/i.test(normalised.message)) {
        throw new RedisUnreachableError(maskRedisUrl(redisOptions.url), normalised.message, { cause: normalised });
      }
      throw normalised;
    }
  };

  const queueOf = (type: JobType): Queue => {
    let queue = queues.get(type);
    if (queue === undefined) {
      const { queueName } = jobCatalog[type];
      queue = new Queue(queueName, { connection, prefix: bullPrefix(redisOptions.prefix, queueName) });
      queue.on('error', (error) => logger.warn('queue connection error', { queue: queueName, error: error.message }));
      queues.set(type, queue);
    }
    return queue;
  };

  const prepare = <T extends JobType>(
    type: T,
    payload: unknown,
    rawOptions: unknown,
    pathPrefix: readonly PropertyKey[],
    allowInternalFields = false,
  ): { job?: PreparedJob<T>; issues: FieldIssue[] } => {
    const issues: FieldIssue[] = [];
    const prefix = [...pathPrefix, 'payload'].map((p) => (typeof p === 'number' ? `[${p}]` : String(p)));
    const prefixText = prefix.join('.').replace(/\.\[/g, '[');
    const addPayloadIssues = (payloadIssues: readonly FieldIssue[]): void => {
      for (const issue of payloadIssues) {
        issues.push({ ...issue, path: issue.path === '' ? prefixText : `${prefixText}.${issue.path}` });
      }
    };
    let validPayload: Payload<T> | undefined;
    try {
      validPayload = validatePayload(type, payload, parsed.maxPayloadBytes);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      addPayloadIssues(error.issues);
    }
    // Fields only kai-jobs sets (the drill switch): refused from every public enqueue.
    const internalIssues = allowInternalFields ? [] : internalFieldIssues(type, payload);
    if (internalIssues.length > 0) {
      addPayloadIssues(internalIssues);
      validPayload = undefined;
    }
    const optionsResult = EnqueueOptionsSchema.safeParse(rawOptions ?? {});
    if (!optionsResult.success) {
      issues.push(...zodIssuesToFieldIssues(optionsResult.error, rawOptions, [...pathPrefix, 'options']));
    }
    if (validPayload === undefined || !optionsResult.success) return { issues };
    const enqueueOptions = optionsResult.data;
    const input: CreateStatusInput = {
      id: enqueueOptions.jobId ?? randomUUID(),
      type,
      payload: validPayload,
      refs: refsOfPayload(type, validPayload),
    };
    if (enqueueOptions.idempotencyKey !== undefined) input.idempotencyKey = enqueueOptions.idempotencyKey;
    if (enqueueOptions.thresholds?.heartbeatTimeoutMs !== undefined) {
      input.heartbeatTimeoutMs = enqueueOptions.thresholds.heartbeatTimeoutMs;
    }
    if (enqueueOptions.thresholds?.updateTimeoutMs !== undefined) {
      input.updateTimeoutMs = enqueueOptions.thresholds.updateTimeoutMs;
    }
    return { job: { input, payload: validPayload, options: enqueueOptions }, issues };
  };

  const addToBullmq = async <T extends JobType>(
    type: T,
    jobs: readonly { row: StatusRow; job: PreparedJob<T> }[],
  ): Promise<void> => {
    // A row that already existed and is no longer pending has run: never add it again.
    const toAdd = jobs.filter(({ row }) => row.status === JobStatus.Pending);
    if (toAdd.length === 0) return;
    const queue = queueOf(type);
    const entries = toAdd.map(({ row, job }) => ({
      name: type,
      // The row's payload: for an idempotent repeat it is the first call's payload.
      data: row.payload as Payload<T>,
      opts: bullJobOptions(type, row.id, {
        ...(parsed.finishedJobs === undefined ? {} : { keep: parsed.finishedJobs }),
        ...(job.options.priority === undefined ? {} : { priority: job.options.priority }),
        ...(job.options.delayMs === undefined ? {} : { delayMs: job.options.delayMs }),
      }),
    }));
    try {
      if (entries.length === 1) {
        const [entry] = entries as [(typeof entries)[number]];
        await queue.add(entry.name, entry.data, entry.opts);
      } else {
        await queue.addBulk(entries);
      }
    } catch (error) {
      // The rows stay `pending`: the monitor re-adds a pending row whose BullMQ job is
      // missing (see repairPendingWithoutJob), and a retry with the same idempotency key does too.
      logger.error('adding BullMQ jobs failed after their status rows were created', {
        type,
        jobIds: toAdd.map(({ row }) => row.id),
        error: toError(error).message,
      });
      throw error;
    }
  };

  const enqueueOne = async <T extends JobType>(
    type: T,
    payload: unknown,
    enqueueOptions: unknown,
    allowInternalFields: boolean,
  ): Promise<EnqueuedJob<T>> => {
    assertJobType(type);
    const { job, issues } = prepare(type, payload, enqueueOptions, [], allowInternalFields);
    if (job === undefined) throw new ValidationError(`${type} job`, issues);
    return withRedis(async () => {
      const { row, created } = await statusStore.create(job.input);
      await addToBullmq(type, [{ row, job }]);
      logger.debug('job enqueued', { type, jobId: row.id, created });
      return { id: row.id, type, created };
    });
  };

  const client: JobClient = {
    statusStore,

    enqueue(type, payload, enqueueOptions) {
      return enqueueOne(type, payload, enqueueOptions, false);
    },

    async enqueueBulk(type, items) {
      assertJobType(type);
      const prepared: PreparedJob<typeof type>[] = [];
      const issues: FieldIssue[] = [];
      for (const [index, item] of items.entries()) {
        const result = prepare(type, item?.payload, item?.options, [index]);
        issues.push(...result.issues);
        if (result.job !== undefined) prepared.push(result.job);
      }
      if (issues.length > 0) throw new ValidationError(`${type} bulk enqueue`, issues);
      const totalBytes = jsonByteLength(prepared.map((p) => p.payload));
      logger.debug('bulk enqueue', { type, jobs: prepared.length, bytes: totalBytes });
      return withRedis(async () => {
        const created = await statusStore.createMany(prepared.map((p) => p.input));
        await addToBullmq(
          type,
          created.map((outcome, index) => ({ row: outcome.row, job: prepared[index] as PreparedJob<typeof type> })),
        );
        return created.map((outcome) => ({ id: outcome.row.id, type, created: outcome.created }));
      });
    },

    async getStatus(id) {
      return withRedis(async () => {
        const row = await statusStore.get(id);
        if (row === null) return null;
        const job = (await queueOf(row.type).getJob(id)) as Job | undefined;
        if (job === undefined || job === null) {
          return {
            row,
            bullmq: { state: 'missing', attemptsMade: 0, attemptsStarted: 0, failedReason: null, processedBy: null },
          };
        }
        return {
          row,
          bullmq: {
            state: await job.getState(),
            attemptsMade: job.attemptsMade,
            attemptsStarted: job.attemptsStarted,
            failedReason: job.failedReason ?? null,
            processedBy: job.processedBy ?? null,
          },
        };
      });
    },

    async cancel(id, reason = 'cancelled by producer') {
      return withRedis(async () => {
        // The shared rule (decideCancel) on the row as read, applied by the one executor's
        // compare-and-set: a row that moved in between (a claim, a restart) is read and judged
        // again, so a cancel never writes over a transition it did not see.
        for (let round = 1; ; round += 1) {
          const before = await statusStore.get(id);
          if (before === null) return { cancelled: false, previousStatus: null, abortRequested: false };
          const decision = decideCancel(recoverySnapshotOf(before, before.type));
          if (decision.action !== RecoveryAction.Fail) return { cancelled: false, previousStatus: before.status, abortRequested: false };
          const outcome = await executeRecoveryDecision(statusStore, before, decision, {
            error: `cancelled: ${reason}`,
            history: { event: 'cancelled', reason },
          });
          if (!outcome.applied) {
            if (round >= MAX_CANCEL_ROUNDS) throw new InvalidTransitionError(id, `cancel refused: the job kept changing (${round} tries)`);
            continue;
          }
          const job = await queueOf(before.type).getJob(id);
          let abortRequested = false;
          if (job) {
            const state = await job.getState();
            if (state === 'active') {
              await publishAbortRequest(connection, redisOptions.prefix, { jobId: id, action: AbortAction.Cancel, reason });
              abortRequested = true;
            } else if (state !== 'completed' && state !== 'failed') {
              await job.remove();
            }
          }
          logger.info('job cancelled', { jobId: id, reason, previousStatus: before.status });
          return { cancelled: true, previousStatus: before.status, abortRequested };
        }
      });
    },

    async waitForResult<T extends JobType = JobType>(id: string, waitOptions: { timeoutMs?: number } = {}) {
      const timeoutMs = waitOptions.timeoutMs ?? 60_000;
      const deadline = clock.now() + timeoutMs;
      for (;;) {
        const row = await withRedis(() => statusStore.get(id));
        if (row === null) throw new JobFailedError(id, 'no such job', null);
        if (row.status === JobStatus.Completed) return row.result as Result<T>;
        if (row.status === JobStatus.Failed) throw new JobFailedError(id, row.error ?? 'unknown error', row.errorStage);
        if (clock.now() >= deadline) {
          throw new TimeoutError(`job ${id} did not finish within ${timeoutMs} ms (status ${row.status})`);
        }
        await clock.sleep(Math.min(parsed.waitPollIntervalMs, Math.max(1, deadline - clock.now())));
      }
    },

    queue: queueOf,

    async close() {
      await Promise.all([...queues.values()].map((queue) => queue.close()));
      queues.clear();
      if (ownsConnection) await closeRedis(connection);
    },
  };
  registerInternalEnqueue(client, (type, payload, options) => enqueueOne(type, payload, options, true));
  return client;
}
