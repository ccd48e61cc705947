import { hostname } from 'node:os';
import { z } from 'zod';
import {
  DEFAULT_KEY_PREFIX,
  KeyPrefixSchema,
  parseOrThrow,
  RedisWorkerRegistryStore,
  silentLogger,
  systemClock,
  toError,
  type Clock,
  type Logger,
  type RedisClient,
  type WorkerRegistryEntry,
} from '@kai-jobs/queue';
import { workerClientName } from './worker-identity.js';

const custom = <T>(what: string) =>
  z.custom<T>((value) => typeof value === 'object' && value !== null, { message: `expected ${what}` });

/** What the registry needs of a BullMQ worker: its id (the lock-token prefix) and its queue name. */
export interface RegisteredBullWorker {
  /** `Worker.id`: every lock token the worker hands out is `<id>:<n>`. */
  readonly id: string;
  /** The queue name (`Worker.name`). */
  readonly name: string;
}

/** Options of {@link WorkerRegistry}. */
export const WorkerRegistryOptionsSchema = z
  .object({
    /** The process's own named connection: the heartbeat proves that this connection is alive. */
    connection: custom<RedisClient>('an ioredis connection'),
    /** Key prefix. Default `kai`. */
    prefix: KeyPrefixSchema.default(DEFAULT_KEY_PREFIX),
    /** The process's worker id. */
    workerId: z.string().min(1),
    /** The process's BullMQ workers. */
    bullWorkers: z.array(custom<RegisteredBullWorker>('a BullMQ worker')).min(1),
    /**
     * Interval of the registry heartbeat (ms). Default 500. The failover watcher dates a
     * vanished worker from its last sign of life, so this bounds how much earlier than the
     * grace period a dead worker can be failed over.
     */
    heartbeatIntervalMs: z.number().int().min(50).max(60_000).default(500),
    /** Host name written in the entry. Default the OS host name. */
    host: z.string().default(hostname()),
    /** Process id written in the entry. Default this process's. */
    pid: z.number().int().default(process.pid),
    logger: custom<Logger>('a Logger').default(silentLogger),
    clock: custom<Clock>('a Clock').default(systemClock),
    /**
     * Called after the named connection came back from a drop (with how long it was down, in
     * ms): the runtime checks then whether its jobs were handed to other workers meanwhile.
     */
    onReconnected: z.custom<(downMs: number) => void>((value) => typeof value === 'function').optional(),
  })
  .strict();
/** What callers pass to {@link WorkerRegistry}. */
export type WorkerRegistryOptions = z.input<typeof WorkerRegistryOptionsSchema>;

/**
 * Registers a worker process for fast failover: an entry under its worker id (client name,
 * BullMQ worker ids, lock-token prefixes) and a light heartbeat written on the process's
 * named connection. A heartbeat also puts the entry back if the failover watcher removed it
 * while the process was cut off. `unregister()` on graceful shutdown; `stop()` on a hard
 * close leaves the entry, so the watcher hands back whatever the process abandoned.
 */
export class WorkerRegistry {
  /** What is registered. */
  readonly entry: WorkerRegistryEntry;
  private readonly options: z.output<typeof WorkerRegistryOptionsSchema>;
  private readonly store: RedisWorkerRegistryStore;
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;
  private downSince: number | undefined;
  private started = false;
  private stopped = false;
  private readonly onClose = (): void => {
    this.downSince ??= this.options.clock.now();
  };
  private readonly onReady = (): void => this.reconnected();

  constructor(options: WorkerRegistryOptions) {
    this.options = parseOrThrow(WorkerRegistryOptionsSchema, options, 'worker registry options');
    this.store = new RedisWorkerRegistryStore({ connection: this.options.connection, prefix: this.options.prefix });
    const { workerId, bullWorkers } = this.options;
    this.entry = {
      workerId,
      clientName: workerClientName(workerId),
      host: this.options.host,
      pid: this.options.pid,
      startedAt: this.options.clock.now(),
      queues: [...new Set(bullWorkers.map((worker) => worker.name))],
      bullWorkerIds: bullWorkers.map((worker) => worker.id),
      lockTokenPrefixes: bullWorkers.map((worker) => `${worker.id}:`),
    };
  }

  /** Writes the entry and the first heartbeat, then heartbeats until stopped. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.store.register(this.entry);
    this.options.connection.on('close', this.onClose);
    this.options.connection.on('ready', this.onReady);
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.beat(), this.options.heartbeatIntervalMs);
    this.timer.unref();
  }

  private beat(): void {
    // While the connection is down a command would wait in ioredis' offline queue: skip the
    // beat instead of piling beats up, and never run two at once.
    if (this.options.connection.status !== 'ready' || this.beating !== undefined) {
      this.schedule();
      return;
    }
    this.beating = this.store
      .heartbeat(this.entry)
      .then(
        () => undefined,
        (error: unknown) => this.options.logger.debug('registry heartbeat failed', { error: toError(error).message }),
      )
      .finally(() => {
        this.beating = undefined;
        this.schedule();
      });
  }

  private reconnected(): void {
    if (this.downSince === undefined || this.stopped) return;
    const downMs = this.options.clock.now() - this.downSince;
    this.downSince = undefined;
    this.options.logger.warn('named Redis connection is back: re-registering', { downMs });
    this.store
      .register(this.entry)
      .catch((error: unknown) => this.options.logger.warn('re-registering failed; the next heartbeat retries', { error: toError(error).message }));
    this.options.onReconnected?.(downMs);
  }

  /** Stops the heartbeat and leaves the entry (a hard close: the watcher hands back abandoned jobs). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.options.connection.off('close', this.onClose);
    this.options.connection.off('ready', this.onReady);
    await this.beating;
  }

  /** Stops the heartbeat and removes the entry (graceful shutdown: nothing is left to hand back). */
  async unregister(): Promise<void> {
    await this.stop();
    if (!this.started) return;
    try {
      await this.store.remove(this.entry.workerId);
    } catch (error) {
      this.options.logger.warn('could not unregister; the failover watcher will remove the entry', { error: toError(error).message });
    }
  }
}
