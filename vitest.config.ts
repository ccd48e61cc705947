import { defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` (no network) and `integration` (real Redis / PostgreSQL, each file in
 * its own process). Retries are off on purpose: a flaky test is a bug to fix, not to hide.
 */
export default defineConfig({
  test: {
    retry: 0,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
          testTimeout: 10_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['packages/*/test/**/*.int.test.ts', 'apps/*/test/**/*.int.test.ts', 'test/e2e/**/*.int.test.ts'],
          exclude: ['**/node_modules/**'],
          setupFiles: ['./test/setup/open-handles.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
          pool: 'forks',
        },
      },
    ],
  },
});
