/**
 * Every key kai-jobs writes belongs to a known family, and every family whose keys are
 * written together (one script, one MULTI, one pipeline) carries a Redis Cluster hash tag.
 * `pnpm test` runs this against one Redis (a key outside the families fails it);
 * `pnpm test:cluster` runs it against a 3-primary cluster, where a missing tag or a pipeline
 * across slots also fails with CROSSSLOT or ioredis' "same slot" error. Heartbeat and metrics
 * writes only log such failures (a job must not die of them), so the logs are checked too.
 */
import { describe, expect, it } from 'vitest';
import { Alerter, createMonitor, RedisAlertDedupeStore } from '@kai-jobs/monitor';
import { createMemoryLogger, jobCatalog, JOB_TYPES, RedisJobStore, statusKeys, type JobType } from '@kai-jobs/queue';
import { scanKeys, useRedisTestContext, waitFor } from '@kai-jobs/queue/testing';
import { backdate, client, pdf, readRuns, syntheticKeys, syntheticRuntime } from './helpers.js';

const ctx = useRedisTestContext(import.meta.url);
const MINUTE = 60_000;

/** Hash tags of the key families written together: one per queue, the monitor's and the metrics'. */
const TAGS = [...JOB_TYPES.map((type) => jobCatalog[type].queueName), 'job-monitor', 'monitor', 'metrics', 'failover'];

/** Families whose keys are only ever written one key per command, so they need no tag. */
const UNTAGGED = [
  'alerts:dedupe:', // SET NX PX of one key (the monitor's alert dedupe)
  'workers:registry', // fast failover's registry: HSET/HDEL of one hash per command
  'workers:heartbeats', // its heartbeats: one hash per command (a script with one key)
  'workers:write-lag', // outage write lag: HSET of one hash
  'test:', // the synthetic job's test hooks (RPUSH, EXISTS of one key)
];

/** Failures that mean a key or a batch crossed slots (Redis's and ioredis' wording). */
const CROSS_SLOT = /CROSSSLOT|same slot|slots allocation group|non local key|MOVED|ASK /i;

describe('key families', () => {
  it('a workload of every job type writes only known key families, every batch in one slot', async () => {
    const logger = createMemoryLogger();
    const jobs = client(ctx);
    const runtime = await syntheticRuntime(ctx, 'w1', { logger, heartbeatIntervalMs: 100 });

    // Enqueue every type, singly and in bulk, with idempotency keys; process the PDF jobs.
    const [scrape, cancelled] = await jobs.enqueueBulk('scrape', [
      // Linked to background_jobs rows: their scripts write those rows too (same slot, one script).
      { payload: { sessionId: 's1', sourceUrl: 'https://a.example/', backgroundJobId: 'bg-s1' }, options: { idempotencyKey: 'session-1' } },
      { payload: { sessionId: 's2', sourceUrl: 'https://b.example/' } },
    ]);
    const feed = await jobs.enqueue('xml-import', {
      importJobId: 'imp-1',
      sourceName: 'acme',
      backgroundJobId: 'bg-imp-1',
      source: { kind: 'url', url: 'https://feeds.example.com/acme.xml' },
    }, { idempotencyKey: 'feed-1' });
    const plain = await jobs.enqueue('pdf', pdf('plain'), { idempotencyKey: 'upload-1' });
    const hung = await jobs.enqueue('pdf', pdf('hold:text_extracted'));
    await jobs.waitForResult(plain.id, { timeoutMs: 15_000 });
    await waitFor(async () => (await readRuns(ctx.redis, ctx.prefix)).some((run) => run.jobId === hung.id && run.stage === 'text_extracted'));

    // The status store across types, on a fresh store (no id → type cache): lookups, a
    // heartbeat batch and a create batch spanning three queues, i.e. three slots.
    const store = new RedisJobStore({ connection: ctx.connection(), prefix: ctx.prefix });
    const running = [
      { id: (scrape as { id: string }).id, type: 'scrape' as const, fence: 'f-scrape' },
      { id: feed.id, type: 'xml-import' as const, fence: 'f-feed' },
    ];
    for (const entry of running) await store.markProcessing(entry.id, { fence: entry.fence, workerId: 'w-test' });
    expect(await store.heartbeat([...running, { id: hung.id, type: 'pdf', fence: 'not-the-fence' }])).toEqual({ rejected: [hung.id] });
    const created = await store.createMany(JOB_TYPES.map((type, i) => ({ id: `many-${i}`, type, payload: {} })));
    expect(created.map(({ row }) => row.type)).toEqual([...JOB_TYPES]);
    expect((await new RedisJobStore({ connection: ctx.redis, prefix: ctx.prefix }).get(feed.id))?.status).toBe('processing');
    await store.progress(feed.id, 'f-feed', { percent: 50, detail: 'half' });
    await store.complete(feed.id, 'f-feed', { imported: 0 });
    expect(await store.linkedJob('bg-imp-1')).toMatchObject({ status: 'completed', followsId: feed.id });
    expect(await store.linkedJob('bg-s1')).toMatchObject({ status: 'processing', workerId: 'w-test' });

    // The monitor restarts the hung PDF job (CAS with its outbox alert, decisions MULTI, metrics).
    await backdate(ctx.redis, ctx.prefix, 'pdf', hung.id, { updateMs: 6 * MINUTE });
    const alerter = ctx.manage('alerter', new Alerter({ dedupeStore: new RedisAlertDedupeStore({ connection: ctx.redis, prefix: ctx.prefix }) }));
    const monitor = ctx.track('monitor', createMonitor({ redis: ctx.redisOptions, alerter, logger, backoff: { baseMs: 50, capMs: 200 } }));
    const { decisions } = await monitor.runOnce();
    expect(decisions).toEqual(expect.arrayContaining([expect.objectContaining({ jobId: hung.id, action: 'restart', applied: true })]));
    await ctx.redis.set(syntheticKeys(ctx.prefix).released(hung.id), '1');
    await jobs.waitForResult(hung.id, { timeoutMs: 15_000 });
    expect(await jobs.cancel((cancelled as { id: string }).id, 'key families test')).toMatchObject({ cancelled: true });
    // A failed row without a failure kind (another writer's): the failure sweep alerts it through
    // the dedupe family (kai-jobs' own failures alert through the outbox, in their queue's slot).
    await store.markProcessing('many-0', { fence: 'f-many', workerId: 'w-test' });
    await store.fail('many-0', 'f-many', 'failed by another writer');
    await ctx.redis.hdel(statusKeys(ctx.prefix, JOB_TYPES[0] as JobType).row('many-0'), 'failure_kind');
    await monitor.runOnce();
    await monitor.close();
    await runtime.close();

    const keys = await scanKeys(ctx.redis, `${ctx.prefix}:*`);
    const family = (key: string): string | undefined => {
      const rest = key.slice(ctx.prefix.length + 1);
      const tag = TAGS.find((name) => rest.startsWith(`{${name}}:`));
      if (tag !== undefined) return `{${tag}}`;
      return UNTAGGED.find((start) => rest.startsWith(start));
    };
    expect(keys.filter((key) => family(key) === undefined)).toEqual([]);
    // The workload really wrote each family it is meant to cover.
    const written = new Set(keys.map(family));
    // (Stuck alerts go through each queue's outbox now, inside the recover script; the dedupe
    // family is only written by alerts outside the outbox, which this workload does not raise.)
    for (const expected of ['{pdf-processing}', '{web-scraping}', '{xml-import}', '{monitor}', '{metrics}']) {
      expect(written, `no key of family ${expected}`).toContain(expected);
    }
    const slotFailures = logger.lines.filter((line) => line.level !== 'debug' && CROSS_SLOT.test(JSON.stringify(line)));
    expect(slotFailures).toEqual([]);
    expect(logger.lines.filter((line) => /heartbeat write failed|metrics write failed/.test(line.message))).toEqual([]);
  }, 60_000);
});
