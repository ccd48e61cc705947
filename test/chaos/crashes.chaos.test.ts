/**
 * Chaos 1 — crashes: 3 worker processes and 2 monitors; 300 five-stage jobs; `kill -9` a
 * random worker every 1–3 s for 60 s, restarting it each time. Every job completes, none
 * twice, no finished stage runs again, no row is left `processing`, no alert.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openScenario, pause, randomMs, type Scenario } from './scenario.js';
import { CHAOS } from './settings.js';

let scenario: Scenario;

beforeAll(async () => {
  scenario = await openScenario('crashes', {
    // A kill every ~2 s across 3 workers hits a running job about once per run: the default
    // budget of 3 restarts would fail a few jobs by design. The budget is not what this tests.
    monitorEnv: { MONITOR_MAX_RESTARTS: '20' },
  });
});

afterAll(async () => {
  await scenario?.close();
});

describe('chaos: kill -9 a random worker every 1–3 s', () => {
  it(`${CHAOS.crashJobs} jobs all complete exactly once, no finished stage re-run`, async () => {
    const { fleet } = scenario;
    await Promise.all([fleet.startMonitor('m1'), fleet.startMonitor('m2')]);
    const workers = ['w1', 'w2', 'w3'];
    await Promise.all(workers.map((name) => fleet.startWorker(name)));
    for (let index = 0; index < CHAOS.crashJobs; index++) await scenario.enqueuePdf(`crash-${index};sleep:${CHAOS.crashStageMs}`);

    let kills = 0;
    const restarts: Promise<unknown>[] = [];
    const until = Date.now() + CHAOS.crashSeconds * 1000;
    while (Date.now() < until) {
      await pause(randomMs(1000, 3000));
      const running = workers.filter((name) => fleet.names().includes(name));
      const victim = running[Math.floor(Math.random() * running.length)];
      if (victim === undefined) continue;
      await fleet.kill(victim, 'SIGKILL');
      kills++;
      restarts.push(fleet.startWorker(victim));
    }
    await Promise.all(restarts);

    const rows = await scenario.waitUntilSettled(120_000);
    const { violations, snapshot } = await scenario.check({ maxRestarts: 20 });
    const stageRuns = snapshot.jobs.reduce((sum, job) => sum + job.runs.length, 0);
    const failovers = snapshot.jobs.reduce((sum, job) => sum + job.history.filter((entry) => entry.event === 'failover').length, 0);
    const restarted = rows.filter((row) => row.restartCount > 0).length;
    console.info(
      `[chaos crashes] ${kills} kills, ${snapshot.jobs.length} jobs, ${restarted} restarted (${failovers} failovers), ` +
        `${stageRuns} stage runs for ${snapshot.jobs.length * 5} stages (${stageRuns - snapshot.jobs.length * 5} interrupted stages re-run)`,
    );
    expect(kills).toBeGreaterThanOrEqual(Math.floor(CHAOS.crashSeconds / 3));
    expect(restarted).toBeGreaterThan(0);
    expect(violations).toEqual([]);
  });
});
