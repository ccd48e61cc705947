import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { KaiJobsError, toError } from '@kai-jobs/queue';
import type { CpuTask } from './cpu-task.js';

/** A task that failed inside the worker thread; carries the thread's error name and message. */
export class CpuTaskError extends KaiJobsError {
  override name = 'CpuTaskError' as const;
  constructor(
    readonly task: string,
    readonly remoteName: string,
    message: string,
  ) {
    super('CPU_TASK_FAILED', `${task} failed in a worker thread: ${remoteName}: ${message}`, { retryable: true });
  }
}

/** Which bound of a thread a task went over. */
export const CpuThreadLimit = {
  /** The thread's V8 heap (`resourceLimits.maxOldGenerationSizeMb`) ran out. */
  Heap: 'heap',
  /** The task ran longer than its `timeoutMs`. */
  Time: 'time',
} as const;
/** One of {@link CpuThreadLimit}. */
export type CpuThreadLimit = (typeof CpuThreadLimit)[keyof typeof CpuThreadLimit];

/**
 * A task went over its thread's heap limit or its time limit: the thread was terminated (the
 * process lives on, and the pool starts a fresh thread for the next task). Not retryable by
 * itself: the same input goes over the same limit again; callers decide what the task was.
 */
export class CpuThreadLimitError extends KaiJobsError {
  override name = 'CpuThreadLimitError' as const;
  constructor(
    readonly task: string,
    readonly limit: CpuThreadLimit,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super('CPU_THREAD_LIMIT', `${task} ${message}`, { ...options, retryable: false });
  }
}

interface PendingTask {
  id: number;
  /** Longest the task may run once started (ms); undefined for no limit. */
  timeoutMs: number | undefined;
  /** Counts toward `maxTasksPerThread`. */
  counts: boolean;
  moduleUrl: string;
  exportName: string;
  input: unknown;
  transfer: readonly ArrayBuffer[];
  signal: AbortSignal | undefined;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  busy: PendingTask | null;
  /** The running task's time limit. */
  timer: NodeJS.Timeout | undefined;
  /** Tasks this thread has finished (those that count toward recycling). */
  finished: number;
}

/**
 * Default of {@link CpuPoolOptions.maxTasksPerThread}: threads are kept for good. It was 50,
 * to dodge a SIGSEGV of tile rendering on long-lived threads; its cause (@napi-rs/canvas's
 * async `encode()` racing the garbage collector, see jobs/pdf/render-page-tiles.ts) is fixed,
 * and bench/render-soak.bench.ts renders 1,000 pages on one thread with flat memory.
 */
export const DEFAULT_MAX_TASKS_PER_THREAD = Number.POSITIVE_INFINITY;

/** Default of {@link CpuPoolOptions.maxHeapMb}. */
export const DEFAULT_THREAD_HEAP_MB = 512;

/** Options of {@link CpuPool}. */
export interface CpuPoolOptions {
  /**
   * Worker threads. Default: the available cores (`os.availableParallelism()`). Not cores − 1:
   * the main thread's share (heartbeats, lock renewal, writing results) is small and mostly
   * waiting, the OS scheduler gives it a core when it wakes, and with cores − 1 a 2-core
   * worker rendered PDF tiles on one core (bench/render-cores.bench.ts).
   */
  size?: number;
  /**
   * A thread is replaced by a fresh one after this many tasks (those that count, see
   * `CpuTask.countsTowardRecycling`). Default `Infinity`: threads are kept. A fresh thread costs
   * about 1.2 s of CPU to load tsx and pdf.js again, so set it only to bound a native leak of
   * some future task; the tile renderer has none (bench/render-soak.bench.ts).
   */
  maxTasksPerThread?: number;
  /**
   * Each thread's V8 old-generation heap (MiB, `resourceLimits.maxOldGenerationSizeMb`). A task
   * that outgrows it (a PDF page whose operator list needs gigabytes) kills its thread with
   * ERR_WORKER_OUT_OF_MEMORY, not the process, and fails with {@link CpuThreadLimitError}.
   * Buffers (typed arrays) live outside this heap: bound them where they are made. Default 512:
   * a thread with tsx and pdf.js loaded holds about 120 MiB after its first page, which leaves
   * about 390 MiB for one page (a page of 1.5 million path operators needs more than 70).
   * `Infinity` means V8's default.
   */
  maxHeapMb?: number;
}

/**
 * A fixed pool of worker threads for CPU-heavy stage work (rendering, hashing, parsing),
 * so the main thread keeps renewing BullMQ locks and writing heartbeats. Threads start
 * lazily; an aborted task terminates its thread (the only way to stop synchronous code)
 * and a fresh one replaces it.
 */
export class CpuPool {
  private readonly size: number;
  private readonly maxTasksPerThread: number;
  private readonly maxHeapMb: number;
  private readonly slots: Slot[] = [];
  private readonly queue: PendingTask[] = [];
  private nextId = 1;
  private started = 0;
  private closed = false;

  constructor(options: CpuPoolOptions = {}) {
    this.size = Math.max(1, options.size ?? availableParallelism());
    const maxTasks = options.maxTasksPerThread ?? DEFAULT_MAX_TASKS_PER_THREAD;
    if (!(maxTasks >= 1)) throw new RangeError(`maxTasksPerThread must be at least 1, got ${maxTasks}`);
    this.maxTasksPerThread = maxTasks;
    const heap = options.maxHeapMb ?? DEFAULT_THREAD_HEAP_MB;
    if (!(heap >= 16)) throw new RangeError(`maxHeapMb must be at least 16, got ${heap}`);
    this.maxHeapMb = heap;
  }

  /** Threads the pool runs at most: how many tasks are worth having in flight at once. */
  get threads(): number {
    return this.size;
  }

  /** Threads started since the pool was created (replacements included). */
  get threadsStarted(): number {
    return this.started;
  }

  /**
   * Runs `task(input)` in a thread; rejects with the signal's reason when aborted, and with
   * {@link CpuThreadLimitError} when it outgrows the thread's heap or runs past `timeoutMs`
   * (default: the task's own `timeoutMs`, else no limit).
   */
  run<I, O>(task: CpuTask<I, O>, input: I, options: { signal?: AbortSignal; transfer?: readonly ArrayBuffer[]; timeoutMs?: number } = {}): Promise<O> {
    if (this.closed) return Promise.reject(new Error('the CPU pool is closed'));
    if (options.signal?.aborted) return Promise.reject(toError(options.signal.reason));
    return new Promise<O>((resolve, reject) => {
      // The abort listener goes when the task settles: a job's signal outlives many tasks
      // (one per page), and each listener would keep its task and input alive until the job ends.
      const onAbort = (): void => this.abort(pending);
      const pending: PendingTask = {
        id: this.nextId++,
        timeoutMs: options.timeoutMs ?? task.timeoutMs,
        counts: task.countsTowardRecycling !== false,
        moduleUrl: task.moduleUrl,
        exportName: task.exportName,
        input,
        transfer: options.transfer ?? [],
        signal: options.signal,
        resolve: (value) => {
          options.signal?.removeEventListener('abort', onAbort);
          resolve(value as O);
        },
        reject: (error) => {
          options.signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(pending);
      this.dispatch();
    });
  }

  private spawn(): Slot {
    const worker = new Worker(new URL('./cpu-thread.mjs', import.meta.url), {
      ...(Number.isFinite(this.maxHeapMb) ? { resourceLimits: { maxOldGenerationSizeMb: this.maxHeapMb } } : {}),
    });
    const slot: Slot = { worker, busy: null, timer: undefined, finished: 0 };
    this.started++;
    worker.on('message', (message: { id: number; ok: boolean; output?: unknown; error?: { name: string; message: string } }) => {
      const task = slot.busy;
      if (task === null || task.id !== message.id) return;
      slot.busy = null;
      clearTimeout(slot.timer);
      if (task.counts) slot.finished++;
      if (slot.finished >= this.maxTasksPerThread) {
        // Retired: the next task that needs a thread starts a fresh one.
        this.remove(slot);
        void worker.terminate();
      }
      if (message.ok) task.resolve(message.output);
      else task.reject(new CpuTaskError(task.exportName, message.error?.name ?? 'Error', message.error?.message ?? ''));
      this.dispatch();
    });
    worker.on('error', (error) => {
      const task = slot.busy;
      slot.busy = null;
      clearTimeout(slot.timer);
      this.remove(slot);
      if (task !== null && (error as { code?: unknown }).code === 'ERR_WORKER_OUT_OF_MEMORY') {
        task.reject(
          new CpuThreadLimitError(task.exportName, CpuThreadLimit.Heap, `ran out of its worker thread's heap limit (maxOldGenerationSizeMb ${this.maxHeapMb} MiB); the thread was replaced`, { cause: error }),
        );
      } else task?.reject(toError(error));
      this.dispatch();
    });
    worker.unref();
    this.slots.push(slot);
    return slot;
  }

  private remove(slot: Slot): void {
    const index = this.slots.indexOf(slot);
    if (index >= 0) this.slots.splice(index, 1);
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((candidate) => candidate.busy === null);
      if (slot === undefined) {
        if (this.slots.length >= this.size) return;
        slot = this.spawn();
      }
      const task = this.queue.shift() as PendingTask;
      slot.busy = task;
      if (task.timeoutMs !== undefined) {
        const timeoutMs = task.timeoutMs;
        slot.timer = setTimeout(() => this.expire(slot, task, timeoutMs), timeoutMs);
      }
      slot.worker.ref();
      slot.worker.postMessage(
        { id: task.id, moduleUrl: task.moduleUrl, exportName: task.exportName, input: task.input },
        task.transfer as ArrayBuffer[],
      );
    }
    for (const slot of this.slots) if (slot.busy === null) slot.worker.unref();
  }

  /** A task ran past its time limit: its thread is the only thing that can stop it. */
  private expire(slot: Slot, task: PendingTask, timeoutMs: number): void {
    if (slot.busy !== task) return;
    slot.busy = null;
    this.remove(slot);
    void slot.worker.terminate();
    task.reject(new CpuThreadLimitError(task.exportName, CpuThreadLimit.Time, `ran longer than its time limit of ${timeoutMs} ms; the thread was stopped and replaced`));
    this.dispatch();
  }

  private abort(task: PendingTask): void {
    const queued = this.queue.indexOf(task);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      task.reject(toError(task.signal?.reason));
      return;
    }
    const slot = this.slots.find((candidate) => candidate.busy === task);
    if (slot === undefined) return;
    slot.busy = null;
    clearTimeout(slot.timer);
    this.remove(slot);
    void slot.worker.terminate();
    task.reject(toError(task.signal?.reason));
    this.dispatch();
  }

  /** Terminates every thread; queued and running tasks reject. */
  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0)) task.reject(new Error('the CPU pool closed'));
    await Promise.all(
      this.slots.splice(0).map(async (slot) => {
        clearTimeout(slot.timer);
        slot.busy?.reject(new Error('the CPU pool closed'));
        await slot.worker.terminate();
      }),
    );
  }
}
