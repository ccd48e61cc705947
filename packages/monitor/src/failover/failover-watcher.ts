import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Queue } from 'bullmq';
import {
  bullPrefix,
  closeRedis,
  ConnectionRole,
  createRedisConnection,
  RedisMetricsRecorder,
  createJobStore,
  RedisWorkerRegistryStore,
  silentLogger,
  systemClock,
  toError,
  waitForRedis,
  type Clock,
  type Logger,
  type MetricsRecorder,
  type RedisClient,
  type StatusStore,
} from '@kai-jobs/queue';
import { failoverLeaseKeys } from '../keys.js';
import { checkClientListUsable, readClientNames, type ClientListCheck } from './client-list.js';
import { FailoverEventBus, type FailoverEventMap } from './failover-events.js';
import { parseFailoverWatcherOptions, type FailoverWatcherOptions, type ResolvedFailoverWatcherOptions } from './failover-options.js';
import { FailoverPassStatus, type FailoverPass, type WorkerFailover } from './failover-pass.js';
import { HandBackOutcome, handBackJobsOf } from './hand-back.js';
import { LeaderLease } from './leader-lease.js';
import { assessLiveness, type WorkerSighting } from './liveness.js';

/**
 * After the watcher's own connection dropped and came back, nobody is dated as gone from
 * earlier than this much after its first look (ms): after a Redis restart every worker
 * reconnects too, and the connection module's reconnect delay grows up to 2 s.
 */
const RECONNECT_ALLOWANCE_MS = 2000;

/**
 * The fast-failover watcher: part of the monitor, one per monitor process, one leader at a
 * time (a Redis lease with a fencing epoch). About once a second the leader reads the client
 * names connected to Redis (every master of a cluster); a registered worker process whose
 * named connection has shown no sign of life for `graceMs` or longer — missing from the
 * client list, no registry heartbeat — is dead: each of its active jobs is fenced off in the
 * status store and handed back to its queue through BullMQ (`Job.moveToWait` with the job's
 * lock token), a `failover` entry goes into each job's history, failovers are counted per job
 * type and per worker, and the worker leaves the registry. Its jobs resume from their
 * checkpoints on other workers within about two seconds of the crash, whatever the lock.
 *
 * `start()` runs passes until `stop()`; `runOnce()` runs one pass (for tests and tools).
 */
export class FailoverWatcher {
  /** This watcher's id. */
  readonly watcherId: string;
  /** The client name of this watcher's connection. */
  readonly clientName: string;
  private readonly options: ResolvedFailoverWatcherOptions;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly events = new FailoverEventBus();
  private readonly queues = new Map<string, Queue>();
  private connection: RedisClient | undefined;
  private connecting: Promise<RedisClient> | undefined;
  private lease: LeaderLease | undefined;
  private registry: RedisWorkerRegistryStore | undefined;
  private statusStore: StatusStore | undefined;
  private metrics: MetricsRecorder | undefined;
  private usability: ClientListCheck | undefined;
  private sightings = new Map<string, WorkerSighting>();
  private observingSince: number | undefined;
  private reconnectAllowance = false;
  private termEpoch: number | null = null;
  private running: Promise<FailoverPass> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private stopped = false;
  private untrustedLogged = false;
  private failedPasses = 0;
  private readonly invalidLogged = new Set<string>();

  constructor(options: FailoverWatcherOptions) {
    this.options = parseFailoverWatcherOptions(options);
    this.watcherId = this.options.watcherId ?? `${hostname().replace(/[^A-Za-z0-9.-]/g, '-').slice(0, 40)}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.clientName = `kai-monitor:failover:${this.watcherId}`;
    this.logger = (this.options.logger ?? silentLogger).child({ component: 'failover-watcher', watcherId: this.watcherId });
    this.clock = this.options.clock ?? systemClock;
  }

  /** Subscribes to a watcher event; returns the unsubscribe function. */
  on<K extends keyof FailoverEventMap>(event: K, listener: (payload: FailoverEventMap[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  /** True while this watcher holds the leader lease and may act on it by its own clock. */
  get isLeader(): boolean {
    return this.lease?.isLocallyValid() ?? false;
  }

  /** Connects and runs a pass about every `checkIntervalMs` until `stop()`. Does nothing when disabled. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (!this.options.enabled) {
      this.logger.info('fast failover is turned off: dead workers are found by BullMQ lock expiry only');
      return;
    }
    await this.connect();
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.loop(), delayMs);
  }

  private async loop(): Promise<void> {
    let delayMs = this.options.checkIntervalMs;
    try {
      delayMs = (await this.runOnce()).nextCheckInMs;
      if (this.failedPasses > 0) this.logger.info('failover passes work again', { failedPasses: this.failedPasses });
      this.failedPasses = 0;
    } catch (error) {
      const normalized = toError(error);
      // Once a second for as long as Redis is away: log the first failure and then one a minute.
      if (this.failedPasses % 60 === 0) {
        this.logger.warn('failover pass failed; trying again at the next interval', {
          error: normalized.message,
          failedPasses: this.failedPasses + 1,
        });
      }
      this.failedPasses += 1;
      this.events.emit('pass:failed', { error: normalized });
    }
    this.schedule(delayMs);
  }

  /** Runs one pass: take or renew the lease, look, fail over the dead. Passes never overlap. */
  runOnce(): Promise<FailoverPass> {
    if (!this.options.enabled) return Promise.resolve(this.result(FailoverPassStatus.Disabled));
    if (this.stopped) return Promise.reject(new Error('the failover watcher is stopped'));
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private result(status: FailoverPassStatus, rest: Partial<FailoverPass> = {}): FailoverPass {
    return {
      status,
      detail: null,
      leaderEpoch: null,
      storeNow: null,
      registered: 0,
      missing: [],
      failedOver: [],
      nextCheckInMs: this.options.checkIntervalMs,
      ...rest,
    };
  }

  private async pass(): Promise<FailoverPass> {
    const redis = await this.connect();
    this.usability ??= await this.checkUsable(redis);
    if (!this.usability.usable) return this.result(FailoverPassStatus.Unusable, { detail: this.usability.detail });

    const lease = this.lease as LeaderLease;
    const term = await lease.hold();
    if (term === null) {
      this.endTerm();
      return this.result(FailoverPassStatus.Follower);
    }
    if (term.epoch !== this.termEpoch) {
      this.endTerm();
      this.termEpoch = term.epoch;
      this.logger.info('leading fast failover', { epoch: term.epoch });
      this.events.emit('leader:acquired', { watcherId: this.watcherId, epoch: term.epoch });
    }

    // The registry first: a worker registers after its named connection is up, so a
    // registered worker missing from the list read next has really lost its connection.
    const registry = await (this.registry as RedisWorkerRegistryStore).read();
    for (const id of registry.invalid) {
      if (!this.invalidLogged.has(id)) this.logger.warn('ignoring an unreadable worker registry entry', { workerId: id });
      this.invalidLogged.add(id);
    }
    const clients = await readClientNames(redis);
    if (!clients.names.has(this.clientName)) {
      if (!this.untrustedLogged) this.logger.warn('the client list does not show this watcher itself; deciding nothing until it does');
      this.untrustedLogged = true;
      return this.result(FailoverPassStatus.Untrusted, {
        detail: `${this.clientName} is not in CLIENT LIST`,
        leaderEpoch: term.epoch,
        storeNow: clients.storeNow,
        registered: registry.entries.size,
      });
    }
    this.untrustedLogged = false;
    if (this.observingSince === undefined) {
      this.observingSince = clients.storeNow + (this.reconnectAllowance ? RECONNECT_ALLOWANCE_MS : 0);
      this.reconnectAllowance = false;
    }

    const verdict = assessLiveness({
      storeNow: clients.storeNow,
      liveNames: clients.names,
      entries: registry.entries,
      heartbeats: registry.heartbeats,
      sightings: this.sightings,
      observingSince: this.observingSince,
      graceMs: this.options.graceMs,
    });
    this.sightings = verdict.sightings;

    const failedOver: WorkerFailover[] = [];
    for (const dead of verdict.dead) {
      // Renew right before acting: a watcher that was paused past its lease stops here.
      if (!(await lease.renew())) {
        this.endTerm();
        break;
      }
      this.events.emit('worker:dead', { workerId: dead.entry.workerId, goneForMs: dead.goneForMs, epoch: term.epoch });
      const jobs = await handBackJobsOf(dead, {
        redis,
        queueFor: (name) => this.queueFor(name),
        statusStore: this.statusStore as StatusStore,
        metrics: this.metrics as MetricsRecorder,
        canAct: () => lease.isLocallyValid(),
        logger: this.logger,
        maxRestarts: this.options.maxRestarts,
        maxRestartsByType: this.options.maxRestartsByType,
        concurrency: this.options.handBackConcurrency,
        watcherId: this.watcherId,
        leaderEpoch: term.epoch,
        clock: this.clock,
      });
      for (const job of jobs) {
        if (job.outcome !== HandBackOutcome.HandedBack) continue;
        this.events.emit('job:failed-over', {
          jobId: job.jobId,
          workerId: dead.entry.workerId,
          queue: job.queue,
          stage: job.stage,
          goneForMs: dead.goneForMs,
          epoch: term.epoch,
        });
      }
      // Only a worker whose every job was dealt with leaves the registry; otherwise the next leader looks again.
      const complete = jobs.every((job) => job.outcome !== HandBackOutcome.NotLeader) && lease.isLocallyValid();
      if (complete) {
        await (this.registry as RedisWorkerRegistryStore).remove(dead.entry.workerId);
        this.sightings.delete(dead.entry.workerId);
      }
      const { workerId, host, pid } = dead.entry;
      failedOver.push({ workerId, host, pid, goneForMs: dead.goneForMs, jobs, removed: complete });
    }

    const recheck = verdict.missing.map((worker) => worker.recheckInMs);
    return this.result(FailoverPassStatus.Leader, {
      leaderEpoch: term.epoch,
      storeNow: clients.storeNow,
      registered: registry.entries.size,
      missing: verdict.missing,
      failedOver,
      nextCheckInMs: Math.min(this.options.checkIntervalMs, ...recheck),
    });
  }

  /** Forgets what this term saw; a new term (or a reconnected watcher) looks afresh. */
  private endTerm(): void {
    if (this.termEpoch !== null) {
      this.logger.info('no longer leading fast failover', { epoch: this.termEpoch });
      this.events.emit('leader:lost', { watcherId: this.watcherId, epoch: this.termEpoch });
    }
    this.termEpoch = null;
    this.sightings = new Map();
    this.observingSince = undefined;
  }

  private async checkUsable(redis: RedisClient): Promise<ClientListCheck> {
    const check = await checkClientListUsable(redis, this.options.redis.connectTimeoutMs);
    if (check.usable) {
      this.logger.info('fast failover is watching worker connections', {
        graceMs: this.options.graceMs,
        checkIntervalMs: this.options.checkIntervalMs,
        detail: check.detail,
      });
    } else {
      this.logger.warn('fast failover cannot work with this Redis and does nothing; BullMQ lock expiry still finds dead workers', {
        detail: check.detail,
      });
    }
    return check;
  }

  private queueFor(name: string): Queue {
    let queue = this.queues.get(name);
    if (queue === undefined) {
      queue = new Queue(name, { connection: this.connection as RedisClient, prefix: bullPrefix(this.options.redis.prefix, name) });
      queue.on('error', (error) => this.logger.warn('BullMQ queue error', { queue: name, error: error.message }));
      this.queues.set(name, queue);
    }
    return queue;
  }

  private connect(): Promise<RedisClient> {
    this.connecting ??= this.openConnection();
    return this.connecting;
  }

  private async openConnection(): Promise<RedisClient> {
    const { redis } = this.options;
    // Fail fast (producer role): a pass that cannot reach Redis fails and the next one retries.
    const connection = createRedisConnection(redis, { role: ConnectionRole.Producer, connectionName: this.clientName });
    this.connection = connection;
    connection.on('error', (error: Error) => this.logger.debug('failover watcher connection error', { error: error.message }));
    await waitForRedis(connection, redis.url, redis.connectTimeoutMs);
    connection.on('close', () => {
      // What was seen before the drop may be stale, and workers reconnect after a Redis restart too.
      this.sightings = new Map();
      this.observingSince = undefined;
      this.reconnectAllowance = true;
    });
    this.lease = new LeaderLease({
      redis: connection,
      keys: failoverLeaseKeys(redis.prefix),
      holderId: this.watcherId,
      leaseMs: this.options.leaseMs,
      clock: this.clock,
    });
    this.registry = new RedisWorkerRegistryStore({ connection, prefix: redis.prefix });
    this.statusStore = this.options.statusStore ?? createJobStore({ kind: 'redis', connection, prefix: redis.prefix });
    this.metrics =
      this.options.metrics ?? new RedisMetricsRecorder({ connection, prefix: redis.prefix, clock: this.clock, logger: this.logger });
    return connection;
  }

  /** Stops passes, gives the lease up (another watcher takes over at once) and closes the connection. */
  stop(): Promise<void> {
    return this.close();
  }

  /** Same as {@link stop}. */
  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
    if (this.connecting !== undefined) await this.connecting.catch(() => undefined);
    if (this.termEpoch !== null) this.events.emit('leader:lost', { watcherId: this.watcherId, epoch: this.termEpoch });
    this.termEpoch = null;
    await this.lease?.release().catch((error: unknown) => this.logger.debug('could not release the lease', { error: toError(error).message }));
    await Promise.all([...this.queues.values()].map((queue) => queue.close().catch(() => undefined)));
    this.queues.clear();
    if (this.connection !== undefined) await closeRedis(this.connection);
    await this.logger.flush();
  }
}
