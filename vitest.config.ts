import { defineConfig } from 'vitest/config';

const integration = {
  setupFiles: ['./test/setup/open-handles.ts'],
  testTimeout: 30_000,
  hookTimeout: 30_000,
  pool: 'forks' as const,
};

/**
 * Three projects: `unit` (no network), `integration` (real Redis / PostgreSQL, each file in
 * its own process) and `timing` (`*.timing.int.test.ts`: end-to-end tests whose assertion is
 * a latency, such as fast failover's 2 s; they run one file at a time after the others, so
 * the suite's own parallel files do not starve them). Retries are off on purpose: a flaky
 * test is a bug to fix, not to hide.
 */
export default defineConfig({
  test: {
    retry: 0,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'test/chaos/**/*.test.ts', 'test/security/**/*.test.ts', 'test/setup/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/*.chaos.test.ts', '**/node_modules/**'],
          testTimeout: 10_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: [
            'packages/*/test/**/*.int.test.ts',
            'apps/*/test/**/*.int.test.ts',
            'test/e2e/**/*.int.test.ts',
            'test/security/**/*.int.test.ts',
            'test/platform/**/*.int.test.ts',
          ],
          exclude: ['**/*.timing.int.test.ts', '**/node_modules/**'],
          sequence: { groupOrder: 0 },
          ...integration,
        },
      },
      {
        test: {
          name: 'timing',
          include: ['packages/*/test/**/*.timing.int.test.ts', 'apps/*/test/**/*.timing.int.test.ts', 'test/e2e/**/*.timing.int.test.ts'],
          exclude: ['**/node_modules/**'],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
          ...integration,
        },
      },
    ],
  },
});
