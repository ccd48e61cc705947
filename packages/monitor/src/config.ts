import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { BackoffPolicySchema } from '@kai-jobs/checkpoint';
import {
  JOB_TYPES,
  jobCatalog,
  RecoveryPolicy,
  RedisConnectionOptionsSchema,
  StoreRetentionSchema,
  type Clock,
  type JobType,
  type Logger,
  type MetricsRecorder,
  type JobStore,
} from '@kai-jobs/queue';
import type { Alerter } from './alerts/alerter.js';
import type { CrashHook } from './alerts/outbox-delivery.js';

const custom = <T>(what: string) =>
  z.custom<T>((value) => typeof value === 'object' && value !== null, { message: `expected ${what}` });

/** Per-type overrides of the catalog's thresholds and recovery. */
export const TypeMonitorSettingsSchema = z
  .object({
    /** No heartbeat for this long = crashed (ms); `null` = not judged by heartbeats. */
    heartbeatTimeoutMs: z.number().int().positive().nullable().optional(),
    /** No progress for this long = stuck (ms). */
    updateTimeoutMs: z.number().int().positive().optional(),
    /** Restart from checkpoint, or fail. */
    recovery: z.enum([RecoveryPolicy.RestartFromCheckpoint, RecoveryPolicy.Fail]).optional(),
    /** Restarts before a job is failed for good. */
    maxRestarts: z.number().int().min(0).max(100).optional(),
  })
  .strict();

/** Something that knows whether a worker's status writes are behind (a store outage). */
export interface WriteLagProbe {
  /** True when `workerId` reports buffered status writes: its stale rows are not stuck work. */
  isBehind(workerId: string): Promise<boolean>;
}

/** Options of the monitor (`createMonitor`). */
export const MonitorOptionsSchema = z
  .object({
    /** Redis URL, prefix, connect timeout. */
    redis: RedisConnectionOptionsSchema.prefault({}),
    /** Interval of the scheduled tick (ms). Default 60000. */
    checkIntervalMs: z.number().int().min(100).default(60_000),
    /** Restart stuck PDF jobs from their checkpoint; off = fail them. Default true. */
    autoRestart: z.boolean().default(true),
    /** Per job type overrides of thresholds and recovery (defaults: the catalog's). */
    types: z.partialRecord(z.enum(JOB_TYPES as [JobType, ...JobType[]]), TypeMonitorSettingsSchema).default({}),
    /** Backoff before a restarted job runs again. */
    backoff: BackoffPolicySchema.prefault({}),
    /**
     * A `pending` row without a live BullMQ job this old (a producer that died between the row and
     * the job) is re-added by the tick's pending repair (ms). Default 60000.
     */
    pendingRepairAfterMs: z.number().int().min(0).default(60_000),
    /**
     * How long an attempt a restart asked to stop may take to hand its job back before the tick
     * takes the job over with its lock token (a frozen or partitioned worker) (ms). Default 5000.
     */
    abortGraceMs: z.number().int().min(0).max(600_000).default(5000),
    /**
     * How long a tick waits for Sentry to take the outbox's alerts (ms). An alert not taken by
     * then stays in the outbox for the next tick, so an unreachable Sentry never holds a tick up.
     * Default 1000.
     */
    alertDeliveryWaitMs: z.number().int().min(1).max(60_000).default(1000),
    /** Candidates examined per type per tick. Default 1000. */
    candidateLimit: z.number().int().min(1).max(100_000).default(1000),
    /** This monitor process's id. Default `monitor-<host>-<pid>-<random>`. */
    monitorId: z.string().min(1).optional(),
    /**
     * Fast failover (a crashed worker's jobs handed back in seconds): on by default in every
     * monitor process; off for a Redis proxy that hides client connections.
     */
    failover: z
      .object({
        /** Default true. */
        enabled: z.boolean().default(true),
        /** How long a worker's connection must be gone before its jobs are handed back (ms). Default 1500. */
        graceMs: z.number().int().min(0).max(600_000).default(1500),
        /** How often the client list is read (ms). Default 1000. */
        checkIntervalMs: z.number().int().min(50).max(60_000).default(1000),
      })
      .strict()
      .prefault({}),
    /** Sentry Crons monitor slug. Default `kai-jobs-monitor`. */
    cronMonitorSlug: z.string().min(1).default('kai-jobs-monitor'),
    /** The job store (rows, checkpoints, history; build it with `createJobStore`). Default: the Redis job store on the monitor's connection. */
    store: custom<JobStore>('a JobStore').optional(),
    /**
     * Retention of the Redis stores the monitor opens (ignored for given stores), so rows it
     * fails expire as the workers' do (`KAI_RETENTION_*`): `finishedRetentionMs`,
     * `checkpointRetentionMs`, `maxHistoryEntries`. Default: the stores' defaults.
     */
    storeRetention: StoreRetentionSchema.prefault({}),
    alerter: custom<Alerter>('an Alerter').optional(),
    metrics: custom<MetricsRecorder>('a MetricsRecorder').optional(),
    writeLag: custom<WriteLagProbe>('a WriteLagProbe').optional(),
    logger: custom<Logger>('a Logger').optional(),
    /**
     * Test-only: called at each crash point of a tick (after the state change, while delivering,
     * after the send), so a process test can `kill -9` the monitor exactly there. Never set in production.
     */
    crashHook: z.custom<CrashHook>((value) => typeof value === 'function', { message: 'expected a function' }).optional(),
    clock: custom<Clock>('a Clock').optional(),
  })
  .strict();
/** What callers pass to `createMonitor`. */
export type MonitorOptions = z.input<typeof MonitorOptionsSchema>;
/** Resolved monitor options. */
export type ResolvedMonitorOptions = z.output<typeof MonitorOptionsSchema>;

/** Effective settings of one job type: the catalog's defaults with the overrides applied. */
export interface TypeMonitorSettings {
  heartbeatTimeoutMs: number | null;
  updateTimeoutMs: number;
  recovery: RecoveryPolicy;
  maxRestarts: number;
}

/** The catalog's defaults for `type`, overridden by `options.types[type]`. */
export function typeSettings(options: ResolvedMonitorOptions, type: JobType): TypeMonitorSettings {
  const defaults = jobCatalog[type].defaults;
  const override = options.types[type] ?? {};
  return {
    heartbeatTimeoutMs: override.heartbeatTimeoutMs === undefined ? defaults.heartbeatTimeoutMs : override.heartbeatTimeoutMs,
    updateTimeoutMs: override.updateTimeoutMs ?? defaults.updateTimeoutMs,
    recovery: override.recovery ?? defaults.recovery,
    maxRestarts: override.maxRestarts ?? defaults.maxRestarts,
  };
}

/** A readable, unique monitor process id. */
export function createMonitorId(): string {
  return `monitor-${hostname().replace(/[^A-Za-z0-9.-]/g, '-').slice(0, 40)}-${process.pid}-${randomBytes(3).toString('hex')}`;
}
