import { fileURLToPath } from 'node:url';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Alerter, canaryPdf, createMonitor } from '@kai-jobs/monitor';
import { Queue } from 'bullmq';
import { bullPrefix } from '@kai-jobs/queue';
import { useRedisTestContext } from '@kai-jobs/queue/testing';
import { startWorkerProcess, stopWorkerProcess } from '../../packages/workers/test/fixtures/worker-process.js';

const ctx = useRedisTestContext(import.meta.url);
const WORKER_BIN = fileURLToPath(new URL('../../packages/workers/src/bin/worker.ts', import.meta.url));

describe('recovery drill', () => {
  it('the canary PDF is a PDF pdf.js can read (header, xref, trailer)', () => {
    const pdf = canaryPdf().toString('latin1');
    expect(pdf.startsWith('%PDF-1.4\n')).toBe(true);
    const xrefAt = Number(/startxref\n(\d+)\n/.exec(pdf)?.[1]);
    expect(pdf.slice(xrefAt, xrefAt + 4)).toBe('xref');
    const firstObject = Number(/xref\n0 \d+\n0000000000 65535 f \n(\d{10})/.exec(pdf)?.[1]);
    expect(pdf.slice(firstObject, firstObject + 7)).toBe('1 0 obj');
  });

  it('passes against a real worker process running the real PDF pipeline', async () => {
    const worker = await startWorkerProcess({
      prefix: ctx.prefix,
      workerId: `drill-worker-${process.pid}`,
      script: WORKER_BIN,
      readyMessage: 'worker ready',
      env: { WORKER_TYPES: 'pdf', HEARTBEAT_INTERVAL_MS: '500', ARTIFACTS_DIR: mkdtempSync(join(tmpdir(), 'kai-drill-')), LOG_LEVEL: 'info' },
    });
    const monitor = ctx.track('monitor', createMonitor({ redis: ctx.redisOptions, alerter: ctx.manage('alerter', new Alerter()), backoff: { baseMs: 100, capMs: 200 } }));
    try {
      const result = await monitor.drill({ updateTimeoutMs: 1500, timeoutMs: 60_000 });
      expect(result.failure).toBeNull();
      expect(result.passed).toBe(true);
      expect(result.steps.map((step) => step.step)).toEqual(['enqueued', 'hanging', 'detected', 'restarted', 'resumed', 'completed']);
      // Detection takes about the canary's update timeout (the hang began before the drill saw it).
      expect(result.timings.detectionMs).toBeGreaterThan(0);
      expect(result.timings.detectionMs).toBeLessThan(1500 + 10_000);
      expect(result.timings.recoveryMs).toBeGreaterThan(0);
      // The canary travels as a spec the worker writes the PDF from, never as a document.
      const queue = ctx.manage('queue', new Queue('pdf-processing', { connection: ctx.connection(), prefix: bullPrefix(ctx.prefix, 'pdf-processing') }));
      const [canary] = await queue.getJobs(['completed']);
      expect(canary?.data.source).toEqual({ kind: 'canary', text: 'kai-jobs drill: porcelain tile 60x60 cm' });
      expect(JSON.stringify(canary?.data).length).toBeLessThan(400);
    } finally {
      await monitor.close();
      await stopWorkerProcess(worker);
    }
  }, 90_000);

  it('fails with a reason when no worker takes the canary', async () => {
    const monitor = ctx.track('monitor', createMonitor({ redis: ctx.redisOptions, alerter: ctx.manage('alerter', new Alerter()) }));
    const result = await monitor.drill({ timeoutMs: 1500, pollIntervalMs: 50 });
    expect(result.passed).toBe(false);
    expect(result.failure).toMatch(/timed out waiting for a worker to reach the hang/);
    await monitor.close();
  });
});
