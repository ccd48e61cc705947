import { QueueEvents, type Queue } from 'bullmq';
import {
  bullPrefix,
  closeRedis,
  ConnectionRole,
  createRedisConnection,
  isDrillPayload,
  JOB_TYPES,
  jobCatalog,
  toError,
  type Clock,
  type JobType,
  type Logger,
  type MetricsRecorder,
  type RedisConnectionOptions,
  type StatusStore,
} from '@kai-jobs/queue';
import { appendJobLog } from './job-log.js';
import type { MonitorStateStore } from './monitor-state.js';

/** What a {@link StallListener} needs (a subset of the monitor's dependencies). */
export interface StallListenerDeps {
  statusStore: StatusStore;
  metrics: MetricsRecorder;
  state: MonitorStateStore;
  logger: Logger;
  /** The job queues: a stall's line goes into the job's BullMQ log (Bull Board's Logs tab) through them. */
  queues: Record<JobType, Queue>;
  clock: Clock;
}

/**
 * Consumes BullMQ's `stalled` events of the three job queues: each stall is counted per job
 * type, written to the job's history and told in the job's BullMQ log once, however many
 * monitor replicas hear it (the event's stream id is claimed in Redis first).
 */
export class StallListener {
  private readonly events: { events: QueueEvents; connection: ReturnType<typeof createRedisConnection> }[] = [];

  constructor(
    private readonly redis: RedisConnectionOptions,
    private readonly deps: StallListenerDeps,
  ) {}

  /** Subscribes to the stalled events of every job queue. */
  async start(): Promise<void> {
    for (const type of JOB_TYPES) {
      const { queueName } = jobCatalog[type];
      const connection = createRedisConnection(this.redis, { role: ConnectionRole.Worker });
      const events = new QueueEvents(queueName, { connection, prefix: bullPrefix(this.redis.prefix, queueName) });
      events.on('error', (error) => this.deps.logger.warn('stall listener connection error', { queue: queueName, error: error.message }));
      events.on('stalled', ({ jobId }, eventId) => {
        void this.record(type, jobId, eventId);
      });
      this.events.push({ events, connection });
    }
    await Promise.all(this.events.map(({ events }) => events.waitUntilReady()));
  }

  private async record(type: (typeof JOB_TYPES)[number], jobId: string, eventId: string): Promise<void> {
    try {
      if (!(await this.deps.state.firstToSeeStall(eventId))) return;
      // A drill's canary counts apart from production (one row read per stalled event, which are rare).
      const row = await this.deps.statusStore.get(jobId).catch(() => null);
      await this.deps.metrics.stalled(type, { drill: row !== null && isDrillPayload(row.payload) });
      await this.deps.statusStore.appendHistory(jobId, { event: 'stall:detected', source: 'bullmq', eventId });
      await this.tellInJobLog(type, jobId);
      this.deps.logger.warn('BullMQ reported a stalled job', { type, jobId });
    } catch (error) {
      this.deps.logger.warn('could not record a stalled event', { jobId, error: toError(error).message });
    }
  }

  /**
   * The job's story (issue 17): BullMQ's stall check moved it back to the queue because its
   * worker's lock expired — the worker died or its event loop was blocked for the lock's
   * duration. BullMQ 6 always moves a stalled job back; past `maxStalledCount` it marks it to
   * fail when next taken (`deferredFailure`), which the line says too.
   */
  private async tellInJobLog(type: JobType, jobId: string): Promise<void> {
    const queue = this.deps.queues[type];
    const job = await queue.getJob(jobId).catch(() => undefined);
    if (job === undefined || job === null) return;
    const count = job.stalledCounter;
    const text =
      job.deferredFailure !== undefined && job.deferredFailure !== ''
        ? `stalled (stall ${count}): its worker's lock expired, and BullMQ moved it back to the queue; it stalled more often than allowed, so BullMQ fails it when it is next taken (${job.deferredFailure})`
        : `stalled (stall ${count}): its worker's lock expired (the worker died or was blocked), so BullMQ's stall check moved it back to the queue; the next worker resumes from the last checkpoint`;
    await appendJobLog(queue, jobId, text, { clock: this.deps.clock, logger: this.deps.logger });
  }

  /** Unsubscribes and closes the connections. */
  async close(): Promise<void> {
    await Promise.all(
      this.events.splice(0).map(async ({ events, connection }) => {
        await events.close();
        await closeRedis(connection);
      }),
    );
  }
}
