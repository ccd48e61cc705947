/**
 * The processes of a chaos scenario: real worker processes (the synthetic staged job on the
 * real runtime) and real monitor processes (the monitor's own entry point), all on the
 * scenario's Redis and key prefix, started, killed and restarted by name.
 */
import { fileURLToPath } from 'node:url';
import { startWorkerProcess, stopWorkerProcess, type WorkerProcess } from '../../packages/workers/test/fixtures/worker-process.js';

const MONITOR_BIN = fileURLToPath(new URL('../../packages/monitor/src/bin/monitor.ts', import.meta.url));
const SKEW_PRELOAD = fileURLToPath(new URL('./skewed-clock.ts', import.meta.url));

/** Settings shared by every process of a scenario. */
export interface FleetOptions {
  redisUrl: string;
  prefix: string;
  /** Environment of every worker process (lock, stall and heartbeat settings, concurrency). */
  workerEnv?: Record<string, string>;
  /** Environment of every monitor process (intervals, timeouts, SENTRY_DSN). */
  monitorEnv?: Record<string, string>;
}

/** Per-process extras. */
export interface ProcessOptions {
  env?: Record<string, string>;
  /** Run the process with its clock (`Date.now`) this many ms off the host's. */
  clockSkewMs?: number;
}

/** Short settings that make a crash, a stall or a stuck job visible in seconds. */
export const FAST_WORKER_ENV: Readonly<Record<string, string>> = {
  LOCK_DURATION_MS: '2000',
  STALLED_INTERVAL_MS: '1000',
  HEARTBEAT_INTERVAL_MS: '250',
  SHUTDOWN_GRACE_MS: '500',
  CONCURRENCY: '5',
};

/** The monitor ticking every 500 ms, with failover checking every 250 ms. */
export const FAST_MONITOR_ENV: Readonly<Record<string, string>> = {
  MONITOR_CHECK_INTERVAL_MS: '500',
  FAILOVER_CHECK_INTERVAL_MS: '250',
  FAILOVER_GRACE_MS: '750',
  PDF_HEARTBEAT_TIMEOUT_MS: '4000',
  PDF_UPDATE_TIMEOUT_MS: '6000',
  LOG_LEVEL: 'info',
};

/** Worker and monitor processes by name; each (re)start of a name is a new incarnation with its own id. */
export class Fleet {
  private readonly processes = new Map<string, WorkerProcess>();
  private readonly incarnations = new Map<string, number>();
  /** Every process ever started, killed or not (their logs stay readable). */
  readonly history: WorkerProcess[] = [];

  constructor(private readonly options: FleetOptions) {}

  /** Starts worker `name` (a new incarnation if it ran before); resolves once it is ready. */
  async startWorker(name: string, extra: ProcessOptions = {}): Promise<WorkerProcess> {
    return this.launch(name, {
      env: { ...FAST_WORKER_ENV, ...this.options.workerEnv, ...extra.env },
      ...(extra.clockSkewMs === undefined ? {} : { clockSkewMs: extra.clockSkewMs }),
    });
  }

  /** Starts monitor `name`; resolves once it has scheduled its tick. */
  async startMonitor(name: string, extra: ProcessOptions = {}): Promise<WorkerProcess> {
    return this.launch(name, {
      script: MONITOR_BIN,
      readyMessage: 'monitor ready',
      env: { ...FAST_MONITOR_ENV, ...this.options.monitorEnv, ...extra.env, ...(extra.env?.['MONITOR_ID'] ? {} : { MONITOR_ID: this.nextId(name, false) }) },
      ...(extra.clockSkewMs === undefined ? {} : { clockSkewMs: extra.clockSkewMs }),
    });
  }

  /** The running process called `name`. */
  get(name: string): WorkerProcess {
    const found = this.processes.get(name);
    if (found === undefined) throw new Error(`no process called ${name} is running`);
    return found;
  }

  /** Names of the processes currently running. */
  names(): string[] {
    return [...this.processes.keys()];
  }

  /** Sends `signal` (default SIGKILL) and waits until the process is gone. */
  async kill(name: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const process = this.get(name);
    this.processes.delete(name);
    process.kill(signal);
    await process.exited;
  }

  /**
   * Forgets `name` if its process has exited by itself (a poison job killed it), so it can be
   * started again under the same name; false when it still runs.
   */
  forgetExited(name: string): boolean {
    const process = this.get(name);
    if (process.child.exitCode === null && process.child.signalCode === null) return false;
    this.processes.delete(name);
    return true;
  }

  /** Stops every process (SIGCONT then SIGKILL: a stopped process must be able to die). */
  async stopAll(): Promise<void> {
    const running = [...this.processes.values()];
    this.processes.clear();
    await Promise.all(running.map((process) => stopWorkerProcess(process)));
  }

  /** Stops every process gracefully (SIGTERM), falling back to SIGKILL after `timeoutMs`. */
  async shutdownAll(timeoutMs = 10_000): Promise<void> {
    const running = [...this.processes.values()];
    this.processes.clear();
    await Promise.all(
      running.map(async (process) => {
        process.kill('SIGTERM');
        const timer = setTimeout(() => process.kill('SIGKILL'), timeoutMs);
        await process.exited;
        clearTimeout(timer);
      }),
    );
  }

  private nextId(name: string, bump = true): string {
    const incarnation = (this.incarnations.get(name) ?? 0) + (bump ? 1 : 0);
    if (bump) this.incarnations.set(name, incarnation);
    return `${name}.${incarnation}-${process.pid}`;
  }

  private async launch(name: string, spec: { script?: string; readyMessage?: string; env: Record<string, string>; clockSkewMs?: number }): Promise<WorkerProcess> {
    if (this.processes.has(name)) throw new Error(`a process called ${name} is already running`);
    const started = await startWorkerProcess({
      prefix: this.options.prefix,
      workerId: this.nextId(name),
      env: { REDIS_URL: this.options.redisUrl, ...spec.env, ...(spec.clockSkewMs === undefined ? {} : { CLOCK_SKEW_MS: String(spec.clockSkewMs) }) },
      ...(spec.script === undefined ? {} : { script: spec.script }),
      ...(spec.readyMessage === undefined ? {} : { readyMessage: spec.readyMessage }),
      ...(spec.clockSkewMs === undefined ? {} : { nodeArgs: ['--import', SKEW_PRELOAD] }),
    });
    this.processes.set(name, started);
    this.history.push(started);
    return started;
  }
}
