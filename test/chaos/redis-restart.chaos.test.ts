/**
 * Chaos 2 — Redis restart: the scenario's own `redis-server` (AOF) is killed with `kill -9`
 * while 3 workers and 2 monitors run staged jobs, and started again on the same port and data
 * directory. Workers and monitors are never touched: they must reconnect by themselves.
 *
 * - `appendfsync always`: two outages, one of ~1 s (well within the 5 s lock: every job keeps
 *   its lock and goes on where it was) and one of ~6.5 s (longer than the lock: every lock has
 *   expired when Redis is back, BullMQ's stall check hands the jobs to whichever worker takes
 *   them, the old attempts are fenced off); then new jobs are enqueued and a worker is killed
 *   to show that the producer client and fast failover work on the restarted server.
 * - `appendfsync everysec`: one long outage; a process kill of `redis-server` loses nothing
 *   either (see test/chaos/README.md for the bound everysec allows on a host crash).
 *
 * A write probe checks that no write Redis acknowledged is missing after a restart. Every job
 * completes exactly once, no committed stage runs again, no row is left `processing`, no alert.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@kai-jobs/queue/testing';
import { MonitorStateStore } from '@kai-jobs/monitor';
import { startAckProbe, type AckProbe } from './ack-probe.js';
import type { AppendFsync } from './chaos-redis.js';
import { dumpViolations } from './dump.js';
import { openScenario, pause, type Scenario } from './scenario.js';
import { CHAOS } from './settings.js';

/** The worker log line that says its named connection came back after a drop. */
const RECONNECTED = 'named Redis connection is back: re-registering';
/** The worker log line that says attempts were stopped because their jobs moved on meanwhile. */
const LOST_WHILE_CUT_OFF = 'lost jobs while cut off from Redis: they were handed to other workers; their attempts stop here';
/** The lock of this scenario (ms): long enough that the short outage keeps every lock, short enough that the long one loses them all. */
const LOCK_DURATION_MS = 5000;
const WORKERS = ['w1', 'w2', 'w3'];

let scenario: Scenario | undefined;
let probe: AckProbe | undefined;

afterEach(async () => {
  await probe?.stop();
  probe = undefined;
  await scenario?.close();
  scenario = undefined;
});

async function open(name: string, appendfsync: AppendFsync): Promise<Scenario> {
  scenario = await openScenario(name, {
    appendfsync,
    workerEnv: { LOCK_DURATION_MS: String(LOCK_DURATION_MS) },
    // As in production (30 s lock, 15 min heartbeat timeout), the monitor's timeouts exceed the
    // lock: an outage long enough to make heartbeats look stale has also expired every lock,
    // and BullMQ's stall check, not the monitor, moves those jobs.
    monitorEnv: { PDF_HEARTBEAT_TIMEOUT_MS: String(LOCK_DURATION_MS + 3000), PDF_UPDATE_TIMEOUT_MS: String(LOCK_DURATION_MS + 5000) },
  });
  const { fleet } = scenario;
  await Promise.all([fleet.startMonitor('m1'), fleet.startMonitor('m2')]);
  await Promise.all(WORKERS.map((name) => fleet.startWorker(name)));
  return scenario;
}

/** Redis's clock (ms). */
async function storeNow(scenario: Scenario): Promise<number> {
  const [seconds, micros] = await scenario.redis.admin.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

async function completedCount(scenario: Scenario): Promise<number> {
  const rows = await Promise.all(scenario.jobs.map((job) => scenario.status.get(job.id)));
  return rows.filter((row) => row?.status === 'completed').length;
}

function logCount(scenario: Scenario, name: string, message: string): number {
  return scenario.fleet.get(name).logs.filter((line) => line['msg'] === message).length;
}

/** Jobs named in the "lost jobs while cut off" lines of the running workers. */
function attemptsStopped(scenario: Scenario): number {
  return WORKERS.flatMap((name) => scenario.fleet.get(name).logs)
    .filter((line) => line['msg'] === LOST_WHILE_CUT_OFF)
    .reduce((sum, line) => sum + (Array.isArray(line['jobs']) ? line['jobs'].length : 0), 0);
}

/** What one outage did. */
interface Outage {
  downMs: number;
  /** Store time of the last look before the kill, and of the first after the restart. */
  before: number;
  after: number;
  /** Attempts that workers stopped after reconnecting because their job had moved on meanwhile. */
  stoppedAttempts: number;
}

/**
 * Mid-run (jobs running, some done), kills Redis, keeps it down for `downMs`, starts it
 * again; then waits until every worker re-registered, jobs complete again and a monitor
 * tick ran on the restarted server — nobody is restarted by the test.
 */
async function outage(scenario: Scenario, downMs: number, monitorState: MonitorStateStore): Promise<Outage> {
  const { redis } = scenario;
  const completedAtStart = await completedCount(scenario);
  await waitFor(async () => (await completedCount(scenario)) >= completedAtStart + 3, { timeoutMs: 30_000, message: 'no progress before the outage' });
  const reconnects = WORKERS.map((name) => logCount(scenario, name, RECONNECTED));
  const stoppedBefore = attemptsStopped(scenario);
  const completedBefore = await completedCount(scenario);
  const before = await storeNow(scenario);

  await redis.crash();
  await pause(downMs);
  await redis.start();
  const after = await storeNow(scenario);

  await Promise.all(
    WORKERS.map((name, index) =>
      waitFor(() => logCount(scenario, name, RECONNECTED) > (reconnects[index] as number), {
        timeoutMs: 15_000,
        message: `${name} did not reconnect after the restart`,
      }),
    ),
  );
  await waitFor(async () => (await completedCount(scenario)) >= completedBefore + 3, { timeoutMs: 30_000, message: 'no job completed after the restart' });
  await waitFor(async () => ((await monitorState.lastTick())?.storeNow ?? 0) > after, { timeoutMs: 15_000, message: 'no monitor tick after the restart' });
  return { downMs, before, after, stoppedAttempts: attemptsStopped(scenario) - stoppedBefore };
}

/** Settles, checks the invariants and reports; returns what the assertions need. */
async function finish(scenario: Scenario, name: string, outages: Outage[]) {
  const rows = await scenario.waitUntilSettled(120_000);
  await probe?.stop();
  const { violations, snapshot } = await scenario.check();
  const dumped = dumpViolations(scenario, name, violations, snapshot);
  if (dumped !== null) console.error(`[chaos ${name}] the failing jobs' story: ${dumped}`);
  const entries = snapshot.jobs.flatMap((job) => job.history);
  const stallsIn = (from: number, to: number) => entries.filter((entry) => entry.event === 'stall:detected' && entry.at >= from && entry.at < to).length;
  const perOutage = outages.map((o, index) => ({ ...o, stalls: stallsIn(o.before, outages[index + 1]?.before ?? Number.MAX_SAFE_INTEGER) }));
  const failovers = entries.filter((entry) => entry.event === 'failover').length;
  const stageRuns = snapshot.jobs.reduce((sum, job) => sum + job.runs.length, 0);
  console.info(
    `[chaos ${name}] appendfsync ${scenario.redis.appendfsync}; ` +
      perOutage.map((o) => `outage ${o.downMs} ms: ${o.after - o.before} ms without Redis, ${o.stalls} stalled jobs, ${o.stoppedAttempts} old attempts stopped`).join('; ') +
      `; probe: ${probe?.acknowledged ?? 0} writes acknowledged, ${probe?.lost ?? 0} lost; ${snapshot.jobs.length} jobs, ` +
      `${rows.filter((row) => row.restartCount > 0).length} restarted, ${failovers} failovers; ${stageRuns} stage runs for ${snapshot.jobs.length * 5} stages`,
  );
  const failedOverWorkers = new Set(entries.filter((entry) => entry.event === 'failover').map((entry) => String(entry['workerId'])));
  return { violations, perOutage, failedOverWorkers };
}

describe('chaos: kill -9 the Redis server mid-run', () => {
  it(`appendfsync always, a short and a long outage: ${CHAOS.redisRestartJobs} jobs complete exactly once; workers and monitors reconnect by themselves; no acknowledged write lost`, async () => {
    const opened = await open('redis-restart', 'always');
    const { fleet, redis } = opened;
    for (let index = 0; index < CHAOS.redisRestartJobs; index++) await opened.enqueuePdf(`restart-${index};sleep:${CHAOS.redisRestartStageMs}`);
    probe = startAckProbe(redis.url, `${opened.prefix}:test:ack-probe`);
    const monitorState = new MonitorStateStore({ connection: redis.admin, prefix: opened.prefix });

    const outages = [await outage(opened, CHAOS.redisShortDownMs, monitorState), await outage(opened, CHAOS.redisLongDownMs, monitorState)];

    // The restarted server takes new work (the producer client reconnected too), and fast
    // failover works on it: kill a worker in the middle of its jobs.
    const secondBatch = Math.max(15, Math.round(CHAOS.redisRestartJobs / 4));
    for (let index = 0; index < secondBatch; index++) await opened.enqueuePdf(`after-restart-${index};sleep:${CHAOS.redisRestartStageMs}`);
    const victim = fleet.get('w1');
    let held: string[] = [];
    await waitFor(
      async () => {
        const rows = await Promise.all(opened.jobs.map((job) => opened.status.get(job.id)));
        held = rows.filter((row) => row?.status === 'processing' && row.workerId === victim.workerId).map((row) => row?.id as string);
        return held.length > 0;
      },
      { timeoutMs: 30_000, message: `${victim.workerId} never held a job after the restarts` },
    );
    const killedAt = await storeNow(opened);
    await fleet.kill('w1', 'SIGKILL');
    await waitFor(
      async () => {
        const histories = await Promise.all(held.map((id) => opened.status.history(id, 1000)));
        return histories.some((history) => history.some((entry) => entry.event === 'failover' && entry['workerId'] === victim.workerId && entry.at >= killedAt));
      },
      { timeoutMs: 15_000, message: `no job of the killed ${victim.workerId} was failed over` },
    );
    await fleet.startWorker('w1');

    const { violations, perOutage, failedOverWorkers } = await finish(opened, 'redis-restart', outages);
    // The outages failed nobody over: every worker was alive, only Redis was gone.
    expect([...failedOverWorkers]).toEqual([victim.workerId]);
    expect(probe.lost).toBe(0);
    expect(probe.acknowledged).toBeGreaterThan(0);
    // The short outage kept every lock: nothing stalled, no attempt was stopped.
    expect(perOutage[0]?.stalls).toBe(0);
    expect(perOutage[0]?.stoppedAttempts).toBe(0);
    // The long one outlived every lock: the running jobs stalled and moved on.
    expect(perOutage[1]?.stalls).toBeGreaterThan(0);
    expect(violations).toEqual([]);
  });

  it('appendfsync everysec, a long outage: a process kill of redis-server loses no acknowledged write either', async () => {
    const opened = await open('redis-restart-everysec', 'everysec');
    const { redis } = opened;
    for (let index = 0; index < CHAOS.redisEverysecJobs; index++) await opened.enqueuePdf(`everysec-${index};sleep:${CHAOS.redisRestartStageMs}`);
    probe = startAckProbe(redis.url, `${opened.prefix}:test:ack-probe`);
    const monitorState = new MonitorStateStore({ connection: redis.admin, prefix: opened.prefix });

    const outages = [await outage(opened, CHAOS.redisLongDownMs, monitorState)];

    const { violations, failedOverWorkers } = await finish(opened, 'redis-restart-everysec', outages);
    expect([...failedOverWorkers]).toEqual([]);
    expect(probe.lost).toBe(0);
    expect(probe.acknowledged).toBeGreaterThan(0);
    expect(violations).toEqual([]);
  });
});
