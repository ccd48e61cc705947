/**
 * Chaos 6 — outages of what kai-jobs depends on besides Redis, during load:
 * (a) Sentry unreachable — one monitor's DSN points at a server that accepts connections and
 *     never answers, the other's at a closed port: jobs keep being processed, nothing is lost,
 *     the monitors keep ticking on time, and every alert is still raised exactly once (and logged);
 * (b) the Supabase endpoint down for 30 s (`CHAOS_OUTAGE_SECONDS`) in the middle of a run with
 *     `STATUS_STORE=supabase` for workers and monitors: workers buffer their status writes and
 *     retry their checkpoints, the monitor takes the backlog for an outage, not stuck work;
 *     once the endpoint is back every row converges in PostgreSQL — completed, or failed for the
 *     one job that really hangs — with its `background_jobs` follower.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SupabaseJobStore, type JobType } from '@kai-jobs/queue';
import { startRestartableEndpoint, startSupabaseTestStack, waitFor, type RestartableEndpoint, type SupabaseTestStack } from '@kai-jobs/queue/testing';
import { startUnresponsiveServer, type ReceivedEvent, type UnresponsiveServer } from '@kai-jobs/monitor/testing';
import { freePort } from '../../bench/lib/redis-server.js';
import { FAST_MONITOR_ENV } from './fleet.js';
import { openScenario, pause, type EnqueuedRef, type Scenario } from './scenario.js';
import { CHAOS } from './settings.js';

const TYPES = { WORKER_TYPES: 'pdf,scrape,xml-import' };
const CHECK_INTERVAL_MS = Number(FAST_MONITOR_ENV['MONITOR_CHECK_INTERVAL_MS']);

/** What the test must close, in reverse order of opening. */
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.().catch(() => undefined);
});

/** One `monitor tick` log line of a monitor process. */
interface TickLine {
  startedAt: number;
  durationMs: number;
  error: string | null;
  failureAlerts: number;
}

function ticksOf(scenario: Scenario, names: string[], from: number, to: number): TickLine[] {
  return names
    .flatMap((name) => scenario.fleet.get(name).logs)
    .filter((line) => line['msg'] === 'monitor tick')
    .map((line) => line as unknown as TickLine)
    .filter((tick) => tick.startedAt >= from && tick.startedAt <= to)
    .sort((a, b) => a.startedAt - b.startedAt);
}

function largestGapMs(ticks: readonly TickLine[]): number {
  let gap = 0;
  for (let index = 1; index < ticks.length; index++) gap = Math.max(gap, (ticks[index] as TickLine).startedAt - (ticks[index - 1] as TickLine).startedAt);
  return gap;
}

/**
 * The alerts the monitors raised, from their `alert sent to Sentry` log lines (what they
 * handed to the Sentry SDK), as events attributed to their queue job: by the `job_id` tag, or
 * by the session or import id the scraping and import alerts are tagged with. One per Sentry
 * event id: an outbox alert Sentry did not acknowledge is handed to the SDK again at every tick
 * under the id derived from its incident, and Sentry keeps one event per id.
 */
function loggedAlerts(scenario: Scenario, names: string[], platformIds: ReadonlyMap<string, string>): ReceivedEvent[] {
  const seen = new Set<string>();
  return names
    .flatMap((name) => scenario.fleet.get(name).logs)
    .filter((line) => line['msg'] === 'alert sent to Sentry')
    .filter((line) => {
      const eventId = String(line['eventId'] ?? '');
      if (eventId === '') return true;
      if (seen.has(eventId)) return false;
      seen.add(eventId);
      return true;
    })
    .map((line) => {
      const tags = (line['tags'] ?? {}) as Record<string, string>;
      const platformId = tags['session_id'] ?? tags['import_job_id'];
      const jobId = platformId === undefined ? tags['job_id'] : platformIds.get(platformId);
      return { tags, fingerprint: line['fingerprint'] as string[], contexts: { logged: { queue_job_id: jobId ?? '(unknown)' } } };
    });
}

describe('chaos: outages during load', () => {
  it('Sentry unreachable (no answer, or a closed port): processing continues, nothing is lost, the monitors keep ticking, each alert is raised once', async () => {
    const unresponsive: UnresponsiveServer = await startUnresponsiveServer();
    cleanups.push(() => unresponsive.close());
    const closedPort = await freePort();
    const scenario = await openScenario('outage-sentry', {
      workerEnv: TYPES,
      monitorEnv: { PDF_UPDATE_TIMEOUT_MS: '3000', SCRAPE_UPDATE_TIMEOUT_MS: '3000', XML_IMPORT_UPDATE_TIMEOUT_MS: '3000' },
    });
    cleanups.push(() => scenario.close());
    const { fleet } = scenario;
    await Promise.all([
      fleet.startMonitor('m1', { env: { SENTRY_DSN: unresponsive.dsn } }),
      fleet.startMonitor('m2', { env: { SENTRY_DSN: `http://publickey@127.0.0.1:${closedPort}/1` } }),
    ]);
    await Promise.all([fleet.startWorker('w1'), fleet.startWorker('w2')]);

    const started = Date.now();
    // Jobs that must alert: a PDF restarted once (its stuck-job alert), a scraping session and an import failed as stuck.
    const restarted = await scenario.enqueuePdf('sentry-down-pdf;hold:tiles_generated');
    const failing: EnqueuedRef[] = [await scenario.enqueueScrape('sentry-down-scrape;holdalways:site_crawled'), await scenario.enqueueImport('sentry-down-import;holdalways:products_imported')];
    const platformIds = new Map([
      ['sentry-down-scrape;holdalways:site_crawled', failing[0]?.id as string],
      ['sentry-down-import;holdalways:products_imported', failing[1]?.id as string],
    ]);
    for (let index = 0; index < 60; index++) {
      await scenario.enqueuePdf(`sentry-load-${index};sleep:100`);
      if (index % 6 === 0) await scenario.enqueueScrape(`sentry-load-s${index};sleep:100`);
      if (index % 6 === 3) await scenario.enqueueImport(`sentry-load-i${index};sleep:100`);
    }
    await scenario.waitUntilSettled(60_000);
    const settledMs = Date.now() - started;

    const failedIds = new Set(failing.map((job) => job.id));
    const alerts = loggedAlerts(scenario, ['m1', 'm2'], platformIds);
    const { violations, snapshot } = await scenario.check(
      {
        outcome: (job) => (failedIds.has(job.id) ? { status: 'failed', error: /^stuck: update_timeout/ } : { status: 'completed' }),
        alerts: (job) => (failedIds.has(job.id) || job.id === restarted.id ? 1 : 0),
      },
      { alerts },
    );

    // Nothing reached a Sentry: one never answered, the other refused.
    expect(scenario.sentry.events).toEqual([]);
    expect(unresponsive.connections()).toBeGreaterThan(0);
    // The monitors kept ticking on schedule while their Sentry calls went nowhere.
    const ticks = ticksOf(scenario, ['m1', 'm2'], started, Date.now());
    expect(ticks.filter((tick) => tick.error !== null)).toEqual([]);
    expect(ticks.length).toBeGreaterThanOrEqual(Math.floor(settledMs / CHECK_INTERVAL_MS / 2));
    expect(Math.max(...ticks.map((tick) => tick.durationMs))).toBeLessThan(2000);
    expect(largestGapMs(ticks)).toBeLessThan(4 * CHECK_INTERVAL_MS);
    console.info(
      `[chaos outages: sentry] ${snapshot.jobs.length} jobs settled in ${settledMs} ms; ${alerts.length} alerts raised (${unresponsive.connections()} connections to the silent Sentry); ` +
        `${ticks.length} ticks, longest ${Math.max(...ticks.map((tick) => tick.durationMs))} ms, largest gap ${largestGapMs(ticks)} ms (interval ${CHECK_INTERVAL_MS} ms)`,
    );
    expect(violations).toEqual([]);
  });

  it(`the Supabase endpoint down for ${CHAOS.outageSeconds} s mid-load: processing continues, nothing is lost, the rows converge in PostgreSQL`, async () => {
    const stack: SupabaseTestStack = await startSupabaseTestStack({ schemaPrefix: 'chaos' });
    cleanups.push(() => stack.close());
    const schema = await stack.createSchema('outage');
    const endpoint: RestartableEndpoint = await startRestartableEndpoint((port) => stack.startEndpoint({ schemas: [schema], ...(port === undefined ? {} : { port }) }));
    cleanups.push(() => endpoint.close());
    // The scenario (producer, invariants) reads and writes through the stack's own endpoint, which stays up.
    const control = { url: stack.url, serviceRoleKey: stack.serviceRoleKey, schema };
    const store = new SupabaseJobStore(control);
    cleanups.push(() => store.close());
    const supabaseEnv = { STATUS_STORE: 'supabase', SUPABASE_URL: endpoint.url, SUPABASE_SERVICE_ROLE_KEY: stack.serviceRoleKey, SUPABASE_SCHEMA: schema };
    const scenario = await openScenario('outage-supabase', {
      store,
      workerEnv: {
        ...TYPES,
        ...supabaseEnv,
        // Short waits so the backlog lands within a second or two of the endpoint coming back.
        OUTAGE_WRITE_TIMEOUT_MS: '500',
        OUTAGE_RETRY_BASE_MS: '100',
        OUTAGE_RETRY_CAP_MS: '1000',
        OUTAGE_LAG_REPORT_INTERVAL_MS: '500',
        OUTAGE_CHECKPOINT_RETRY_CAP_MS: '1000',
      },
      monitorEnv: { ...supabaseEnv, SCRAPE_UPDATE_TIMEOUT_MS: '6000', XML_IMPORT_UPDATE_TIMEOUT_MS: '6000' },
    });
    cleanups.push(() => scenario.close());
    const { fleet } = scenario;
    await Promise.all([fleet.startMonitor('m1'), fleet.startMonitor('m2')]);
    await Promise.all([fleet.startWorker('w1'), fleet.startWorker('w2')]);

    // A scraping session that really hangs (it must still be found and failed, after the outage).
    const hung = await scenario.enqueueScrape('supabase-down-hung;holdalways:site_crawled', { backgroundJobId: 'bg-hung-scrape' });
    const healthy: EnqueuedRef[] = [];
    for (let index = 0; index < 40; index++) {
      healthy.push(await scenario.enqueuePdf(`supabase-load-${index};sleep:300`));
      if (index % 5 === 0) healthy.push(await scenario.enqueueScrape(`supabase-load-s${index};sleep:300`));
      if (index % 5 === 2) healthy.push(await scenario.enqueueImport(`supabase-load-i${index};sleep:300`));
    }

    // The outage starts once the run is under way.
    await waitFor(async () => (await Promise.all(healthy.map((job) => store.get(job.id)))).filter((row) => row?.status === 'completed').length >= 5, {
      timeoutMs: 30_000,
      intervalMs: 200,
      message: 'the run did not get under way',
    });
    const runs = () => scenario.redis.admin.llen(`${scenario.prefix}:test:runs`);
    const completedAtStop = await countCompleted(stack, schema);
    await endpoint.stop();
    const stoppedAt = Date.now();
    const runsAtStop = await runs();
    await pause(CHAOS.outageSeconds * 1000);
    const completedDuringOutage = (await countCompleted(stack, schema)) - completedAtStop;
    const runsDuringOutage = (await runs()) - runsAtStop;
    await endpoint.start();
    const restartedAt = Date.now();

    await scenario.waitUntilSettled(60_000);
    const convergedMs = Date.now() - restartedAt;
    const { violations, snapshot } = await scenario.check({
      outcome: (job) => (job.id === hung.id ? { status: 'failed', error: /^stuck: update_timeout/ } : { status: 'completed' }),
    });

    // The rows converged in PostgreSQL: every job's row, and the background_jobs rows that follow sessions and imports.
    const tables: Record<JobType, string> = { pdf: 'background_jobs', scrape: 'scraping_sessions', 'xml-import': 'data_import_jobs' };
    for (const type of ['pdf', 'scrape', 'xml-import'] as const) {
      const ids = scenario.jobs.filter((job) => job.type === type).map((job) => job.id);
      // The platform's own row of each job (its status column), found through kai-jobs' row.
      const { rows } = await stack.admin.query<{ id: string; status: string }>(
        `select k.id, p.status from "${schema}".kai_${tables[type]} k join "${schema}".${tables[type]} p on p.id::text = k.row_id
          where k.id = any($1::text[])`,
        [ids],
      );
      expect(rows, type).toHaveLength(ids.length);
      expect(rows.filter((row) => row.status !== (row.id === hung.id ? 'failed' : 'completed')), type).toEqual([]);
    }
    const { rows: followers } = await stack.admin.query<{ status: string; followed: string }>(
      `select b.status, k.id as followed from "${schema}".background_jobs b
         join (select id, background_job_id from "${schema}".kai_scraping_sessions
               union all select id, background_job_id from "${schema}".kai_data_import_jobs) k on k.background_job_id = b.id::text`,
    );
    expect(followers).toHaveLength(scenario.jobs.filter((job) => job.type !== 'pdf').length);
    expect(followers.filter((row) => row.status !== (row.followed === hung.id ? 'failed' : 'completed'))).toEqual([]);
    expect(followers.find((row) => row.followed === hung.id)).toBeDefined();
    // Nothing was taken for stuck or run twice because of the outage: one attempt per healthy job, every stage once.
    const healthyIds = new Set(healthy.map((job) => job.id));
    const rerun = snapshot.jobs
      .filter((job) => healthyIds.has(job.id) && (job.row?.attempt !== 1 || job.row.restartCount !== 0 || job.runs.some((run) => run.attempt !== 1)))
      .map((job) => `${job.id}: attempt ${job.row?.attempt}, history ${job.history.map((entry) => `${entry.event}${entry['why'] ? ` (${String(entry['why'])})` : ''}`).join(' > ')}`);
    expect(rerun).toEqual([]);
    // The outage really fell in the middle of the run, and no worker or monitor went down with it.
    expect(completedAtStop).toBeGreaterThan(0);
    expect(completedAtStop).toBeLessThan(healthy.length);
    for (const name of ['w1', 'w2', 'm1', 'm2']) expect(fleet.get(name).child.exitCode, name).toBeNull();
    // The monitors kept ticking through the outage (their ticks failed while the store was down) and after it.
    const ticks = ticksOf(scenario, ['m1', 'm2'], stoppedAt, Date.now());
    expect(ticks.filter((tick) => tick.startedAt > stoppedAt + 2000 && tick.startedAt < restartedAt - 2000).every((tick) => tick.error !== null)).toBe(true);
    expect(largestGapMs(ticks)).toBeLessThan(15 * CHECK_INTERVAL_MS);
    expect(ticks.some((tick) => tick.startedAt > restartedAt && tick.error === null)).toBe(true);
    console.info(
      `[chaos outages: supabase] ${snapshot.jobs.length} jobs; endpoint down ${CHAOS.outageSeconds} s with ${completedAtStop} completed; ` +
        `${completedDuringOutage} completed in PostgreSQL and ${runsDuringOutage} stages started during the outage; rows converged ${convergedMs} ms after it came back; ` +
        `${ticks.length} ticks since the outage began, largest gap ${largestGapMs(ticks)} ms; ${snapshot.alerts.length} alerts`,
    );
    expect(violations).toEqual([]);
  });
});

async function countCompleted(stack: SupabaseTestStack, schema: string): Promise<number> {
  const { rows } = await stack.admin.query<{ count: number }>(
    `select (select count(*) from "${schema}".kai_background_jobs where status = 'completed')
          + (select count(*) from "${schema}".kai_scraping_sessions where status = 'completed')
          + (select count(*) from "${schema}".kai_data_import_jobs where status = 'completed') as count`,
  );
  return Number(rows[0]?.count ?? 0);
}
