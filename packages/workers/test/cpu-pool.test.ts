import { getEventListeners } from 'node:events';
import { availableParallelism } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { CpuPool, runInOrderWindow } from '../src/index.js';
import { CpuThreadLimitError } from '../src/cpu/cpu-pool.js';
import { burnTask, explodeTask, hogHeapTask, sumTask, whichThreadTask } from './fixtures/cpu-tasks.js';

const pool = new CpuPool({ size: 2 });
afterAll(() => pool.close());

describe('CpuPool', () => {
  it('runs TypeScript task modules in worker threads while the main thread stays responsive', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const iterations = await pool.run(burnTask, { ms: 300 });
    clearInterval(timer);
    expect(iterations).toBeGreaterThan(0);
    // The event loop kept running during 300 ms of CPU work in the thread.
    expect(ticks).toBeGreaterThan(10);
  });

  it('passes errors back with their name and message', async () => {
    await expect(pool.run(explodeTask, { message: 'bad input' })).rejects.toThrow(/TypeError: bad input/);
  });

  it('transfers buffers', async () => {
    const bytes = new Uint8Array([1, 2, 3, 250]);
    expect(await pool.run(sumTask, { bytes }, { transfer: [bytes.buffer as ArrayBuffer] })).toBe(256);
  });

  it('removes its abort listener from the signal when a task settles', async () => {
    const signal = new AbortController().signal;
    for (let index = 0; index < 12; index++) await pool.run(sumTask, { bytes: new Uint8Array([index]) }, { signal });
    await expect(pool.run(explodeTask, { message: 'x' }, { signal })).rejects.toThrow();
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('aborts a running task by terminating its thread, and keeps working', async () => {
    const controller = new AbortController();
    const running = pool.run(burnTask, { ms: 10_000 }, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('stop now')), 100);
    await expect(running).rejects.toThrow('stop now');
    expect(await pool.run(burnTask, { ms: 10 })).toBeGreaterThan(0);
  });

  it('replaces a thread after maxTasksPerThread tasks when asked to (off by default: a bound for a native leak of some future task)', async () => {
    const recycling = new CpuPool({ size: 1, maxTasksPerThread: 3 });
    try {
      const threads: number[] = [];
      for (let index = 0; index < 7; index++) threads.push(await recycling.run(whichThreadTask, {}));
      // Tasks 1–3 on one thread, 4–6 on a second, 7 on a third.
      expect(new Set(threads.slice(0, 3)).size).toBe(1);
      expect(new Set(threads.slice(3, 6)).size).toBe(1);
      expect(new Set(threads).size).toBe(3);
      expect(recycling.threadsStarted).toBe(3);
    } finally {
      await recycling.close();
    }
    expect(() => new CpuPool({ maxTasksPerThread: 0 })).toThrow(/maxTasksPerThread must be at least 1/);
  });

  it('by default has one thread per core and keeps its threads (the old default replaced them after 50 tasks)', async () => {
    expect(new CpuPool().threads).toBe(availableParallelism());
    const keeping = new CpuPool({ size: 1 });
    try {
      const threads = new Set<number>();
      for (let index = 0; index < 60; index++) threads.add(await keeping.run(whichThreadTask, {}));
      expect(threads.size).toBe(1);
      expect(keeping.threadsStarted).toBe(1);
    } finally {
      await keeping.close();
    }
  });

  it('does not count tasks marked countsTowardRecycling: false toward maxTasksPerThread', async () => {
    const recycling = new CpuPool({ size: 1, maxTasksPerThread: 2 });
    try {
      const light = { ...whichThreadTask, countsTowardRecycling: false };
      const threads: number[] = [];
      for (let index = 0; index < 5; index++) threads.push(await recycling.run(light, {}));
      expect(new Set(threads).size).toBe(1);
      expect(recycling.threadsStarted).toBe(1);
    } finally {
      await recycling.close();
    }
  });

  it('fails a task that outgrows the thread heap with a limit error, and replaces the dead thread', async () => {
    const small = new CpuPool({ size: 1, maxHeapMb: 64 });
    try {
      const before = await small.run(whichThreadTask, {});
      const error = await small.run(hogHeapTask, {}).then(
        () => null,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(CpuThreadLimitError);
      expect(error).toMatchObject({ limit: 'heap', retryable: false, code: 'CPU_THREAD_LIMIT' });
      expect((error as Error).message).toMatch(/hogHeap ran out of its worker thread's heap limit \(maxOldGenerationSizeMb 64 MiB\)/);
      // The process lives on and the next task runs on a fresh thread.
      const after = await small.run(whichThreadTask, {});
      expect(after).not.toBe(before);
      expect(small.threadsStarted).toBe(2);
    } finally {
      await small.close();
    }
    expect(() => new CpuPool({ maxHeapMb: 8 })).toThrow(/maxHeapMb must be at least 16/);
  });

  it('stops a task that runs past its time limit and keeps working', async () => {
    const started = Date.now();
    await expect(pool.run(burnTask, { ms: 20_000 }, { timeoutMs: 200 })).rejects.toMatchObject({
      name: 'CpuThreadLimitError',
      limit: 'time',
      message: expect.stringMatching(/burn ran longer than its time limit of 200 ms/),
    });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await pool.run(burnTask, { ms: 10 }, { timeoutMs: 5000 })).toBeGreaterThan(0);
  });
});

describe('runInOrderWindow', () => {
  /** A task whose promise the test settles by hand, in any order it likes. */
  function deferred(): { promise: Promise<number>; resolve(value: number): void; reject(error: Error): void } {
    let resolve!: (value: number) => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<number>((yes, no) => {
      resolve = yes;
      reject = no;
    });
    return { promise, resolve, reject };
  }

  it('keeps at most `concurrency` running, delivers in input order whatever order they finish in', async () => {
    const tasks = Array.from({ length: 6 }, () => deferred());
    const started: number[] = [];
    const delivered: number[] = [];
    const done = runInOrderWindow([0, 1, 2, 3, 4, 5], 2, (item) => {
      started.push(item);
      return (tasks[item] as ReturnType<typeof deferred>).promise;
    }, (result, item) => {
      expect(result).toBe(item * 10);
      delivered.push(item);
    });
    expect(started).toEqual([0, 1]);
    // Item 1 finishes first: it waits for item 0, and nothing new starts (two results held).
    tasks[1]?.resolve(10);
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([0, 1]);
    expect(delivered).toEqual([]);
    tasks[0]?.resolve(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(delivered).toEqual([0, 1]);
    expect(started).toEqual([0, 1, 2, 3]);
    for (const item of [5, 4, 3, 2]) tasks[item]?.resolve(item * 10);
    await done;
    expect(delivered).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('stops starting after a failure, waits for the runs in flight, and throws the failure', async () => {
    const tasks = Array.from({ length: 5 }, () => deferred());
    const started: number[] = [];
    const done = runInOrderWindow([0, 1, 2, 3, 4], 3, (item) => {
      started.push(item);
      return (tasks[item] as ReturnType<typeof deferred>).promise;
    }, () => undefined);
    const outcome = done.then(() => 'resolved', (error: unknown) => (error as Error).message);
    tasks[0]?.reject(new Error('page 0 broke'));
    tasks[2]?.resolve(2);
    let settled = false;
    void outcome.then(() => (settled = true));
    await new Promise((resolve) => setImmediate(resolve));
    // Item 1 is still running: the window waits for it before it throws.
    expect(settled).toBe(false);
    tasks[1]?.resolve(1);
    expect(await outcome).toBe('page 0 broke');
    expect(started).toEqual([0, 1, 2]);
    await expect(runInOrderWindow([1], 0, async () => 1, () => undefined)).rejects.toThrow(/concurrency must be a positive integer/);
  });
});
