import { QueueEvents } from 'bullmq';
import {
  bullPrefix,
  closeRedis,
  ConnectionRole,
  createRedisConnection,
  isDrillPayload,
  JOB_TYPES,
  jobCatalog,
  toError,
  type Logger,
  type MetricsRecorder,
  type RedisConnectionOptions,
  type StatusStore,
} from '@kai-jobs/queue';
import type { MonitorStateStore } from './monitor-state.js';

/**
 * Consumes BullMQ's `stalled` events of the three job queues: each stall is counted per job
 * type and written to the job's history once, however many monitor replicas hear it (the
 * event's stream id is claimed in Redis first).
 */
export class StallListener {
  private readonly events: { events: QueueEvents; connection: ReturnType<typeof createRedisConnection> }[] = [];

  constructor(
    private readonly redis: RedisConnectionOptions,
    private readonly deps: { statusStore: StatusStore; metrics: MetricsRecorder; state: MonitorStateStore; logger: Logger },
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
      this.deps.logger.warn('BullMQ reported a stalled job', { type, jobId });
    } catch (error) {
      this.deps.logger.warn('could not record a stalled event', { jobId, error: toError(error).message });
    }
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
