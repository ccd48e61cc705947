import { getEventListeners } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import { CpuPool } from '../src/index.js';
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

  it('replaces a thread after maxTasksPerThread tasks (native state of a long-lived thread crashed the process in the soak)', async () => {
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
