import { defineConfig } from 'vitest/config';

/**
 * `pnpm test:chaos`: the chaos scenarios (test/chaos/*.chaos.test.ts). Each file starts its own
 * `redis-server`, worker and monitor processes; files run one at a time so the faults of one
 * never land on another, and so timings stay honest on a 2-core machine.
 */
export default defineConfig({
  test: {
    name: 'chaos',
    retry: 0,
    include: ['test/chaos/**/*.chaos.test.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
