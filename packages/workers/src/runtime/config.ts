import { z } from 'zod';
import type { AttemptTracer } from '../tracing/attempt-tracing.js';
import { BackoffPolicySchema } from '@kai-jobs/checkpoint';
import { JOB_TYPES, RedisConnectionOptionsSchema, StoreRetentionSchema, type Clock, type Logger, type JobStore, type MetricsRecorder } from '@kai-jobs/queue';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import { ArtifactSweepOptionsSchema } from '../artifacts/artifact-sweeper.js';
import type { StagedJobDefinition } from '../staged-job.js';
import { OutageToleranceSettingSchema } from './outage-tolerance.js';

const custom = <T>(what: string) =>
  z.custom<T>((value) => typeof value === 'object' && value !== null, { message: `expected ${what}` });

/** The smallest catalog heartbeat timeout: heartbeats must come at least twice within it. */
const SMALLEST_HEARTBEAT_TIMEOUT_MS = 15 * 60_000;

/** Options of the worker runtime (`createWorkerRuntime`). */
export const WorkerRuntimeOptionsSchema = z
  .object({
    /** Redis URL, key prefix, connect timeout. */
    redis: RedisConnectionOptionsSchema.prefault({}),
    /** The staged jobs this process runs (one BullMQ worker each). */
    jobs: z.array(custom<StagedJobDefinition>('a staged job definition')).min(1),
    /** Concurrent jobs per type. Default 5 (pdf: 2). */
    concurrency: z.partialRecord(z.enum(JOB_TYPES as [string, ...string[]]), z.number().int().min(1).max(1000)).default({}),
    /** Interval of the batched heartbeat write (ms). Default 30000. */
    heartbeatIntervalMs: z.number().int().min(50).default(30_000),
    /** BullMQ lock duration (ms); renewed at half. Default 30000. */
    lockDurationMs: z.number().int().min(500).default(30_000),
    /** BullMQ stalled-job check interval (ms). Default 30000. */
    stalledIntervalMs: z.number().int().min(200).default(30_000),
    /** Stalls a job survives before BullMQ fails it ("stalled more than allowable limit"). Default 1. */
    maxStalledCount: z.number().int().min(0).default(1),
    /** On shutdown, how long running stages get to reach their next checkpoint (ms). Default 30000. */
    shutdownGraceMs: z.number().int().min(0).default(30_000),
    /** Least time between two progress writes of one job (ms). Default 1000. */
    progressThrottleMs: z.number().int().min(0).default(1000),
    /** Retry backoff for transient errors (BullMQ attempts). */
    backoff: BackoffPolicySchema.prefault({}),
    /**
     * Folder of the local artifact store (when `artifactStore` is not given). Default
     * `<tmp>/kai-jobs-artifacts/<prefix>`: a folder per key prefix, so the deployments and test
     * runs sharing a host never share (nor sweep) each other's artifacts.
     */
    artifactsDir: z.string().min(1).optional(),
    /** Worker threads for CPU-heavy stage work. Default the available cores (see `CpuPoolOptions.size`). */
    cpuThreads: z.number().int().min(1).max(64).optional(),
    /**
     * V8 heap of each of those threads (MiB): a page whose rendering outgrows it kills the
     * thread, not the process, and fails its job (`CpuThreadLimitError`). Default 512.
     */
    cpuThreadHeapMb: z.number().int().min(128).optional(),
    /** This process's id; default `<host>-<pid>-<random>`. */
    workerId: z.string().min(1).max(200).optional(),
    /**
     * The job store (rows, checkpoints, history; build it with `createJobStore`); default: the
     * Redis job store on the runtime's own connection.
     */
    store: custom<JobStore>('a JobStore').optional(),
    /**
     * Riding out an outage of the job store (see `outage-tolerance.ts`): status writes
     * buffered, checkpoints retried, the write lag published. `true`/options: on; `false`: off.
     * Default: on when `store` is given and is not the Redis store.
     */
    outageTolerance: OutageToleranceSettingSchema,
    artifactStore: custom<ArtifactStore>('an ArtifactStore').optional(),
    /**
     * The artifact sweep (see `ArtifactSweeper`): artifacts of jobs finished longer than the
     * retention ago, and orphans, are deleted on a timer. `false`: off. Default on, with the
     * sweep's defaults (7 days for completed and failed jobs, 1 h for orphans, every 10 min).
     */
    artifactSweep: z.union([z.literal(false), ArtifactSweepOptionsSchema]).prefault({}),
    /**
     * Retention of what the Redis stores this runtime opens keep (ignored for given stores):
     * `finishedRetentionMs` — rows, history and idempotency keys of finished jobs (default 7 days);
     * `checkpointRetentionMs` — checkpoints after the job's last write (default 7 days);
     * `maxHistoryEntries` — history entries kept per job (default 200).
     */
    storeRetention: StoreRetentionSchema.prefault({}),
    /** Where completions, failures and gaps are counted; default the Redis recorder on the runtime's connection. */
    metrics: custom<MetricsRecorder>('a MetricsRecorder').optional(),
    /**
     * Receives each finished attempt (one Sentry transaction with a span per stage: see
     * `createSentryAttemptTracer`). Closed with the runtime. Default: none.
     */
    tracer: custom<AttemptTracer>('an AttemptTracer').optional(),
    logger: custom<Logger>('a Logger').optional(),
    clock: custom<Clock>('a Clock').optional(),
  })
  .strict()
  .superRefine((options, ctx) => {
    if (options.heartbeatIntervalMs * 2 > SMALLEST_HEARTBEAT_TIMEOUT_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['heartbeatIntervalMs'],
        message: `must be at most half the smallest heartbeat timeout (${SMALLEST_HEARTBEAT_TIMEOUT_MS / 2} ms)`,
      });
    }
    if (options.stalledIntervalMs > options.lockDurationMs * 4) {
      ctx.addIssue({
        code: 'custom',
        path: ['stalledIntervalMs'],
        message: `should not exceed 4× lockDurationMs (${options.lockDurationMs * 4} ms): dead workers would be found late`,
      });
    }
    const types = options.jobs.map((job) => job.type);
    const duplicate = types.find((type, index) => types.indexOf(type) !== index);
    if (duplicate !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['jobs'], message: `job type ${duplicate} is defined twice` });
    }
  });
/** What callers pass to `createWorkerRuntime`. */
export type WorkerRuntimeOptions = z.input<typeof WorkerRuntimeOptionsSchema>;
/** Resolved runtime options. */
export type ResolvedWorkerRuntimeOptions = z.output<typeof WorkerRuntimeOptionsSchema>;

/** Default concurrency of a job type. PDF pages are heavy; others mostly wait on I/O. */
export function defaultConcurrency(type: string): number {
  return type === 'pdf' ? 2 : 5;
}
