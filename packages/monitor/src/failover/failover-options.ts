import { z } from 'zod';
import {
  JOB_TYPES,
  parseOrThrow,
  RedisConnectionOptionsSchema,
  type Clock,
  type JobType,
  type Logger,
  type MetricsRecorder,
  type StatusStore,
} from '@kai-jobs/queue';

const custom = <T>(what: string) =>
  z.custom<T>((value) => typeof value === 'object' && value !== null, { message: `expected ${what}` });

/** Options of the {@link FailoverWatcher} (`new FailoverWatcher(options)`). */
export const FailoverWatcherOptionsSchema = z
  .object({
    /** Redis URL, key prefix, cluster nodes: the watcher opens its own named connection. */
    redis: RedisConnectionOptionsSchema.prefault({}),
    /**
     * Fast failover on or off. Default true. Turn it off where a Redis proxy hides client
     * connections (`kai-jobs doctor` says so); dead workers are then found by BullMQ's lock.
     */
    enabled: z.boolean().default(true),
    /**
     * How long a worker must show no sign of life — its named connection missing from the
     * client list and no registry heartbeat — before its jobs are handed back (ms). Default 1500.
     */
    graceMs: z.number().int().min(0).max(600_000).default(1500),
    /** How often the client list is read (ms). Default 1000. A missing worker is looked at again when its grace ends. */
    checkIntervalMs: z.number().int().min(50).max(60_000).default(1000),
    /** Leader lease (ms): one watcher acts at a time; another takes over within this after it dies. Default 5000. */
    leaseMs: z.number().int().min(200).max(600_000).default(5000),
    /**
     * A job whose status row counts this many restarts (monitor restarts and failovers) is not
     * failed over but left to BullMQ's lock and stall check, so a job that kills every worker
     * it lands on (an OOM) stops bouncing between them. Default 3 (the backoff policy's).
     */
    maxRestarts: z.number().int().min(0).max(1000).default(3),
    /**
     * The restart limit of each job type (the monitor passes its per-type settings), so the limit
     * that fails a job in the tick also stops failover: `pdf: 1` holds on both paths. A type not
     * listed uses `maxRestarts`.
     */
    maxRestartsByType: z.partialRecord(z.enum(JOB_TYPES as [JobType, ...JobType[]]), z.number().int().min(0).max(1000)).default({}),
    /** Jobs of a dead worker handed back at the same time. Default 16. */
    handBackConcurrency: z.number().int().min(1).max(1000).default(16),
    /** This watcher's id (its client name is `kai-monitor:failover:<id>`). Default `<host>-<pid>-<random>`. */
    watcherId: z
      .string()
      .min(1)
      .max(200)
      .regex(/^\S+$/, { message: 'expected no spaces (it becomes a Redis client name)' })
      .optional(),
    /** Status store for the `failover` history and the row's fence. Default the Redis job store on the watcher's connection. */
    statusStore: custom<StatusStore>('a StatusStore').optional(),
    /** Where failovers are counted. Default a `RedisMetricsRecorder` on the watcher's connection. */
    metrics: custom<MetricsRecorder>('a MetricsRecorder').optional(),
    /** Structured logger. Default silent. */
    logger: custom<Logger>('a Logger').optional(),
    /** Clock of the lease's local validity and the timers. Default the system clock. */
    clock: custom<Clock>('a Clock').optional(),
  })
  .strict()
  .superRefine((options, ctx) => {
    if (options.leaseMs < options.checkIntervalMs * 2) {
      ctx.addIssue({
        code: 'custom',
        path: ['leaseMs'],
        message: `must be at least twice checkIntervalMs (${options.checkIntervalMs * 2} ms): the leader renews it at every check`,
      });
    }
  });
/** What callers pass to the {@link FailoverWatcher}. */
export type FailoverWatcherOptions = z.input<typeof FailoverWatcherOptionsSchema>;
/** Resolved watcher options. */
export type ResolvedFailoverWatcherOptions = z.output<typeof FailoverWatcherOptionsSchema>;

/** Parses watcher options; throws one `ValidationError` listing every problem. */
export function parseFailoverWatcherOptions(options: FailoverWatcherOptions): ResolvedFailoverWatcherOptions {
  return parseOrThrow(FailoverWatcherOptionsSchema, options, 'failover watcher options');
}
