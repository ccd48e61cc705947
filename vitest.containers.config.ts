import { defineConfig } from 'vitest/config';

/**
 * `pnpm test:containers` (scripts/test-containers.sh builds the images first): the compose stack
 * for real, on the engine DOCKER_HOST names. One file at a time: the stack takes the machine.
 */
export default defineConfig({
  test: {
    name: 'containers',
    retry: 0,
    include: ['test/containers/**/*.containers.test.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 420_000,
    pool: 'forks',
  },
});
