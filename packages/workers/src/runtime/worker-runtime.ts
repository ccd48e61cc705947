import { Backoffs, Worker, type Job } from 'bullmq';
import { backoffDelayMs } from '@kai-jobs/checkpoint';
import {
  AbortAction,
  ACTIVE_STATUSES,
  batchSocketWrites,
  bullPrefix,
  closeRedis,
  isDrillPayload,
  ConnectionRole,
  createRedisConnection,
  jobCatalog,
  KAI_BACKOFF_TYPE,
  parseOrThrow,
  queueClockMs,
  RedisMetricsRecorder,
  RedisJobStore,
  silentLogger,
  systemClock,
  toError,
  waitForRedis,
  type AbortRequest,
  type Clock,
  type Logger,
  type MetricsRecorder,
  type RedisClient,
  type JobStore,
} from '@kai-jobs/queue';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import { LocalFolderArtifactStore } from '../artifacts/local-folder-artifact-store.js';
import { defaultArtifactsDir } from '../artifacts/prefix-folder.js';
import { ArtifactSweeper, isSweepableArtifactStore, type ArtifactSweepResult } from '../artifacts/artifact-sweeper.js';
import { CpuPool } from '../cpu/cpu-pool.js';
import { AbortCause, AttemptAbortedError } from '../errors.js';
import type { StagedJobDefinition } from '../staged-job.js';
import { AbortListener } from './abort-listener.js';
import { defaultConcurrency, WorkerRuntimeOptionsSchema, type ResolvedWorkerRuntimeOptions, type WorkerRuntimeOptions } from './config.js';
import { CRASH_SUSPECT_DEFER_MS, CrashSuspectSlot } from './crash-suspects.js';
import { HeartbeatBatcher } from './heartbeat-batcher.js';
import { runAttempt } from './job-attempt.js';
import { JobBoardWriter } from './job-board-writer.js';
import { tellJobStories } from './job-story.js';
import { AttemptTraceRecorder, recordAttemptTraces } from '../tracing/attempt-trace-recorder.js';
import { guardStore, type GuardedStore } from './outage-tolerance.js';
import { RuntimeEventBus, type RuntimeEventMap } from './runtime-events.js';
import { createWorkerId, workerClientName } from './worker-identity.js';
import { abortSupersededAttempts } from './superseded-attempts.js';
import { WorkerRegistry } from './worker-registry.js';

interface ActiveAttempt {
  jobId: string;
  job: Job;
  token: string;
  controller: AbortController;
  settled: Promise<void>;
  /** Resolves once the attempt has claimed the status row (or has ended without claiming it). */
  claimed: Promise<void>;
  /** Its BullMQ progress and log lines, for Bull Board. */
  board: JobBoardWriter;
  /** Its job's stage names, in order. */
  stages: readonly string[];
  /** What it did, for its Sentry transaction (when a tracer is configured). */
  trace: AttemptTraceRecorder | undefined;
}

/** Longest a shutdown waits (ms) for an ended attempt's last Bull Board writes (they never fail or hold up a job). */
const BOARD_WRITES_SETTLE_MS = 1000;

/**
 * One worker process's runtime: a BullMQ worker per job type running staged jobs, one
 * heartbeat timer for all of them, a subscription to abort requests, and graceful shutdown.
 * Create with {@link createWorkerRuntime}; call `start()`, then `shutdown()` on SIGTERM.
 */
export class WorkerRuntime {
  /** This process's id (BullMQ worker name, Redis client name suffix, rows' `worker_id`). */
  readonly workerId: string;
  private readonly options: ResolvedWorkerRuntimeOptions;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly events = new RuntimeEventBus();
  private readonly active = new Map<string, ActiveAttempt>();
  private readonly crashSuspects = new CrashSuspectSlot();
  private readonly workers: Worker[] = [];
  private connection: RedisClient | undefined;
  private bullConnection: RedisClient | undefined;
  private subscriber: RedisClient | undefined;
  private store: JobStore | undefined;
  private guardedStore: GuardedStore | undefined;
  private artifactStore: ArtifactStore | undefined;
  private cpuPool: CpuPool | undefined;
  private metrics: MetricsRecorder | undefined;
  /** The recorder the runtime made itself (batched), flushed on close. */
  private ownMetrics: RedisMetricsRecorder | undefined;
  private heartbeats: HeartbeatBatcher | undefined;
  private artifactSweeper: ArtifactSweeper | undefined;
  private registry: WorkerRegistry | undefined;
  private shuttingDown = false;
  private shutdownPromise: Promise<void> | undefined;
  private closed = false;

  constructor(options: WorkerRuntimeOptions) {
    this.options = parseOrThrow(WorkerRuntimeOptionsSchema, options, 'worker runtime options');
    this.workerId = this.options.workerId ?? createWorkerId();
    this.logger = (this.options.logger ?? silentLogger).child({ workerId: this.workerId });
    this.clock = this.options.clock ?? systemClock;
  }

  /** Subscribes to a runtime event; returns the unsubscribe function. */
  on<K extends keyof RuntimeEventMap>(event: K, listener: (payload: RuntimeEventMap[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  /** Ids of the jobs running in this process now. */
  activeJobIds(): string[] {
    return [...this.active.keys()];
  }

  /** True once `shutdown()` was called. */
  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** The runtime's own named connection (for tests and the failover registry). */
  get redis(): RedisClient {
    if (this.connection === undefined) throw new Error('the worker runtime is not started');
    return this.connection;
  }

  /** Connects, subscribes to abort requests, starts heartbeats and one BullMQ worker per job type. */
  async start(): Promise<void> {
    const { redis } = this.options;
    // The stores' connection, named (the failover watcher looks for it). BullMQ gets its own.
    // Not auto-pipelined: ioredis 5.11 can resolve an auto-pipeline of defined script
    // commands with no replies under load, and crashes in its callback loop.
    this.connection = createRedisConnection(redis, {
      role: ConnectionRole.Worker,
      connectionName: workerClientName(this.workerId),
    });
    this.connection.on('error', (error: Error) => this.logger.warn('Redis connection error', { error: error.message }));
    // The commands of one event-loop turn (50 jobs' scripts) leave in one socket write.
    batchSocketWrites(this.connection);
    await waitForRedis(this.connection, redis.url, redis.connectTimeoutMs);
    this.bullConnection = createRedisConnection(redis, { role: ConnectionRole.Worker });
    batchSocketWrites(this.bullConnection);
    this.bullConnection.on('error', (error: Error) => this.logger.warn('BullMQ connection error', { error: error.message }));
    // KAI_RETENTION_*: what the default Redis store keeps (ignored for a given store).
    const store = this.options.store ?? new RedisJobStore({ connection: this.connection, prefix: redis.prefix, retention: this.options.storeRetention });
    // Buffered status writes and retried checkpoints when the store is not Redis (a Supabase outage).
    this.guardedStore = guardStore({
      setting: this.options.outageTolerance,
      givenStore: this.options.store,
      store,
      redis: this.connection,
      prefix: redis.prefix,
      workerId: this.workerId,
      logger: this.logger,
      clock: this.clock,
      attemptOf: (jobId) => this.active.get(jobId),
    });
    this.store = this.guardedStore.store;
    this.artifactStore = this.options.artifactStore ?? new LocalFolderArtifactStore(this.options.artifactsDir ?? defaultArtifactsDir(redis.prefix));
    // A job's metrics (completion, duration, gaps) are batched: the jobs that finish in one turn
    // of the event loop share one MULTI, written right after it (was two MULTIs per job). Flushed on close.
    this.ownMetrics = this.options.metrics === undefined
      ? new RedisMetricsRecorder({ connection: this.connection, prefix: redis.prefix, logger: this.logger, batch: 'tick' })
      : undefined;
    this.metrics = this.options.metrics ?? this.ownMetrics;
    this.cpuPool = new CpuPool({
      ...(this.options.cpuThreads === undefined ? {} : { size: this.options.cpuThreads }),
      ...(this.options.cpuThreadHeapMb === undefined ? {} : { maxHeapMb: this.options.cpuThreadHeapMb }),
    });
    this.heartbeats = new HeartbeatBatcher({
      store: this.store,
      intervalMs: this.options.heartbeatIntervalMs,
      clock: this.clock,
      logger: this.logger,
      onRejected: (ids) => {
        for (const id of ids) {
          this.active.get(id)?.controller.abort(new AttemptAbortedError(AbortCause.LostJob, 'heartbeat rejected: the fence was superseded'));
        }
      },
      onBeat: (jobs, lagMs) => this.events.emit('heartbeat:written', { jobs, lagMs }),
    });
    this.heartbeats.start();
    const artifactStore = this.artifactStore;
    const statusStore = this.store;
    if (this.options.artifactSweep !== false && isSweepableArtifactStore(artifactStore)) {
      this.artifactSweeper = new ArtifactSweeper(
        { store: artifactStore, getRow: (jobId) => statusStore.get(jobId), now: () => statusStore.now(), logger: this.logger },
        this.options.artifactSweep,
      );
      this.artifactSweeper.start();
    }
    tellJobStories({
      events: this.events,
      writerOf: (jobId) => this.active.get(jobId)?.board,
      stagesOf: (jobId) => this.active.get(jobId)?.stages ?? [],
      activeWriters: () => [...this.active.values()].map((attempt) => attempt.board),
    });
    if (this.options.tracer !== undefined) recordAttemptTraces(this.events, (jobId) => this.active.get(jobId)?.trace);

    this.subscriber = createRedisConnection(redis, { role: ConnectionRole.Worker });
    this.subscriber.on('error', (error: Error) => this.logger.warn('abort subscriber error', { error: error.message }));
    await new AbortListener(this.subscriber, redis.prefix, this.logger, (request) => this.handleAbortRequest(request)).start();

    for (const definition of this.options.jobs) this.workers.push(this.createBullWorker(definition));
    await this.registerForFailover();
    await Promise.all(this.workers.map((worker) => worker.waitUntilReady()));
    this.logger.info('worker runtime started', {
      types: this.options.jobs.map((job) => job.type),
      lockDurationMs: this.options.lockDurationMs,
      heartbeatIntervalMs: this.options.heartbeatIntervalMs,
    });
  }

  private createBullWorker(definition: StagedJobDefinition): Worker {
    const { queueName } = jobCatalog[definition.type];
    const concurrency = this.options.concurrency[definition.type] ?? defaultConcurrency(definition.type);
    const worker: Worker = new Worker(queueName, (job, token, signal) => this.process(definition, worker, job, token, signal), {
      connection: this.bullConnection as RedisClient,
      prefix: bullPrefix(this.options.redis.prefix, queueName),
      name: this.workerId,
      concurrency,
      lockDuration: this.options.lockDurationMs,
      stalledInterval: this.options.stalledIntervalMs,
      maxStalledCount: this.options.maxStalledCount,
      autorun: true,
      settings: { backoffStrategy: this.backoffStrategy },
    });
    worker.on('error', (error) => {
      this.logger.warn('BullMQ worker error', { queue: queueName, error: error.message });
      this.events.emit('worker:error', { queue: queueName, error });
    });
    return worker;
  }

  /** The worker's custom backoff (`kai` type): the runtime's backoff options. */
  private readonly backoffStrategy = (attemptsMade: number, backoffType?: string): number =>
    backoffType === KAI_BACKOFF_TYPE || backoffType === undefined ? backoffDelayMs(this.options.backoff, Math.max(1, attemptsMade)) : 0;

  /** What BullMQ will wait before retrying `job` (its backoff option, this worker's strategy), for the job's story. */
  private async retryDelayMs(job: Job, attemptsMade: number, error: Error): Promise<number | undefined> {
    const backoff = Backoffs.normalize(job.opts.backoff ?? 0);
    if (backoff === undefined) return 0;
    return Backoffs.calculate(backoff, attemptsMade, error, job, this.backoffStrategy);
  }

  /**
   * Fast failover (issue 9): registers this process (its named connection's client name, its
   * BullMQ worker ids and lock-token prefixes) so the monitor's failover watcher can hand its
   * jobs back as soon as the connection vanishes. Registered right after the BullMQ workers
   * are created (their ids exist from then on), in one round trip on the ready named
   * connection, while BullMQ is still getting its own connections ready. When the named
   * connection comes back from a drop, attempts whose job was handed away meanwhile stop.
   */
  private async registerForFailover(): Promise<void> {
    const connection = this.connection as RedisClient;
    this.registry = new WorkerRegistry({
      connection,
      prefix: this.options.redis.prefix,
      workerId: this.workerId,
      bullWorkers: this.workers,
      logger: this.logger,
      clock: this.clock,
      onReconnected: () =>
        void abortSupersededAttempts(this.active.values(), {
          store: this.store as JobStore,
          readLock: (jobId) => {
            const job = this.active.get(jobId)?.job;
            return job === undefined ? Promise.resolve(null) : connection.get(`${job.queueQualifiedName}:${jobId}:lock`);
          },
          logger: this.logger,
        }),
    });
    await this.registry.start();
  }

  private async process(
    definition: StagedJobDefinition,
    worker: Worker,
    job: Job,
    token: string | undefined,
    bullSignal?: AbortSignal,
  ): Promise<unknown> {
    const jobId = job.id as string;
    const controller = new AbortController();
    // BullMQ aborts its signal when the lock is lost or the job is cancelled locally.
    bullSignal?.addEventListener(
      'abort',
      () => controller.abort(new AttemptAbortedError(AbortCause.LostJob, 'BullMQ lost the job lock')),
      { once: true },
    );
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    let markClaimed!: () => void;
    const claimed = new Promise<void>((resolve) => (markClaimed = resolve));
    // On BullMQ's own command connection (not its blocking one): the attempt's last board
    // write is issued just before BullMQ's moveToFinished, on the same socket, so it reaches
    // Redis first and the two can share one socket write (batchSocketWrites).
    const board = new JobBoardWriter({ job, connection: this.bullConnection as RedisClient, workerId: this.workerId, clock: this.clock, logger: this.logger.child({ jobId }) });
    const stages = definition.stages.map((stage) => stage.name);
    const tracer = this.options.tracer;
    const trace =
      tracer === undefined
        ? undefined
        : new AttemptTraceRecorder({ jobId, type: definition.type, workerId: this.workerId, drill: isDrillPayload(job.data) }, this.clock);
    const attempt: ActiveAttempt = { jobId, job, token: token as string, controller, settled, claimed, board, stages, trace };
    this.active.set(jobId, attempt);
    let thrown: unknown;
    try {
      return await runAttempt(definition, job, token as string, controller, {
        store: this.store as JobStore,
        artifactStore: this.artifactStore as ArtifactStore,
        cpuPool: this.cpuPool as CpuPool,
        heartbeats: this.heartbeats as HeartbeatBatcher,
        workerId: this.workerId,
        logger: this.logger,
        clock: this.clock,
        progressThrottleMs: this.options.progressThrottleMs,
        events: this.events,
        metrics: this.metrics as MetricsRecorder,
        isShuttingDown: () => this.shuttingDown,
        onClaimed: markClaimed,
        crashSuspects: {
          enter: (id) => this.crashSuspects.enter(id),
          // Jitter on purpose: the suspects of one crash must not come back together.
          deferDelayMs: () => CRASH_SUSPECT_DEFER_MS.min + Math.floor(Math.random() * CRASH_SUSPECT_DEFER_MS.jitter),
        },
        queueNowMs: () => queueClockMs(this.connection as RedisClient),
        retryDelayMs: (retried, attemptsMade, error) => this.retryDelayMs(retried, attemptsMade, error),
        onProgress: (update) => board.update(update),
      });
    } catch (error) {
      thrown = error;
      throw error;
    } finally {
      if (trace !== undefined) tracer?.record(trace.finish(thrown));
      this.crashSuspects.leave(jobId);
      // A job handed back (a restart's short delay) can already run again here as a new
      // attempt, registered under the same id: remove this attempt only.
      if (this.active.get(jobId) === attempt) this.active.delete(jobId);
      markClaimed();
      // BullMQ moves the job on at once; a shutdown waits (bounded) for the story's last lines.
      let boardTimer: NodeJS.Timeout | undefined;
      void Promise.race([board.settled(), new Promise<void>((resolve) => (boardTimer = setTimeout(resolve, BOARD_WRITES_SETTLE_MS)))]).then(() => {
        clearTimeout(boardTimer);
        settle();
      });
    }
  }

  private handleAbortRequest(request: AbortRequest): void {
    const attempt = this.active.get(request.jobId);
    if (attempt === undefined) return;
    // Meant for another attempt of this job (an older one the monitor found hung): not this one.
    if (request.fence !== undefined && request.fence !== attempt.token) {
      this.logger.info('abort request for another attempt of the job ignored', { jobId: request.jobId, action: request.action });
      return;
    }
    void this.abortUnlessCurrent(attempt, request);
  }

  /**
   * Every abort request follows a change of the row's fence (a monitor's restart or fail, an
   * operator's cancel). An attempt that still holds the row's fence claimed the job after
   * that change — a new attempt that took the job while a monitor looked at a picture from
   * before it — and the request is not meant for it. Waits for the attempt's claim first,
   * so a request that arrives while the claim is in flight is judged by its outcome.
   */
  private async abortUnlessCurrent(attempt: ActiveAttempt, request: AbortRequest): Promise<void> {
    await attempt.claimed;
    if (attempt.controller.signal.aborted || this.active.get(request.jobId) !== attempt) return;
    try {
      const row = await (this.store as JobStore).get(request.jobId);
      if (row !== null && row.fence === attempt.token && ACTIVE_STATUSES.includes(row.status)) {
        this.logger.warn('ignoring an abort request from before this attempt claimed the job', {
          jobId: request.jobId,
          action: request.action,
          reason: request.reason,
        });
        return;
      }
    } catch (error) {
      // Unknown: obey the request, as before this check (the job is retried from its checkpoint).
      this.logger.warn('could not read the row of an abort request; aborting', { jobId: request.jobId, error: toError(error).message });
    }
    if (attempt.controller.signal.aborted || this.active.get(request.jobId) !== attempt) return;
    const cause = request.action === AbortAction.Cancel ? AbortCause.Cancel : AbortCause.Restart;
    this.logger.info('abort requested', { jobId: request.jobId, action: request.action, reason: request.reason });
    attempt.controller.abort(new AttemptAbortedError(cause, request.reason, request.delayMs ?? 0));
  }

  /**
   * Graceful shutdown: stop taking jobs; let running stages reach their next checkpoint
   * within `graceMs`, after which each job is handed back to the queue at once (another
   * worker starts it without waiting for a stall timeout); then close everything.
   * Calling it again returns the same promise.
   */
  shutdown(graceMs: number = this.options.shutdownGraceMs): Promise<void> {
    this.shutdownPromise ??= this.runShutdown(graceMs);
    return this.shutdownPromise;
  }

  private async runShutdown(graceMs: number): Promise<void> {
    this.shuttingDown = true;
    this.logger.info('shutting down: no new jobs; running stages get a grace period', {
      graceMs,
      active: this.active.size,
    });
    // A non-forced close stops fetching at once (it interrupts the blocking fetch, which
    // pause() does not: a fetch in flight would take back the very jobs handed back below)
    // and keeps renewing locks until the running attempts have settled.
    const workersClosed = Promise.all(
      this.workers.map((worker) =>
        worker.close().catch((error: unknown) => this.logger.warn('worker close failed', { error: toError(error).message })),
      ),
    );
    const allSettled = (): Promise<void> => Promise.all([...this.active.values()].map((a) => a.settled)).then(() => undefined);
    let graceTimer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'grace-over'>((resolve) => {
      graceTimer = setTimeout(() => resolve('grace-over'), graceMs);
    });
    const outcome = await Promise.race([allSettled().then(() => 'settled' as const), graceOver]);
    clearTimeout(graceTimer);
    if (outcome === 'grace-over') {
      this.logger.warn('grace period over: handing back the jobs still running', { jobs: this.activeJobIds() });
      for (const attempt of this.active.values()) {
        attempt.controller.abort(new AttemptAbortedError(AbortCause.Shutdown, 'shutdown grace period over'));
      }
      await allSettled();
    }
    await workersClosed;
    await this.registry?.unregister();
    await this.close();
  }

  /**
   * Runs one artifact sweep now (the timer runs them every `artifactSweep.intervalMs`); null
   * when the sweep is off or the artifact store cannot be swept. For operators' tools and tests.
   */
  async sweepArtifacts(): Promise<ArtifactSweepResult | null> {
    return (await this.artifactSweeper?.runOnce()) ?? null;
  }

  /** Closes everything at once (running attempts are abandoned to BullMQ's stall detection). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.shuttingDown = true;
    await Promise.all(this.workers.map((worker) => worker.close(true).catch((error: unknown) => this.logger.warn('worker close failed', { error: toError(error).message }))));
    // The registry entry stays: the failover watcher hands back what a hard close abandoned.
    await this.registry?.stop();
    await this.heartbeats?.stop();
    await this.artifactSweeper?.stop();
    await this.options.tracer?.close();
    await this.ownMetrics?.flush();
    await this.guardedStore?.close();
    await this.cpuPool?.close();
    if (this.subscriber !== undefined) await closeRedis(this.subscriber);
    if (this.bullConnection !== undefined) await closeRedis(this.bullConnection);
    if (this.connection !== undefined) await closeRedis(this.connection);
    await this.logger.flush();
  }
}

/** Creates (does not start) a worker runtime; throws a `ValidationError` listing every bad option. */
export function createWorkerRuntime(options: WorkerRuntimeOptions): WorkerRuntime {
  return new WorkerRuntime(options);
}
