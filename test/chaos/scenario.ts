/**
 * One chaos scenario's world: its own `redis-server`, a key prefix, a local Sentry, the
 * producer client, a fleet of worker and monitor processes, and the invariant check at the end.
 */
import { randomBytes } from 'node:crypto';
import { createJobClient, JOB_TYPES, RedisJobStore, type JobClient, type JobStore, type JobType, type StatusRow, type StatusStore, type ThresholdOverrides } from '@kai-jobs/queue';
import { waitFor } from '@kai-jobs/queue/testing';
import { startSentryReceiver, type ReceivedEvent, type SentryReceiver } from '@kai-jobs/monitor/testing';
import { startChaosRedis, type AppendFsync, type ChaosRedis } from './chaos-redis.js';
import { Fleet, type FleetOptions } from './fleet.js';
import { collectSnapshot, findViolations, type ChaosSnapshot, type Expectations } from './invariants.js';

/** A job the scenario enqueued. */
export interface EnqueuedRef {
  id: string;
  type: JobType;
}

/** Per-job options of a synthetic scrape or import. */
export interface SyntheticJobOptions {
  /** The monitor's thresholds for this job. */
  thresholds?: ThresholdOverrides;
  /** The platform's linked `background_jobs` row. */
  backgroundJobId?: string;
}

/** What a scenario works with. */
export interface Scenario {
  readonly redis: ChaosRedis;
  readonly prefix: string;
  readonly sentry: SentryReceiver;
  readonly client: JobClient;
  readonly fleet: Fleet;
  readonly status: RedisJobStore;
  /** Where the scenario reads status rows: {@link status}, or the status store given to {@link openScenario}. */
  readonly rows: StatusStore;
  /** Every job enqueued through {@link enqueuePdf}, {@link enqueueScrape} or {@link enqueueImport}, in order. */
  readonly jobs: EnqueuedRef[];
  /** Enqueues a synthetic five-stage pdf job whose behaviour is spelled in `documentId` (see synthetic-job.ts). */
  enqueuePdf(documentId: string, options?: { updateTimeoutMs?: number; heartbeatTimeoutMs?: number }): Promise<EnqueuedRef>;
  /**
   * Enqueues a synthetic two-stage scraping session whose behaviour is spelled in `sessionId`
   * (see synthetic-other-jobs.ts); the workers must run `WORKER_TYPES` with `scrape`.
   */
  enqueueScrape(sessionId: string, options?: SyntheticJobOptions): Promise<EnqueuedRef>;
  /** Enqueues a synthetic two-stage XML import whose behaviour is spelled in `importJobId` (workers with `xml-import`). */
  enqueueImport(importJobId: string, options?: SyntheticJobOptions): Promise<EnqueuedRef>;
  /** Resolves once every enqueued job's row is completed or failed. */
  waitUntilSettled(timeoutMs: number): Promise<StatusRow[]>;
  /**
   * Reads the stores and returns every broken invariant. The alerts are what the local Sentry
   * received, unless `alerts` is given (a scenario whose monitors cannot reach that Sentry).
   */
  check(expectations?: Expectations, options?: { alerts?: readonly ReceivedEvent[] }): Promise<{ violations: string[]; snapshot: ChaosSnapshot }>;
  /** Stops every process, Redis and the receiver. */
  close(): Promise<void>;
}

/** Opens a scenario: Redis (AOF with `appendfsync` as given), Sentry receiver, client, empty fleet. */
export async function openScenario(
  name: string,
  options: {
    appendfsync?: AppendFsync;
    workerEnv?: Record<string, string>;
    monitorEnv?: Record<string, string>;
    /**
     * A job store other than Redis (Supabase, with `STATUS_STORE=supabase` in
     * the fleet's environment): the client creates rows in them and the invariants read them.
     */
    store?: JobStore;
  } = {},
): Promise<Scenario> {
  const redis = await startChaosRedis(options.appendfsync === undefined ? {} : { appendfsync: options.appendfsync });
  const prefix = `chaos-${name}-${randomBytes(3).toString('hex')}`;
  const sentry = await startSentryReceiver();
  const redisOptions = { url: redis.url, prefix };
  const client = createJobClient({ redis: redisOptions, waitPollIntervalMs: 50, ...(options.store ? { statusStore: options.store } : {}) });
  const fleetOptions: FleetOptions = {
    redisUrl: redis.url,
    prefix,
    workerEnv: { ...options.workerEnv },
    monitorEnv: { SENTRY_DSN: sentry.dsn, SENTRY_ENVIRONMENT: 'chaos', ...options.monitorEnv },
  };
  const fleet = new Fleet(fleetOptions);
  const status = new RedisJobStore({ connection: redis.admin, prefix });
  const rowStore: StatusStore = options.store ?? status;
  const jobs: EnqueuedRef[] = [];
  const enqueued = (id: string, type: JobType): EnqueuedRef => {
    const ref = { id, type };
    jobs.push(ref);
    return ref;
  };
  const jobOptions = (extra: SyntheticJobOptions) => (extra.thresholds && Object.keys(extra.thresholds).length > 0 ? { thresholds: extra.thresholds } : {});

  const scenario: Scenario = {
    redis,
    prefix,
    sentry,
    client,
    fleet,
    status,
    rows: rowStore,
    jobs,
    async enqueuePdf(documentId, thresholds = {}) {
      const { id } = await client.enqueue(
        'pdf',
        { documentId, source: { kind: 'file', path: '/synthetic.pdf' } },
        Object.keys(thresholds).length > 0 ? { thresholds } : {},
      );
      const ref = { id, type: 'pdf' as const };
      jobs.push(ref);
      return ref;
    },
    async enqueueScrape(sessionId, extra = {}) {
      const payload = {
        sessionId,
        sourceUrl: `https://synthetic.example/${encodeURIComponent(sessionId)}`,
        ...(extra.backgroundJobId === undefined ? {} : { backgroundJobId: extra.backgroundJobId }),
      };
      return enqueued((await client.enqueue('scrape', payload, jobOptions(extra))).id, 'scrape');
    },
    async enqueueImport(importJobId, extra = {}) {
      const payload = {
        importJobId,
        sourceName: 'synthetic-feed',
        source: { kind: 'file' as const, path: '/synthetic.xml' },
        ...(extra.backgroundJobId === undefined ? {} : { backgroundJobId: extra.backgroundJobId }),
      };
      return enqueued((await client.enqueue('xml-import', payload, jobOptions(extra))).id, 'xml-import');
    },
    async waitUntilSettled(timeoutMs) {
      let rows: (StatusRow | null)[] = [];
      await waitFor(
        async () => {
          rows = await Promise.all(jobs.map((job) => rowStore.get(job.id)));
          return rows.every((row) => row !== null && (row.status === 'completed' || row.status === 'failed'));
        },
        {
          timeoutMs,
          intervalMs: 250,
          message: `jobs not settled within ${timeoutMs} ms: ${describeUnsettled(jobs, () => rows)}`,
        },
      );
      return rows as StatusRow[];
    },
    async check(expectations, checkOptions = {}) {
      // Alerts leave the outbox only once Sentry took them: a job can settle a tick before its
      // alert is delivered. Wait (bounded) for the outbox to drain before counting; an alert
      // never delivered shows up as a missing one.
      if (checkOptions.alerts === undefined) {
        await waitFor(async () => (await Promise.all(JOB_TYPES.map((type) => rowStore.pendingAlerts(type)))).every((pending) => pending.length === 0), {
          timeoutMs: 10_000,
          intervalMs: 100,
        }).catch(() => undefined);
      }
      const snapshot = await collectSnapshot({
        redis: redis.admin,
        prefix,
        jobs,
        alerts: checkOptions.alerts ?? sentry.events,
        ...(options.store ? { store: options.store } : {}),
      });
      return { violations: findViolations(snapshot, expectations), snapshot };
    },
    async close() {
      await fleet.stopAll();
      await client.close().catch(() => undefined);
      await sentry.close();
      await redis.destroy();
    },
  };
  return scenario;
}

function describeUnsettled(jobs: readonly EnqueuedRef[], rows: () => (StatusRow | null)[]): string {
  const open = rows()
    .map((row, index) => ({ row, id: jobs[index]?.id }))
    .filter(({ row }) => row === null || (row.status !== 'completed' && row.status !== 'failed'));
  return `${open.length} open, e.g. ${open
    .slice(0, 5)
    .map(({ row, id }) => `${id} ${row === null ? 'no row' : `${row.status} attempt ${row.attempt} stage ${row.currentStage ?? '-'} restarts ${row.restartCount}`}`)
    .join('; ')}`;
}

/** A uniformly random whole number of ms in [minMs, maxMs]. */
export function randomMs(minMs: number, maxMs: number): number {
  return minMs + Math.floor(Math.random() * (maxMs - minMs + 1));
}

/** Resolves after `ms`: for pacing a fault schedule (kill every 1–3 s), never for waiting on a state. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
