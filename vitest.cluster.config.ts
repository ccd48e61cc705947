import { defineConfig } from 'vitest/config';

/**
 * `pnpm test:cluster`: the same end-to-end, client, store, runtime and board suites as
 * `pnpm test`, unchanged, against a 3-primary Redis Cluster instead of one Redis. Only the
 * environment differs (`REDIS_URL` names a node, `REDIS_CLUSTER_NODES` lists the seeds);
 * the global setup starts a cluster when none is given. Excluded: the Supabase/PostgreSQL
 * suites (they test PostgreSQL, not Redis), the stage processors' own suites (covered
 * end to end by test/e2e/processors), and the latency assertions (`*.timing.int.test.ts`: they
 * run alone in `pnpm test`; here files run in parallel — fast failover itself is exercised on the
 * cluster by failover-watcher.int.test.ts).
 */
export default defineConfig({
  test: {
    name: 'cluster',
    retry: 0,
    include: [
      'test/e2e/**/*.int.test.ts',
      'packages/queue/test/*.int.test.ts',
      'packages/checkpoint/test/*.int.test.ts',
      'packages/monitor/test/*.int.test.ts',
      'packages/workers/test/runtime*.int.test.ts',
      'apps/board/test/*.int.test.ts',
    ],
    exclude: ['**/node_modules/**', '**/*supabase*', '**/postgrest*', '**/*.timing.int.test.ts'],
    globalSetup: ['./test/setup/redis-cluster.global.ts'],
    setupFiles: ['./test/setup/open-handles.ts', './test/setup/require-cluster.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
