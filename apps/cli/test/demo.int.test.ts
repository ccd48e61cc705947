import { describe, expect, it } from 'vitest';
import { useRedisTestContext } from '@kai-jobs/queue/testing';
import { kaiJobs, spawnCli, testEnv } from './support.js';

const ctx = useRedisTestContext(import.meta.url);

interface DemoReport {
  durationMs: number;
  samples: { type: string; status: string; result: Record<string, number> }[];
  crash: {
    killedWorker: string;
    killedAt: { stage: string };
    checkpointsBeforeKill: string[];
    resumed: { from: string; restored: string[]; workerId: string; attempt: number } | null;
    handBack: { by: string; afterKillMs: number; goneForMs: number | null };
    status: string;
    pages: number;
  };
  resumedFromCheckpoint: boolean;
}

describe('pnpm demo', () => {
  it('against a started system: sample work of each type, then a worker killed mid-PDF and the job resumed from its checkpoint', async () => {
    const env = testEnv(ctx.redisUrl, ctx.prefix, { SCRAPE_ALLOW: '127.0.0.1', BOARD_PORT: '0', WORKER_CONCURRENCY: 'pdf=1' });
    const system = spawnCli(['start'], env);
    try {
      await system.waitForStdout(/board ready: /);
      const demo = await kaiJobs(['demo', '--pages', '30', '--products', '200', '--step-timeout-ms', '120000', '--json'], env);
      const report = demo.json<DemoReport>();
      expect(demo.stderr).toContain('kill -9');
      expect(report.samples.map((sample) => [sample.type, sample.status])).toEqual([
        ['pdf', 'completed'],
        ['scrape', 'completed'],
        ['xml-import', 'completed'],
      ]);
      expect(report.samples[1]?.result).toMatchObject({ products: 2 });
      expect(report.samples[2]?.result).toMatchObject({ totalProducts: 200, processedProducts: 192, failedProducts: 8 });
      expect(report.crash.killedAt.stage).toBe('tiles_generated');
      expect(report.crash.checkpointsBeforeKill).toEqual(['pdf_loaded', 'text_extracted']);
      expect(report.crash.resumed).toMatchObject({ from: 'tiles_generated', restored: ['pdf_loaded', 'text_extracted'] });
      expect(report.crash.resumed?.workerId).not.toBe(report.crash.killedWorker);
      expect(report.crash).toMatchObject({ status: 'completed', pages: 30 });
      expect(report.resumedFromCheckpoint).toBe(true);
      // The narration says what did the work, measured: fast failover (on under pnpm start), not a lock expiry.
      expect(report.crash.handBack).toMatchObject({ by: 'failover', goneForMs: expect.any(Number) });
      expect(demo.stderr).toMatch(/fast failover saw \S+'s connection gone .* a worker claimed it [\d.]+ m?s after the kill/);
      expect(demo.stderr).not.toMatch(/lock expires|about a minute/);
      expect(demo.stderr).toMatch(new RegExp(`demo done in [\\d.]+ (ms|s|min)`));
      expect(report.durationMs).toBeGreaterThan(0);
      expect(demo.code).toBe(0);
      system.child.kill('SIGTERM');
      expect(await system.exited).toBe(0);
    } finally {
      await system.kill();
    }
  }, 240_000);
});
