import { Job, Queue, Worker } from 'bullmq';
import { describe, expect, it } from 'vitest';
import {
  bullPrefix,
  closeRedis,
  ConnectionRole,
  createJobClient,
  createMemoryLogger,
  createRedisConnection,
  parseRedisUrl,
  RedisConnectionOptionsSchema,
  RedisJobStore,
  RedisWorkerRegistryStore,
  waitForRedis,
  type Clock,
  type JobClient,
  type RedisClient,
  type WorkerRegistryEntry,
} from '@kai-jobs/queue';
import { expectErrorNamed, useRedisTestContext, waitFor } from '@kai-jobs/queue/testing';
import {
  checkClientListUsable,
  failoverLeaseKeys,
  FailoverWatcher,
  MetricsReader,
  type FailoverWatcherOptions,
  type JobHandBack,
} from '../src/index.js';
import { startNameHidingProxy } from './fixtures/name-hiding-proxy.js';

/** `[jobId, outcome, stage]` of each hand-back, sorted by job id. */
function handBackOutcomes(jobs: readonly JobHandBack[]): (string | null)[][] {
  return jobs.map((job) => [job.jobId, job.outcome, job.stage]).sort();
}

const QUEUE = 'pdf-processing';
const ctx = useRedisTestContext(import.meta.url);

/** A worker process faked from its parts: a named connection, a registry entry, jobs locked by its BullMQ worker id. */
interface FakeWorker {
  workerId: string;
  entry: WorkerRegistryEntry;
  jobs: { id: string; token: string }[];
  /** Its named connection; closing it is the process dying. */
  named: RedisClient;
  die(): Promise<void>;
}

function jobClient(): JobClient {
  return ctx.manage('client', createJobClient({ redis: ctx.redisOptions }));
}

function queue(): Queue {
  return ctx.manage('queue', new Queue(QUEUE, { connection: ctx.connection(), prefix: bullPrefix(ctx.prefix, QUEUE) }));
}

function statusStore(): RedisJobStore {
  return new RedisJobStore({ connection: ctx.redis, prefix: ctx.prefix });
}

/** Enqueues `count` PDF jobs and makes `workerId` hold them in stage 3, as a worker process would. */
async function fakeWorker(workerId: string, count: number): Promise<FakeWorker> {
  const jobs = jobClient();
  for (let index = 0; index < count; index++) {
    await jobs.enqueue('pdf', { documentId: `${workerId}-${index}`, source: { kind: 'file', path: '/x.pdf' } });
  }
  const named = ctx.connection(ConnectionRole.Worker, `kai-worker:${workerId}`);
  await waitForRedis(named, ctx.redisUrl, 5000);
  const bull = new Worker(QUEUE, null, { connection: ctx.connection(), prefix: bullPrefix(ctx.prefix, QUEUE), name: workerId, autorun: false });
  const held: { id: string; token: string }[] = [];
  const store = statusStore();
  for (let index = 0; index < count; index++) {
    const token = `${bull.id}:${index + 1}`;
    const job = (await bull.getNextJob(token, { block: false })) as Job;
    await store.markProcessing(job.id as string, { type: 'pdf', fence: token, workerId, stage: 'tiles_generated' });
    held.push({ id: job.id as string, token });
  }
  await bull.close();
  const entry: WorkerRegistryEntry = {
    workerId,
    clientName: `kai-worker:${workerId}`,
    host: 'test-host',
    pid: 4242,
    startedAt: Date.now(),
    queues: [QUEUE],
    bullWorkerIds: [bull.id],
    lockTokenPrefixes: [`${bull.id}:`],
  };
  await new RedisWorkerRegistryStore({ connection: named, prefix: ctx.prefix }).register(entry);
  return { workerId, entry, jobs: held, named, die: () => closeRedis(named) };
}

function watcher(options: Partial<FailoverWatcherOptions> = {}): FailoverWatcher {
  return ctx.track(
    'failover watcher',
    new FailoverWatcher({ redis: ctx.redisOptions, graceMs: 0, checkIntervalMs: 50, leaseMs: 2000, ...options }),
  );
}

async function lockOf(q: Queue, jobId: string): Promise<string | null> {
  return ctx.redis.get(`${q.toKey(jobId)}:lock`);
}

describe('FailoverWatcher.runOnce', () => {
  it('fences off, hands back and records every job of a vanished worker, counts the failovers, removes the worker; a live one keeps its job', async () => {
    const dead = await fakeWorker('dead-1', 3);
    const alive = await fakeWorker('alive-1', 1);
    const q = queue();
    const store = statusStore();
    const w = watcher();
    await dead.die();

    const first = await w.runOnce();
    expect(first.status).toBe('leader');
    expect(first.registered).toBe(2);
    // One look is never a verdict.
    expect(first.failedOver).toEqual([]);
    expect(first.missing.map((m) => m.workerId)).toEqual(['dead-1']);

    const second = await w.runOnce();
    expect(second.failedOver).toHaveLength(1);
    const [failover] = second.failedOver;
    expect(failover).toMatchObject({ workerId: 'dead-1', host: 'test-host', pid: 4242, removed: true });
    expect(handBackOutcomes(failover?.jobs ?? [])).toEqual(dead.jobs.map((job) => [job.id, 'handed_back', 'tiles_generated']).sort());

    for (const job of dead.jobs) {
      expect(await (await Job.fromId(q, job.id))?.getState()).toBe('waiting');
      expect(await lockOf(q, job.id)).toBeNull();
      const row = await store.get(job.id);
      expect(row).toMatchObject({ status: 'pending', restartCount: 1, workerId: null });
      expect(row?.fence).not.toBe(job.token);
      const history = await store.history(job.id);
      expect(history.at(-1)).toMatchObject({
        event: 'failover',
        workerId: 'dead-1',
        jobId: job.id,
        stage: 'tiles_generated',
        queue: QUEUE,
        restartNumber: 1,
        watcherId: w.watcherId,
        leaderEpoch: second.leaderEpoch,
      });
      expect(history.at(-1)?.['goneForMs']).toEqual(expect.any(Number));
      // The job's BullMQ log (Bull Board's Logs tab) tells the same, with the restart and the limit.
      const { logs } = await q.getJobLogs(job.id);
      expect(logs).toEqual([
        expect.stringMatching(
          /^\d{4}-\d\d-\d\dT[\d:.]+Z failed over: worker dead-1 vanished \(its connection gone for [\d.]+ m?s\) in tiles_generated; handed back to the queue, the next worker resumes from the last checkpoint; restart 1 of 3$/,
        ),
      ]);
      // The old attempt is fenced off: its writes and its BullMQ completion are refused.
      await expectErrorNamed(store.progress(job.id, job.token, { percent: 70 }), 'StaleFenceError');
      await expect((await Job.fromId(q, job.id))?.moveToCompleted({}, job.token, false)).rejects.toThrow(/lock/i);
    }
    // The live worker's job is untouched.
    const [aliveJob] = alive.jobs;
    expect(await lockOf(q, aliveJob?.id as string)).toBe(aliveJob?.token);
    expect((await store.get(aliveJob?.id as string))?.fence).toBe(aliveJob?.token);

    const registry = await new RedisWorkerRegistryStore({ connection: ctx.redis, prefix: ctx.prefix }).read();
    expect([...registry.entries.keys()]).toEqual(['alive-1']);
    const reader = new MetricsReader({ connection: ctx.redis, prefix: ctx.prefix });
    expect((await reader.readTotals('pdf')).failovers).toBe(3);
    const recent = await reader.readMetrics({ type: 'pdf', sinceMs: Date.now() - 120_000 });
    expect(recent.summary.failoversByWorker).toEqual({ 'dead-1': 3 });

    // Nothing more to do: a third look changes nothing.
    const third = await w.runOnce();
    expect(third.failedOver).toEqual([]);
    expect(third.missing).toEqual([]);
    await w.stop();
  });

  it('a worker missing for less than the grace period is only missing; nothing is touched', async () => {
    const dead = await fakeWorker('brief-1', 1);
    const q = queue();
    const w = watcher({ graceMs: 60_000 });
    await dead.die();
    for (let look = 0; look < 3; look++) {
      const pass = await w.runOnce();
      expect(pass.failedOver).toEqual([]);
      expect(pass.missing).toHaveLength(1);
      expect(pass.missing[0]?.goneForMs).toBeLessThan(60_000);
      // The next look is due when the grace ends (or at the usual interval, whichever is first).
      expect(pass.nextCheckInMs).toBeLessThanOrEqual(50);
    }
    expect(await lockOf(q, dead.jobs[0]?.id as string)).toBe(dead.jobs[0]?.token);
    await w.stop();
  });

  it('does not fail over a job restarted maxRestarts times: BullMQ lock expiry takes it', async () => {
    const dead = await fakeWorker('poison-1', 1);
    const q = queue();
    const store = statusStore();
    const [job] = dead.jobs;
    await ctx.redis.hset(store.keys('pdf').row(job?.id as string), 'restart_count', '3');
    const w = watcher({ maxRestarts: 3 });
    await dead.die();
    await w.runOnce();
    const pass = await w.runOnce();
    expect(handBackOutcomes(pass.failedOver[0]?.jobs ?? [])).toEqual([[job?.id, 'restart_limit', 'tiles_generated']]);
    expect(await lockOf(q, job?.id as string)).toBe(job?.token);
    expect((await store.get(job?.id as string))?.fence).toBe(job?.token);
    await w.stop();
  });

  it("holds the job type's own restart limit: pdf.maxRestarts 1 stops failover after one restart, whatever the other types allow", async () => {
    const dead = await fakeWorker('typed-limit-1', 2);
    const q = queue();
    const store = statusStore();
    const [limited, fresh] = dead.jobs;
    await ctx.redis.hset(store.keys('pdf').row(limited?.id as string), 'restart_count', '1');
    // The largest limit of all types is 5: with the old rule the first job would be failed over.
    const w = watcher({ maxRestarts: 5, maxRestartsByType: { pdf: 1, scrape: 5, 'xml-import': 5 } });
    await dead.die();
    await w.runOnce();
    const pass = await w.runOnce();
    expect(handBackOutcomes(pass.failedOver[0]?.jobs ?? [])).toEqual(
      [
        [limited?.id, 'restart_limit', 'tiles_generated'],
        [fresh?.id, 'handed_back', 'tiles_generated'],
      ].sort(),
    );
    expect(await lockOf(q, limited?.id as string)).toBe(limited?.token);
    expect((await store.get(fresh?.id as string))?.restartCount).toBe(1);
    await w.stop();
  });

  it('hands back a job whose row is already finished (the worker died between its completion and BullMQ’s), leaving the row as is', async () => {
    const dead = await fakeWorker('late-1', 1);
    const q = queue();
    const store = statusStore();
    const [job] = dead.jobs;
    await store.complete(job?.id as string, job?.token as string, { documentId: 'late-1-0', pages: 1, chunks: 0, tiles: 0, materials: 0, artifacts: [] });
    const w = watcher();
    await dead.die();
    await w.runOnce();
    const pass = await w.runOnce();
    expect(handBackOutcomes(pass.failedOver[0]?.jobs ?? [])).toEqual([[job?.id, 'handed_back', 'tiles_generated']]);
    expect(await (await Job.fromId(q, job?.id as string))?.getState()).toBe('waiting');
    expect((await store.get(job?.id as string))?.status).toBe('completed');
    expect((await store.history(job?.id as string)).at(-1)).toMatchObject({ event: 'failover', workerId: 'late-1' });
    await w.stop();
  });

  it('two watchers at once: one leads, the other follows; each job is failed over exactly once', async () => {
    const dead = await fakeWorker('dead-2', 5);
    const store = statusStore();
    const a = watcher();
    const b = watcher();
    await dead.die();
    const statuses: string[] = [];
    for (let round = 0; round < 4; round++) {
      const passes = await Promise.all([a.runOnce(), b.runOnce()]);
      statuses.push(passes.map((pass) => pass.status).sort().join('+'));
    }
    expect(new Set(statuses)).toEqual(new Set(['follower+leader']));
    expect(a.isLeader !== b.isLeader).toBe(true);
    for (const job of dead.jobs) {
      const failovers = (await store.history(job.id)).filter((entry) => entry.event === 'failover');
      expect(failovers).toHaveLength(1);
    }
    const reader = new MetricsReader({ connection: ctx.redis, prefix: ctx.prefix });
    expect((await reader.readTotals('pdf')).failovers).toBe(5);

    // The leader stops and gives the lease up: the other leads at its next look, with a new epoch.
    const [leader, follower] = a.isLeader ? [a, b] : [b, a];
    const epochs: number[] = [];
    follower.on('leader:acquired', ({ epoch }) => epochs.push(epoch));
    const before = Number(await ctx.redis.get(failoverLeaseKeys(ctx.prefix).epoch));
    await leader.stop();
    expect((await follower.runOnce()).status).toBe('leader');
    expect(epochs).toEqual([before + 1]);
    await follower.stop();
  });

  it('a paused ex-leader cannot act: its term runs out by its own clock, and its renewal fails once another leads', async () => {
    let now = Date.now();
    const clock: Clock = { now: () => now, sleep: () => Promise.resolve() };
    const dead = await fakeWorker('dead-3', 2);
    const q = queue();
    const a = watcher({ clock, leaseMs: 2000 });
    const b = watcher({ leaseMs: 2000 });
    await dead.die();
    expect((await a.runOnce()).status).toBe('leader'); // A saw the worker missing once
    expect((await b.runOnce()).status).toBe('follower');

    // A is paused for longer than the lease: its own clock says its term is over…
    now += 2500;
    expect(a.isLeader).toBe(false);
    // …and meanwhile the lease expired and B took it.
    await ctx.redis.pexpire(failoverLeaseKeys(ctx.prefix).lease, 1);
    await waitFor(async () => (await ctx.redis.exists(failoverLeaseKeys(ctx.prefix).lease)) === 0);
    expect((await b.runOnce()).status).toBe('leader');

    // A wakes with its old observation: it does nothing.
    const woken = await a.runOnce();
    expect(woken.status).toBe('follower');
    expect(woken.failedOver).toEqual([]);
    for (const job of dead.jobs) expect(await lockOf(q, job.id)).toBe(job.token);

    // B, leading, fails the worker over (after its own two looks).
    const pass = await b.runOnce();
    expect(pass.failedOver[0]?.jobs.map((job) => job.outcome)).toEqual(['handed_back', 'handed_back']);
    await a.stop();
    await b.stop();
  });

  it('start() runs passes on its own and stop() gives the lease up', async () => {
    const dead = await fakeWorker('dead-4', 1);
    const store = statusStore();
    const w = watcher({ checkIntervalMs: 50, leaseMs: 1000 });
    const failedOver: string[] = [];
    w.on('job:failed-over', ({ jobId }) => failedOver.push(jobId));
    await w.start();
    await dead.die();
    await waitFor(() => failedOver.length === 1, { timeoutMs: 5000 });
    expect(failedOver).toEqual([dead.jobs[0]?.id]);
    expect((await store.get(dead.jobs[0]?.id as string))?.status).toBe('pending');
    await w.stop();
    expect(await ctx.redis.exists(failoverLeaseKeys(ctx.prefix).lease)).toBe(0);
  });

  it('turned off, it opens no connection and does nothing', async () => {
    const dead = await fakeWorker('dead-5', 1);
    const q = queue();
    const w = watcher({ enabled: false });
    await w.start();
    await dead.die();
    expect((await w.runOnce()).status).toBe('disabled');
    expect(await lockOf(q, dead.jobs[0]?.id as string)).toBe(dead.jobs[0]?.token);
    await w.stop();
  });
});

describe('checkClientListUsable', () => {
  it('is usable on a plain Redis', async () => {
    const check = await checkClientListUsable(ctx.connection());
    expect(check.usable).toBe(true);
    expect(check.detail).toMatch(/shows client names/);
  });

  it('is not usable behind a proxy that hides client names; the watcher then logs once and does nothing', async () => {
    const target = parseRedisUrl(ctx.redisUrl);
    const proxy = ctx.manage('proxy', await startNameHidingProxy({ host: target.host, port: target.port }));
    const proxied = createRedisConnection(RedisConnectionOptionsSchema.parse({ url: proxy.url, prefix: ctx.prefix }), { role: ConnectionRole.Producer });
    await waitForRedis(proxied, proxy.url, 5000);
    const check = await checkClientListUsable(proxied);
    await closeRedis(proxied);
    expect(check.usable).toBe(false);
    expect(check.detail).toMatch(/not in CLIENT LIST/);

    const dead = await fakeWorker('hidden-1', 1);
    const q = queue();
    const logger = createMemoryLogger();
    const w = watcher({ redis: { url: proxy.url, prefix: ctx.prefix }, logger });
    await dead.die();
    for (let look = 0; look < 3; look++) expect((await w.runOnce()).status).toBe('unusable');
    expect(logger.lines.filter((line) => line.message.startsWith('fast failover cannot work'))).toHaveLength(1);
    expect(await lockOf(q, dead.jobs[0]?.id as string)).toBe(dead.jobs[0]?.token);
    await w.stop();
  });
});
