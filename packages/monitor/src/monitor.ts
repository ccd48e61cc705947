import { Queue, Worker } from 'bullmq';
import {
  bullPrefix,
  closeRedis,
  createJobClient,
  ConnectionRole,
  createRedisConnection,
  JOB_TYPES,
  jobCatalog,
  parseOrThrow,
  queueClockMs,
  RedisMetricsRecorder,
  createJobStore,
  silentLogger,
  systemClock,
  toError,
  waitForRedis,
  WriteLagRegistry,
  type JobType,
  type Logger,
  type MetricsRecorder,
  type RedisClient,
  type JobStore,
  type StatusStore,
} from '@kai-jobs/queue';
import { Alerter } from './alerts/alerter.js';
import { RedisAlertDedupeStore } from './alerts/dedupe-store.js';
import { createMonitorId, MonitorOptionsSchema, typeSettings, type MonitorOptions, type ResolvedMonitorOptions, type WriteLagProbe } from './config.js';
import { MonitorStateStore } from './monitor-state.js';
import { runDrill, type DrillOptions, type DrillResult } from './drill.js';
import { FailoverWatcher } from './failover/failover-watcher.js';
import { StallListener } from './stall-listener.js';
import { runOnce, type TickDeps, type TickResult } from './tick/run-once.js';

/** The BullMQ queue the monitor's scheduled ticks run on. */
export const MONITOR_QUEUE = 'job-monitor';
const SCHEDULER_ID = 'monitor-tick';

/**
 * The monitor: `runOnce()` runs a tick now; `start()` schedules ticks on the `job-monitor`
 * queue with a BullMQ job scheduler — any number of monitor processes, one tick per interval,
 * run by whichever process takes it — and listens to BullMQ's stalled events.
 */
export class Monitor {
  readonly monitorId: string;
  private readonly options: ResolvedMonitorOptions;
  private readonly logger: Logger;
  private connection: RedisClient | undefined;
  private deps: TickDeps | undefined;
  private scheduleQueue: Queue | undefined;
  private tickWorker: Worker | undefined;
  private tickConnection: RedisClient | undefined;
  private stallListener: StallListener | undefined;
  private failoverWatcher: FailoverWatcher | undefined;
  private ownsAlerter = false;
  private closed = false;
  private readonly tickListeners: ((result: TickResult) => void)[] = [];

  constructor(options: MonitorOptions) {
    this.options = parseOrThrow(MonitorOptionsSchema, options, 'monitor options');
    this.monitorId = this.options.monitorId ?? createMonitorId();
    this.logger = (this.options.logger ?? silentLogger).child({ monitorId: this.monitorId });
  }

  /** Connects (idempotent); called by `runOnce` and `start`. */
  async connect(): Promise<TickDeps> {
    if (this.deps !== undefined) return this.deps;
    const { redis } = this.options;
    const connection = createRedisConnection(redis, { role: ConnectionRole.Worker, connectionName: `kai-monitor:${this.monitorId}` });
    connection.on('error', (error: Error) => this.logger.warn('Redis connection error', { error: error.message }));
    this.connection = connection;
    await waitForRedis(connection, redis.url, redis.connectTimeoutMs);
    // One job store: the rows the monitor judges and the checkpoints it probes are the same store's.
    // KAI_RETENTION_*: rows the monitor fails expire as the workers' do (ignored for a given store).
    const statusStore: StatusStore =
      this.options.store ?? createJobStore({ kind: 'redis', connection, prefix: redis.prefix, retention: this.options.storeRetention });
    const checkpointStore = statusStore as JobStore;
    const metrics: MetricsRecorder = this.options.metrics ?? new RedisMetricsRecorder({ connection, prefix: redis.prefix, logger: this.logger });
    let alerter = this.options.alerter;
    if (alerter === undefined) {
      alerter = new Alerter({ logger: this.logger, dedupeStore: new RedisAlertDedupeStore({ connection, prefix: redis.prefix }) });
      this.ownsAlerter = true;
    }
    const queues = Object.fromEntries(
      JOB_TYPES.map((type) => {
        const { queueName } = jobCatalog[type];
        return [type, new Queue(queueName, { connection, prefix: bullPrefix(redis.prefix, queueName) })];
      }),
    ) as Record<JobType, Queue>;
    this.deps = {
      options: this.options,
      statusStore,
      checkpointStore,
      queues,
      redis: connection,
      prefix: redis.prefix,
      alerter,
      metrics,
      logger: this.logger,
      state: new MonitorStateStore({ connection, prefix: redis.prefix }),
      // A worker whose status writes are buffered (a Supabase outage) is not stuck: defer its jobs.
      writeLag: this.options.writeLag ?? writeLagProbe(new WriteLagRegistry({ connection, prefix: redis.prefix })),
      monitorId: this.monitorId,
      clock: this.options.clock ?? systemClock,
      failureCursorKey: `${redis.prefix}:{monitor}:failure-cursor`,
      crashHook: this.options.crashHook,
    };
    return this.deps;
  }

  /** Runs one tick now and returns what it found and did. */
  async runOnce(): Promise<TickResult> {
    const result = await runOnce(await this.connect());
    for (const listener of this.tickListeners) listener(result);
    return result;
  }

  /**
   * The recovery drill against this monitor's Redis: a canary PDF job hangs once in its second
   * stage; the drill checks it is detected, restarted from the first checkpoint and completed.
   */
  async drill(options: DrillOptions = {}): Promise<DrillResult> {
    const deps = await this.connect();
    const client = createJobClient({ connection: deps.redis, redis: { prefix: this.options.redis.prefix }, statusStore: deps.statusStore });
    try {
      return await runDrill({ statusStore: deps.statusStore, client, runOnce: () => this.runOnce(), clock: deps.clock }, options);
    } finally {
      await client.close();
    }
  }

  /** Calls `listener` after every tick this process runs. */
  onTick(listener: (result: TickResult) => void): void {
    this.tickListeners.push(listener);
  }

  /** The monitor's state store (last tick, decisions). */
  async state(): Promise<MonitorStateStore> {
    return (await this.connect()).state;
  }

  /** Schedules ticks every `checkIntervalMs` on the `job-monitor` queue and starts taking them. */
  async start(): Promise<void> {
    const deps = await this.connect();
    const { redis, checkIntervalMs } = this.options;
    const prefix = bullPrefix(redis.prefix, MONITOR_QUEUE);
    this.scheduleQueue = new Queue(MONITOR_QUEUE, { connection: deps.redis, prefix });
    // Idempotent across replicas: they all upsert the same scheduler, BullMQ makes one job per interval.
    await this.scheduleQueue.upsertJobScheduler(
      SCHEDULER_ID,
      { every: checkIntervalMs },
      { name: 'tick', opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } } },
    );
    this.tickConnection = createRedisConnection(redis, { role: ConnectionRole.Worker });
    this.tickWorker = new Worker(
      MONITOR_QUEUE,
      async (job) => {
        // One tick per interval: a tick job that comes back after its monitor died (BullMQ's
        // stall check re-runs it once the lock expires) is stale once its interval has passed —
        // the scheduler has queued the next one, which another monitor runs. Skip it.
        // A scheduler job's id is `repeat:<scheduler>:<slot time in ms>`; any other, its creation plus delay.
        const slot = /^repeat:.+:(\d+)$/.exec(job.id ?? '');
        const scheduledAt = slot ? Number(slot[1]) : job.timestamp + (job.opts.delay ?? 0);
        const lateMs = (await queueClockMs(deps.redis)) - scheduledAt;
        // Only a re-run: a first run that is merely late (ticks longer than the interval) still runs.
        const rerun = job.stalledCounter > 0 || job.attemptsStarted > 1;
        if (rerun && lateMs >= checkIntervalMs) {
          this.logger.warn('skipped a stale tick: its interval passed (its monitor died while running it)', { jobId: job.id, lateMs });
          return { skipped: true, lateMs };
        }
        const result = await this.runOnce();
        return { ...result.summary };
      },
      {
        connection: this.tickConnection,
        prefix,
        concurrency: 1,
        lockDuration: Math.max(30_000, checkIntervalMs * 2),
        name: this.monitorId,
      },
    );
    this.tickWorker.on('error', (error) => this.logger.warn('monitor tick worker error', { error: error.message }));
    this.stallListener = new StallListener(redis, deps);
    await this.stallListener.start();
    const { failover } = this.options;
    if (failover.enabled) {
      // Every monitor process runs a watcher; their lease elects one leader at a time.
      this.failoverWatcher = new FailoverWatcher({
        redis,
        graceMs: failover.graceMs,
        checkIntervalMs: failover.checkIntervalMs,
        leaseMs: Math.max(5000, failover.checkIntervalMs * 2),
        // Each type's own limit: the one that fails a job in the tick also stops its failover.
        maxRestartsByType: Object.fromEntries(JOB_TYPES.map((type) => [type, typeSettings(this.options, type).maxRestarts])),
        watcherId: `failover-${this.monitorId}`,
        statusStore: deps.statusStore,
        metrics: deps.metrics,
        logger: this.logger,
        clock: deps.clock,
      });
      await this.failoverWatcher.start();
    }
    await this.tickWorker.waitUntilReady();
    this.logger.info('monitor started', { checkIntervalMs });
  }

  /** Stops ticking and closes everything this monitor opened (flushing pending alerts). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tickWorker?.close();
    if (this.tickConnection !== undefined) await closeRedis(this.tickConnection);
    await this.failoverWatcher?.close();
    await this.stallListener?.close();
    await this.scheduleQueue?.close();
    if (this.deps !== undefined) {
      await Promise.all(Object.values(this.deps.queues).map((queue) => queue.close()));
      if (this.ownsAlerter) await this.deps.alerter.close().catch((error: unknown) => this.logger.warn('alerter close failed', { error: toError(error).message }));
    }
    if (this.connection !== undefined) await closeRedis(this.connection);
    await this.logger.flush();
  }
}

/** How recent a worker's write-backlog report must be to defer its stale rows (ms). */
const WRITE_LAG_REPORT_MAX_AGE_MS = 60_000;

function writeLagProbe(registry: WriteLagRegistry): WriteLagProbe {
  return { isBehind: (workerId) => registry.isBehind(workerId, WRITE_LAG_REPORT_MAX_AGE_MS) };
}

/** Creates (does not start) a monitor; throws a `ValidationError` listing every bad option. */
export function createMonitor(options: MonitorOptions): Monitor {
  return new Monitor(options);
}
