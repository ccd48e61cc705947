/**
 * Chaos 7 — poison jobs: two jobs kill their worker process (`SIGKILL` from inside a stage)
 * on every attempt — one in its first stage (no checkpoint to resume from), one in its third
 * — among ordinary jobs on 3 workers, which a supervisor starts again whenever they die (as a
 * container orchestrator would). Each crash takes the other jobs of that process down with
 * it for a moment: they are failed over and resume elsewhere. Each poison job is failed once
 * its restart limit (3) is used up, with exactly one alert; every ordinary job completes,
 * exactly once, with no alert.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobCatalog, PdfStage } from '@kai-jobs/queue';
import { waitFor } from '@kai-jobs/queue/testing';
import { dumpViolations } from './dump.js';
import { openScenario, type EnqueuedRef, type Scenario } from './scenario.js';
import { CHAOS } from './settings.js';

const WORKERS = ['w1', 'w2', 'w3'];

let scenario: Scenario;
let supervising = true;
const restarting = new Set<Promise<unknown>>();

beforeAll(async () => {
  scenario = await openScenario('poison');
});

afterAll(async () => {
  supervising = false;
  await Promise.allSettled([...restarting]);
  await scenario?.close();
});

/** Starts `name` again whenever its process dies by itself, for as long as the test supervises; counts the deaths. */
function supervise(name: string, deaths: Map<string, number>): void {
  void scenario.fleet.get(name).exited.then(() => {
    if (!supervising || !scenario.fleet.forgetExited(name)) return;
    deaths.set(name, (deaths.get(name) ?? 0) + 1);
    const restart = scenario.fleet.startWorker(name).then(() => supervise(name, deaths));
    restarting.add(restart);
    void restart.finally(() => restarting.delete(restart));
  });
}

describe('chaos: poison jobs that kill their worker on every attempt', () => {
  it(`are failed after the restart limit with one alert each; ${CHAOS.poisonJobs} ordinary jobs beside them all complete`, async () => {
    const { fleet } = scenario;
    await Promise.all([fleet.startMonitor('m1'), fleet.startMonitor('m2')]);
    await Promise.all(WORKERS.map((name) => fleet.startWorker(name)));
    const deaths = new Map<string, number>();
    for (const name of WORKERS) supervise(name, deaths);

    const poison: EnqueuedRef[] = [];
    const ordinary: EnqueuedRef[] = [];
    for (let index = 0; index < CHAOS.poisonJobs; index++) {
      ordinary.push(await scenario.enqueuePdf(`ordinary-${index};sleep:${CHAOS.poisonStageMs}`));
      // The poison jobs go in among the first ordinary ones, so their crashes hit running work.
      if (index === 2) poison.push(await scenario.enqueuePdf(`poison-first-stage;crash:${PdfStage.PdfLoaded}`));
      if (index === 7) poison.push(await scenario.enqueuePdf(`poison-third-stage;crash:${PdfStage.TilesGenerated}`));
    }
    const poisonIds = new Set(poison.map((job) => job.id));

    const rows = await scenario.waitUntilSettled(150_000);
    supervising = false;
    await Promise.allSettled([...restarting]);
    const { violations, snapshot } = await scenario.check({
      // BullMQ failed it for stalling (the watcher stops failing over a job at the limit); the
      // monitor then fails the row: the restart limit is used up (or, crashing in its first
      // stage, it never had a checkpoint to restart from).
      outcome: (job) =>
        poisonIds.has(job.id)
          ? { status: 'failed', error: /^stuck: \w+ \(failed_by_bullmq\); failed_by_bullmq: (restart limit reached \(3 of 3\)|no valid checkpoint to restart from)$/ }
          : { status: 'completed' },
    });
    const dumped = dumpViolations(scenario, 'poison', violations, snapshot);
    if (dumped !== null) console.error(`[chaos poison] the failing jobs' story: ${dumped}`);

    const byId = new Map(snapshot.jobs.map((job) => [job.id, job]));
    const crashes = [...deaths.values()].reduce((sum, count) => sum + count, 0);
    const ordinarySeen = snapshot.jobs.filter((job) => !poisonIds.has(job.id));
    const collateral = ordinarySeen.filter((job) => job.history.some((entry) => entry.event === 'failover'));
    const worstRestarts = Math.max(...ordinarySeen.map((job) => job.row?.restartCount ?? 0));
    const deferrals = snapshot.jobs.reduce((sum, job) => sum + job.history.filter((entry) => entry.event === 'deferred').length, 0);
    const poisonStory = poison.map((job) => {
      const seen = byId.get(job.id);
      const runs = seen?.runs.length ?? 0;
      const failovers = seen?.history.filter((entry) => entry.event === 'failover').length ?? 0;
      const stalls = seen?.history.filter((entry) => entry.event === 'stall:detected').length ?? 0;
      return `${seen?.row?.payload && (seen.row.payload as { documentId?: string }).documentId}: ${runs} stage runs, ${failovers} failovers, ${stalls} stalls, restarts ${seen?.row?.restartCount}, "${seen?.row?.error}"`;
    });
    console.info(
      `[chaos poison] ${crashes} worker crashes (${WORKERS.map((name) => `${name} ${deaths.get(name) ?? 0}`).join(', ')}); ` +
        `${ordinary.length} ordinary jobs completed, ${collateral.length} of them taken down by a crash (one at most ${worstRestarts} times); ` +
        `${deferrals} deferrals of a restarted job; ${snapshot.alerts.length} alerts; ` +
        poisonStory.join('; '),
    );

    expect(violations).toEqual([]);
    for (const job of poison) {
      const row = rows.find((candidate) => candidate.id === job.id);
      expect(row?.status).toBe('failed');
      expect(row?.restartCount).toBe(jobCatalog.pdf.defaults.maxRestarts);
    }
    // Every attempt of a poison job killed a worker: the limit bounds the crashes.
    expect(crashes).toBeGreaterThanOrEqual(poison.length * (jobCatalog.pdf.defaults.maxRestarts + 1));
    expect(snapshot.alerts.map((event) => event.tags?.['job_id']).sort()).toEqual(poison.map((job) => job.id).sort());
    // The workers are all up again: the poison took nobody down for good.
    await waitFor(() => WORKERS.every((name) => fleet.names().includes(name)), { timeoutMs: 30_000 });
  });
});
