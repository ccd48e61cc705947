import { z } from 'zod';
import { CANARY_TEXT, enqueueRecoveryDrill, parseOrThrow, systemClock, toError, type Clock, type JobClient, type StatusRow, type StatusStore } from '@kai-jobs/queue';
import type { TickResult } from './tick/run-once.js';

/** Options of a recovery drill. */
export const DrillOptionsSchema = z
  .object({
    /** The canary's per-job update timeout (ms): how long its hang must last to count as stuck. Default 3000. */
    updateTimeoutMs: z.number().int().min(100).default(3000),
    /** Give up (fail the drill) after this long (ms). Default 120000. */
    timeoutMs: z.number().int().min(1000).default(120_000),
    /** How often the drill looks at the canary (ms). Default 200. */
    pollIntervalMs: z.number().int().min(10).default(200),
    /** Run the monitor's ticks itself (default) or wait for the scheduled ones (a live deployment's real check). */
    driveTicks: z.boolean().default(true),
  })
  .strict();
/** What callers pass to a drill. */
export type DrillOptions = z.input<typeof DrillOptionsSchema>;

/** One step of the drill and when it was reached (ms after the drill started). */
export interface DrillStep {
  step: 'enqueued' | 'hanging' | 'detected' | 'restarted' | 'resumed' | 'completed';
  atMs: number;
  detail?: string;
}

/** The drill's verdict. */
export interface DrillResult {
  passed: boolean;
  jobId: string;
  steps: DrillStep[];
  /** Why it failed (null when it passed). */
  failure: string | null;
  timings: {
    /** From the hang starting to the monitor's restart decision. */
    detectionMs: number | null;
    /** From the restart to the job completing. */
    recoveryMs: number | null;
    totalMs: number;
  };
}

/** What the drill needs from the monitor. */
export interface DrillDeps {
  statusStore: StatusStore;
  client: JobClient;
  runOnce(): Promise<TickResult>;
  clock?: Clock;
}

/**
 * A recovery drill: enqueues a canary PDF job (a ~560-byte inline PDF, labelled by its
 * `drill-` job id and its `options.drill`; its metrics count apart from production) with a per-job update
 * timeout of a few seconds that hangs once in its second stage; checks that the monitor
 * detects it, restarts it from the first stage's checkpoint, and that it completes. Needs a
 * running worker for PDF jobs. Returns pass or fail with the timings; never throws for a
 * failed drill.
 */
export async function runDrill(deps: DrillDeps, input: DrillOptions = {}): Promise<DrillResult> {
  const options = parseOrThrow(DrillOptionsSchema, input, 'drill options');
  const clock = deps.clock ?? systemClock;
  const started = clock.now();
  const steps: DrillStep[] = [];
  const mark = (step: DrillStep['step'], detail?: string) => steps.push({ step, atMs: clock.now() - started, ...(detail ? { detail } : {}) });
  const jobId = `drill-${started}-${Math.random().toString(36).slice(2, 8)}`;
  const deadline = started + options.timeoutMs;
  const result = (failure: string | null): DrillResult => {
    const at = (step: DrillStep['step']) => steps.find((s) => s.step === step)?.atMs ?? null;
    const hanging = at('hanging');
    const detected = at('restarted') ?? at('detected');
    const completed = at('completed');
    return {
      passed: failure === null,
      jobId,
      steps,
      failure,
      timings: {
        detectionMs: hanging !== null && detected !== null ? detected - hanging : null,
        recoveryMs: detected !== null && completed !== null ? completed - detected : null,
        totalMs: clock.now() - started,
      },
    };
  };
  const waitUntil = async (what: string, check: (row: StatusRow | null) => boolean | Promise<boolean>): Promise<StatusRow | null> => {
    for (;;) {
      const row = await deps.statusStore.get(jobId);
      if (await check(row)) return row;
      if (row?.status === 'failed') throw new Error(`the canary failed: ${row.error ?? 'unknown error'}`);
      if (clock.now() > deadline) throw new Error(`timed out waiting for ${what} (status ${row?.status ?? 'missing'}, stage ${row?.currentStage ?? '-'})`);
      await clock.sleep(options.pollIntervalMs);
    }
  };

  try {
    // The drill switch is internal: the public enqueue refuses it in a payload.
    await enqueueRecoveryDrill(
      deps.client,
      { documentId: jobId, source: { kind: 'canary', text: CANARY_TEXT }, options: { skipTiles: true } },
      { hangOnceInStage: 'text_extracted' },
      { jobId, thresholds: { updateTimeoutMs: options.updateTimeoutMs } },
    );
    mark('enqueued');
    await waitUntil('a worker to reach the hang in text_extracted', async () =>
      (await deps.statusStore.history(jobId)).some((entry) => entry.event === 'drill:hanging'),
    );
    mark('hanging');
    let lastTickAt = 0;
    await waitUntil('the monitor to restart the canary', async (row) => {
      if (row !== null && row.restartCount >= 1) return true;
      if (row === null || row.status === 'pending') return false;
      // Tick only once the canary is stale by the store's clock, and at most once a second.
      const stale = (await deps.statusStore.now()) - row.updatedAt > options.updateTimeoutMs;
      if (options.driveTicks && stale && clock.now() - lastTickAt >= 1000) {
        lastTickAt = clock.now();
        const tick = await deps.runOnce();
        const decision = tick.decisions.find((d) => d.jobId === jobId);
        if (decision !== undefined && !steps.some((s) => s.step === 'detected')) mark('detected', `${decision.action}: ${decision.why}`);
        return decision?.action === 'restart' && decision.applied === true;
      }
      return false;
    });
    mark('restarted');
    const completed = await waitUntil('the restarted canary to complete', (row) => row?.status === 'completed');
    const history = await deps.statusStore.history(jobId);
    const resumed = history.find((entry) => entry.event === 'resumed');
    if (resumed === undefined) return result('the canary completed but did not resume from a checkpoint');
    mark('resumed', `from ${String(resumed['from'])}, restored ${JSON.stringify(resumed['restored'])}`);
    mark('completed');
    if (JSON.stringify(resumed['restored']) !== JSON.stringify(['pdf_loaded'])) {
      return result(`expected a restart from the first stage's checkpoint, got restored ${JSON.stringify(resumed['restored'])}`);
    }
    if (completed?.restartCount !== 1) return result(`expected exactly one restart, got ${completed?.restartCount}`);
    return result(null);
  } catch (error) {
    return result(toError(error).message);
  }
}

