import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createJobClient, enqueueRecoveryDrill, RedisJobStore, statusKeys, type HistoryEntry } from '@kai-jobs/queue';
import { useRedisTestContext, waitFor } from '@kai-jobs/queue/testing';
import { makeCataloguePdf, makeLongPdf } from '../../../packages/workers/test/jobs/pdf/fixtures/pdfs.js';
import { backdate } from '../../../test/e2e/helpers.js';
import { COMMANDS, waitForJob, type CommandSpec } from '../src/index.js';
import { Buffered, kaiJobs, startCommand, tempDir, testEnv, type RunningCommand } from './support.js';

const ctx = useRedisTestContext(import.meta.url);

const env = (extra: Record<string, string> = {}) => testEnv(ctx.redisUrl, ctx.prefix, extra);
const store = () => new RedisJobStore({ connection: ctx.redis, prefix: ctx.prefix });
const history = (id: string): Promise<HistoryEntry[]> => store().history(id);

async function cataloguePath(): Promise<string> {
  const path = join(tempDir('kai-cli-pdf-'), 'catalogue.pdf');
  writeFileSync(path, await makeCataloguePdf());
  return path;
}

/**
 * Enqueues a PDF that hangs once in text_extracted (the drill's switch). The switch is
 * internal — `kai-jobs enqueue` refuses it in a payload — so it goes through the drill's path.
 */
async function enqueueHanging(): Promise<string> {
  const client = ctx.manage('client', createJobClient({ redis: ctx.redisOptions }));
  const { id } = await enqueueRecoveryDrill(
    client,
    { documentId: 'doc-hang', source: { kind: 'file', path: await cataloguePath() }, options: { skipTiles: true } },
    { hangOnceInStage: 'text_extracted' },
  );
  return id;
}

async function withWorker<T>(work: (worker: RunningCommand) => Promise<T>, extra: Record<string, string> = {}): Promise<T> {
  const worker = await startCommand(['worker'], env(extra));
  try {
    return await work(worker);
  } finally {
    expect(await worker.stop()).toBe(0);
  }
}

describe('against a running worker', () => {
  it('enqueue --wait, then status, checkpoints, list and thresholds of the finished job', async () => {
    await withWorker(async (worker) => {
      expect(worker.ready).toMatchObject({ ready: true, types: ['pdf', 'scrape', 'xml-import'] });
      const path = await cataloguePath();
      const enqueued = await kaiJobs(['enqueue', 'pdf', '--path', path, '--document-id', 'doc-cat', '--wait', '--json'], env());
      expect(enqueued.code).toBe(0);
      const job = enqueued.json<{ id: string; status: string; result: { pages: number; materials: number } }>();
      expect(job).toMatchObject({ type: 'pdf', created: true, status: 'completed', result: { documentId: 'doc-cat', pages: 3 } });

      const status = await kaiJobs(['status', job.id, '--json'], env());
      expect(status.code).toBe(0);
      const view = status.json<{ row: Record<string, unknown>; bullmq: Record<string, unknown>; checkpoints: { checkpoints: { valid: boolean }[]; resumeFrom: unknown }; history: HistoryEntry[] }>();
      expect(view.row).toMatchObject({ id: job.id, status: 'completed', progress: 100, attempt: 1, restartCount: 0, refs: { documentId: 'doc-cat' } });
      expect(view.bullmq).toMatchObject({ state: 'completed', attemptsMade: 1 });
      expect(view.checkpoints.checkpoints).toHaveLength(5);
      expect(view.checkpoints.checkpoints.every((checkpoint) => checkpoint.valid)).toBe(true);
      expect(view.history.map((entry) => entry.event)).toEqual(['created', 'processing', 'completed']);

      const checkpoints = await kaiJobs(['checkpoints', job.id, '--json', '--data'], env());
      expect(checkpoints.code).toBe(0);
      const report = checkpoints.json<{ checkpoints: { stage: string; data: unknown }[]; resumeFrom: unknown; lastValidStage: string }>();
      expect(report.checkpoints.map((checkpoint) => checkpoint.stage)).toEqual(['pdf_loaded', 'text_extracted', 'tiles_generated', 'embeddings_created', 'materials_extracted']);
      expect(report).toMatchObject({ resumeFrom: null, lastValidStage: 'materials_extracted' });
      expect(report.checkpoints[0]?.data).toMatchObject({ documentId: 'doc-cat', pageCount: 3 });

      const listed = await kaiJobs(['list', '--type', 'pdf', '--status', 'completed', '--json'], env());
      expect(listed.json<{ jobs: { id: string; status: string }[] }>().jobs).toEqual([expect.objectContaining({ id: job.id, status: 'completed', type: 'pdf' })]);
      expect((await kaiJobs(['list', '--status', 'failed', '--json'], env())).json<{ jobs: unknown[] }>().jobs).toEqual([]);

      const thresholds = await kaiJobs(['thresholds', '--json'], env({ PDF_UPDATE_TIMEOUT_MS: '120000' }));
      expect(thresholds.code).toBe(0);
      const advice = thresholds.json<{ advice: { type: string; jobs: number; update: { configuredMs: number; samples: number; maxMs: number } }[] }>().advice;
      expect(advice.map((entry) => entry.type)).toEqual(['pdf', 'scrape', 'xml-import']);
      expect(advice[0]).toMatchObject({ jobs: 1, update: { configuredMs: 120_000, samples: 1 } });
      expect(advice[0]?.update.maxMs).toBeGreaterThan(0);
      expect(advice[1]).toMatchObject({ jobs: 0, update: { configuredMs: 30 * 60_000, samples: 0 } });
    });
  }, 90_000);

  it('restart <id> stops a hung attempt; the job resumes after its checkpoint and completes', async () => {
    await withWorker(async () => {
      const id = await enqueueHanging();
      await waitFor(async () => (await history(id)).some((entry) => entry.event === 'drill:hanging'), { timeoutMs: 30_000 });

      const restarted = await kaiJobs(['restart', id, '--reason', 'hung in the test', '--json'], env());
      expect(restarted.code).toBe(0);
      expect(restarted.json()).toEqual({ id, type: 'pdf', restartCount: 1, checkpointStage: 'pdf_loaded', previousStatus: 'processing', bullState: 'active', action: 'abort-requested', restarted: true });
      await waitFor(async () => (await store().get(id))?.status === 'completed', { timeoutMs: 30_000 });
      const events = await history(id);
      expect(events.find((entry) => entry.event === 'recovery:restarted')).toMatchObject({ why: 'hung in the test', by: 'kai-jobs restart', checkpointUsed: 'pdf_loaded', restartNumber: 1 });
      expect(events.find((entry) => entry.event === 'resumed')).toMatchObject({ from: 'text_extracted', restored: ['pdf_loaded'], attempt: 2 });
      // A finished job is not restarted.
      const again = await kaiJobs(['restart', id, '--json'], env());
      expect(again.code).toBe(1);
      expect(again.json<{ error: { message: string } }>().error.message).toMatch(/is completed: a finished job is not restarted/);
    });
  }, 90_000);

  it('monitor --once finds a hung job and restarts it; doctor then reports the workers and the monitor ok', async () => {
    await withWorker(async () => {
      const id = await enqueueHanging();
      await waitFor(async () => (await history(id)).some((entry) => entry.event === 'drill:hanging'), { timeoutMs: 30_000 });
      await backdate(ctx.redis, ctx.prefix, 'pdf', id, { updateMs: 10 * 60_000 });

      const stuck = await kaiJobs(['list', '--stuck', '--json'], env());
      expect(stuck.json<{ jobs: { id: string; stuck: { reason: string; ageMs: number } }[] }>().jobs).toEqual([
        expect.objectContaining({ id, status: 'processing', stuck: { reason: 'update_timeout', ageMs: expect.any(Number) } }),
      ]);

      const tick = await kaiJobs(['monitor', '--once', '--json'], env());
      expect(tick.code).toBe(0);
      const result = tick.json<{ summary: Record<string, unknown>; decisions: Record<string, unknown>[] }>();
      expect(result.summary).toMatchObject({ candidates: 1, restarted: 1, failed: 0, error: null });
      expect(result.decisions).toEqual([expect.objectContaining({ jobId: id, action: 'restart', applied: true, classification: 'hung', reason: 'update_timeout', checkpointStage: 'pdf_loaded' })]);
      await waitFor(async () => (await store().get(id))?.status === 'completed', { timeoutMs: 30_000 });

      const doctor = await kaiJobs(['doctor', '--json'], env());
      const report = doctor.json<{ ok: boolean; checks: { name: string; status: string; message: string; fix: string | null }[] }>();
      const byName = Object.fromEntries(report.checks.map((check) => [check.name, check]));
      expect(Object.keys(byName)).toEqual(['redis', 'maxmemory-policy', 'persistence', 'workers:pdf-processing', 'workers:web-scraping', 'workers:xml-import', 'monitor', 'failover', 'sentry', 'supabase', 'firecrawl', 'llm', 'embeddings']);
      expect(byName['redis']).toMatchObject({ status: 'ok', message: expect.stringContaining(`prefix "${ctx.prefix}"`) });
      for (const queue of ['pdf-processing', 'web-scraping', 'xml-import']) expect(byName[`workers:${queue}`]).toMatchObject({ status: 'ok', message: expect.stringMatching(/^\d+ worker connections? online/) });
      expect(byName['monitor']).toMatchObject({ status: 'ok', message: expect.stringMatching(/^last tick .* ago by monitor-/) });
      expect(byName['sentry']).toMatchObject({ status: 'warn', fix: expect.stringContaining('SENTRY_DSN') });
      expect(byName['supabase']).toMatchObject({ status: 'ok', message: 'not configured (STATUS_STORE=redis)' });
      // The shared test Redis runs without persistence: a warning with the fix, not a failure.
      expect(byName['persistence']?.status).toMatch(/^(ok|warn)$/);
      expect(report.ok).toBe(true);
      expect(doctor.code).toBe(0);
    });
  }, 90_000);

  it('drill passes: the canary is detected, restarted from its checkpoint and completes', async () => {
    await withWorker(async () => {
      const drill = await kaiJobs(['drill', '--update-timeout-ms', '1000', '--timeout-ms', '60000', '--json'], env());
      const result = drill.json<{ passed: boolean; failure: string | null; steps: { step: string }[]; timings: Record<string, number> }>();
      expect(result.failure).toBeNull();
      expect(drill.code).toBe(0);
      expect(result.passed).toBe(true);
      expect(result.steps.map((step) => step.step)).toEqual(['enqueued', 'hanging', 'detected', 'restarted', 'resumed', 'completed']);
      expect(result.timings['recoveryMs']).toBeGreaterThanOrEqual(0);
    });
  }, 90_000);
});

describe('what an operator sees of a job', () => {
  it('a PDF job: per-stage page counters never go back, every stage is shown, the result reads well on a terminal', async () => {
    await withWorker(async () => {
      const path = join(tempDir('kai-cli-pdf-'), 'long.pdf');
      writeFileSync(path, await makeLongPdf(17));
      const enqueued = await kaiJobs(['enqueue', 'pdf', '--path', path, '--render-scale', '2', '--json'], env());
      expect(enqueued.code).toBe(0);
      const { id } = enqueued.json<{ id: string }>();
      // Every distinct state of the row, read as fast as Redis answers (no display throttling).
      const seen: { stage: string | null; detail: string | null; status: string }[] = [];
      for (;;) {
        const row = await store().get(id);
        const last = seen.at(-1);
        if (row !== null && (last?.stage !== row.currentStage || last.detail !== row.progressDetail || last.status !== row.status)) {
          seen.push({ stage: row.currentStage, detail: row.progressDetail, status: row.status });
        }
        if (row?.status === 'completed' || row?.status === 'failed') break;
      }
      expect(seen.at(-1)?.status).toBe('completed');
      const pageOf = (detail: string | null) => Number(/^page (\d+) of/.exec(detail ?? '')?.[1] ?? Number.NaN);
      const byStage = new Map<string, number[]>();
      for (const state of seen) {
        const page = pageOf(state.detail);
        if (state.stage !== null && state.status !== 'completed' && !Number.isNaN(page)) byStage.set(state.stage, [...(byStage.get(state.stage) ?? []), page]);
      }
      expect(byStage.get('tiles_generated')?.length).toBeGreaterThan(0);
      for (const [stage, pages] of byStage) expect({ stage, pages }).toEqual({ stage, pages: [...pages].sort((a, b) => a - b) });

      // The same job, followed on a terminal from the start, lists every stage as done.
      const again = await kaiJobs(['enqueue', 'pdf', '--path', path, '--document-id', 'doc-tty', '--wait'], env(), { tty: true });
      expect(again.code).toBe(0);
      for (const stage of ['pdf_loaded', 'text_extracted', 'tiles_generated', 'embeddings_created', 'materials_extracted']) {
        expect(again.stdout).toContain(`done       ${stage}\n`);
      }
      expect(again.stdout).toMatch(/\nresult:\n {2}documentId: doc-tty\n {2}pages: 17\n/);
      // Piped, the result is one JSON line; with --json the whole answer is one line.
      const piped = await kaiJobs(['enqueue', 'pdf', '--path', path, '--document-id', 'doc-pipe', '--skip-tiles', '--wait'], env());
      expect(piped.stdout).toMatch(/\nresult: \{"documentId":"doc-pipe",.*\}\n$/);
      const status = await kaiJobs(['status', id, '--json'], env());
      expect(status.stdout.trimEnd().split('\n')).toHaveLength(1);
      const onTerminal = await kaiJobs(['status', id, '--json'], env(), { tty: true });
      expect(onTerminal.stdout.split('\n').length).toBeGreaterThan(20);
      const { storeNow: _a, ...indented } = onTerminal.json();
      const { storeNow: _b, ...oneLine } = status.json();
      expect(indented).toEqual(oneLine);

      // A completed job: no "a restart resumes at -", no worker holding it.
      const text = await kaiJobs(['status', id], env());
      expect(text.code).toBe(0);
      expect(text.stdout).not.toMatch(/resumes at/);
      expect(text.stdout).not.toMatch(/held by/);
      expect(text.stdout).toContain('checkpoints (the job is completed):');
      expect(text.stdout).toMatch(/ {2}status {8}completed\n/);
      expect(text.stdout).toMatch(/ {2}refs {10}documentId=/);
    });
  }, 120_000);

  it('a job handed back at shutdown shows as waiting, not as processing held by the stopped worker', async () => {
    const worker = await startCommand(['worker'], env({ SHUTDOWN_GRACE_MS: '300' }));
    const workerId = String((worker.ready as { workerId?: unknown }).workerId ?? '');
    const id = await enqueueHanging();
    await waitFor(async () => (await history(id)).some((entry) => entry.event === 'drill:hanging'), { timeoutMs: 30_000 });
    expect(await worker.stop()).toBe(0);
    await waitFor(async () => (await history(id)).some((entry) => entry.event === 'shutdown:handed-back'), { timeoutMs: 10_000 });
    // What makes this case: the row still says processing, BullMQ has the job queued.
    expect((await store().get(id))?.status).toBe('processing');

    const json = await kaiJobs(['status', id, '--json'], env());
    const view = json.json<{ activity: { status: string; heldBy: unknown; lastWorker: string }; bullmq: { state: string } }>();
    expect(view.bullmq.state).toBe('waiting');
    expect(view.activity).toMatchObject({ status: 'waiting', heldBy: null });
    expect(view.activity.lastWorker).toBe(workerId);

    const text = await kaiJobs(['status', id], env());
    expect(text.stdout).toMatch(/ {2}status {8}waiting — handed back at shutdown by \S+ in text_extracted \S+; the next free worker resumes it \(the row says processing until then\)\n/);
    expect(text.stdout).toMatch(/ {2}worker {8}none \(last: \S+\)\n/);
    expect(text.stdout).toMatch(/\nBullMQ: waiting {2}/);
    expect(text.stdout).not.toMatch(/held by/);
    expect(text.stdout).toContain('checkpoints (a restart resumes at text_extracted):');
  }, 60_000);

  it('list rounds progress: 41%, not 41.11%', async () => {
    const rows = store();
    await rows.create({ id: 'list-round', type: 'pdf', payload: {} });
    await rows.markProcessing('list-round', { fence: 'f1', workerId: 'w1', stage: 'tiles_generated' });
    await rows.progress('list-round', 'f1', { percent: 41.11, detail: 'page 3 of 17' });
    const listed = await kaiJobs(['list'], env());
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/list-round +pdf +processing +tiles_generated +41% /);
    expect(listed.stdout).not.toContain('41.11');
    expect((await kaiJobs(['list', '--json'], env())).json<{ jobs: { progress: number }[] }>().jobs[0]?.progress).toBe(41.11);
  });
});

describe('without workers', () => {
  it('restart re-queues a job nobody runs; cancel fails it once; a second cancel and unknown ids exit 1', async () => {
    const enqueued = await kaiJobs(['enqueue', 'xml-import', '--source-name', 'acme', '--url', 'https://feeds.example/acme.xml', '--delay-ms', '600000', '--idempotency-key', 'k1', '--json'], env());
    expect(enqueued.code).toBe(0);
    const { id } = enqueued.json<{ id: string }>();
    const repeat = await kaiJobs(['enqueue', 'xml-import', '--source-name', 'acme', '--url', 'https://feeds.example/acme.xml', '--idempotency-key', 'k1', '--json'], env());
    expect(repeat.json()).toEqual({ id, type: 'xml-import', created: false });

    const restarted = await kaiJobs(['restart', id, '--json'], env());
    expect(restarted.json()).toMatchObject({ id, action: 'requeued', bullState: 'delayed', previousStatus: 'pending', checkpointStage: null, restartCount: 1 });
    const jobs = ctx.manage('client', createJobClient({ redis: { url: ctx.redisUrl, prefix: ctx.prefix } }));
    expect((await jobs.getStatus(id))?.bullmq.state).toBe('waiting');

    const cancelled = await kaiJobs(['cancel', id, '--reason', 'wrong feed', '--json'], env());
    expect(cancelled.code).toBe(0);
    expect(cancelled.json()).toEqual({ id, cancelled: true, previousStatus: 'pending', abortRequested: false, reason: 'wrong feed' });
    // The failure kind is a field of the row, not read back from the message.
    expect(await store().get(id)).toMatchObject({ status: 'failed', error: 'cancelled: wrong feed', failureKind: 'cancelled' });
    expect((await jobs.getStatus(id))?.bullmq.state).toBe('missing');

    const twice = await kaiJobs(['cancel', id, '--json'], env());
    expect(twice.code).toBe(1);
    expect(twice.json()).toMatchObject({ error: { code: 'COMMAND_FAILED', message: `job ${id} had already finished (failed); nothing was cancelled` }, exitCode: 1 });
    for (const command of ['status', 'restart', 'cancel', 'checkpoints']) {
      const missing = await kaiJobs([command, 'no-such-job', '--json'], env());
      expect(missing.code).toBe(1);
      expect(missing.json()).toMatchObject({ error: { name: 'JobNotFoundError', code: 'NOT_FOUND', message: 'job no-such-job not found' } });
    }
  });

  it("restart holds the job type's restart limit as the monitor does; --force restarts past it", async () => {
    const enqueued = await kaiJobs(['enqueue', 'xml-import', '--source-name', 'acme', '--url', 'https://feeds.example/acme.xml', '--delay-ms', '600000', '--json'], env());
    const { id } = enqueued.json<{ id: string }>();
    await ctx.redis.hset(statusKeys(ctx.prefix, 'xml-import').row(id), 'restart_count', '3');
    const refused = await kaiJobs(['restart', id, '--json'], env());
    expect(refused.code).toBe(1);
    expect(refused.json()).toMatchObject({ error: { code: 'COMMAND_FAILED', message: expect.stringMatching(/restart limit of xml-import reached \(3 of 3\); pass --force/) } });
    expect((await store().get(id))?.restartCount).toBe(3);
    const forced = await kaiJobs(['restart', id, '--force', '--json'], env());
    expect(forced.code).toBe(0);
    expect(forced.json()).toMatchObject({ id, action: 'requeued', restartCount: 4 });
  });

  it('drill exits 1 with the reason when no worker takes the canary', async () => {
    const drill = await kaiJobs(['drill', '--timeout-ms', '1500', '--json'], env());
    expect(drill.code).toBe(1);
    expect(drill.json()).toMatchObject({ passed: false, failure: expect.stringMatching(/^timed out waiting for a worker to reach the hang in text_extracted \(status pending/), steps: [{ step: 'enqueued' }] });
    const text = await kaiJobs(['drill', '--timeout-ms', '1000'], env());
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/drill FAILED: timed out waiting for a worker/);
  });

  it('list --stuck uses the monitor\'s thresholds from the environment', async () => {
    const { id } = (await kaiJobs(['enqueue', 'pdf', '--url', 'https://cdn.example/a.pdf', '--json'], env())).json<{ id: string }>();
    await backdate(ctx.redis, ctx.prefix, 'pdf', id, { updateMs: 10 * 60_000 });
    const stuck = await kaiJobs(['list', '--stuck', '--type', 'pdf', '--json'], env());
    expect(stuck.json<{ jobs: { id: string }[]; thresholds: Record<string, unknown> }>()).toMatchObject({
      jobs: [expect.objectContaining({ id, status: 'pending', stuck: expect.objectContaining({ reason: 'update_timeout' }) })],
      thresholds: { pdf: { heartbeatTimeoutMs: 900_000, updateTimeoutMs: 300_000 } },
    });
    const relaxed = await kaiJobs(['list', '--stuck', '--json'], env({ PDF_UPDATE_TIMEOUT_MS: '3600000' }));
    expect(relaxed.json<{ jobs: unknown[] }>().jobs).toEqual([]);
    const human = await kaiJobs(['list', '--stuck'], env());
    expect(human.stdout).toMatch(new RegExp(`${id}\\s+pdf\\s+pending\\s+-\\s+0%\\s+10 min.* ago\\s+update_timeout for 10 min`));
  });

  it('a bad --preset or mapping spec is refused at enqueue with the field path and the flag', async () => {
    const run = await kaiJobs(['enqueue', 'xml-import', '--source-name', 'a', '--path', '/f.xml', '--preset', 'shopify', '--json'], env());
    expect(run.code).toBe(2);
    const { error } = run.json<{ error: { issues: { path: string; message: string }[] } }>();
    expect(error.issues).toEqual([expect.objectContaining({ path: 'payload.preset', message: expect.stringMatching(/google-merchant.*\(set it with --preset\)$/) })]);
    const spec = await kaiJobs(['enqueue', 'xml-import', '--source-name', 'a', '--path', '/f.xml', '--map', 'w={"path":"w","unit":"kg"}', '--json'], env());
    expect(spec.code).toBe(2);
    expect(spec.json<{ error: { issues: { path: string; message: string }[] } }>().error.issues).toEqual([
      expect.objectContaining({ path: 'payload.fieldMapping.w.unit', message: '"unit" applies to weight fields, not text (set it with --map)' }),
    ]);
  });

  it('every xml-import example of enqueue --help runs and enqueues the mapping it promises', async () => {
    const enqueue = COMMANDS.find((command) => command.name === 'enqueue') as CommandSpec;
    const examples = enqueue.examples.filter((example) => example.includes(' xml-import '));
    expect(examples.length).toBe(2);
    const mappings: unknown[] = [];
    for (const example of examples) {
      const run = await kaiJobs([...example.split(' ').slice(1), '--json'], env());
      expect(run.code, `${example}: ${run.stdout}${run.stderr}`).toBe(0);
      mappings.push((await store().get(run.json<{ id: string }>().id))?.payload);
    }
    expect(mappings[0]).toMatchObject({ recordElement: 'product', fieldMapping: { sku: 'sku', name: 'name', price: 'price', currency: 'price/@currency' } });
    expect(mappings[1]).toMatchObject({ recordElement: ['item', 'entry'], fieldMapping: { sku: { path: 'g:id' }, price: { type: 'money', required: true }, colour: 'g:color' } });
  });

  it('a bad payload exits 2 listing each field with the flag that sets it; nothing is enqueued', async () => {
    const run = await kaiJobs(['enqueue', 'scrape', '--max-depth', '99', '--json'], env());
    expect(run.code).toBe(2);
    const { error } = run.json<{ error: { name: string; issues: { path: string; message: string }[] } }>();
    expect(error.name).toBe('ValidationError');
    expect(error.issues.map((issue) => issue.path).sort()).toEqual(['payload.maxDepth', 'payload.sourceUrl']);
    expect(error.issues.find((issue) => issue.path === 'payload.sourceUrl')?.message).toMatch(/\(set it with --url\)$/);
    const text = await kaiJobs(['enqueue', 'pdf'], env());
    expect(text.code).toBe(2);
    expect(text.stderr).toMatch(/the job payload: 1 invalid field\n {2}- payload\.source: .*\(set it with --path, --url, --storage-key or --inline\)/);
    expect((await kaiJobs(['list', '--json'], env())).json<{ jobs: unknown[] }>().jobs).toEqual([]);
  });

  it('--wait redraws one progress line in place on a terminal and prints a line per stage or 10 % elsewhere', async () => {
    const rows = store();
    const follow = async (display: Buffered) => {
      const id = `wait-${display.isTTY ? 'tty' : 'plain'}`;
      await rows.create({ id, type: 'pdf', payload: {} });
      const waiting = waitForJob({ statusStore: rows, jobId: id, display, pollMs: 10, signal: new AbortController().signal });
      const seen = (text: string) => waitFor(() => display.text.includes(text), { timeoutMs: 5000 });
      await seen('pending');
      await rows.markProcessing(id, { fence: 'f1', workerId: 'w1', stage: 'pdf_loaded' });
      await seen('processing pdf_loaded');
      for (const percent of [5, 12, 14, 47]) {
        await rows.progress(id, 'f1', { stage: 'text_extracted', percent, detail: `page ${percent}` });
        // 14 % is in the same 10 % step as 12 %: a plain display prints nothing for it.
        if (percent !== 14) await seen(`page ${percent}`);
      }
      await rows.complete(id, 'f1', { ok: true });
      const outcome = await waiting;
      expect(outcome).toMatchObject({ kind: 'finished', row: { status: 'completed' } });
      return display.text;
    };
    const tty = await follow(new Buffered(true));
    expect(tty.split('\r\x1b[2K').length).toBeGreaterThan(6);
    expect(tty.endsWith('\n')).toBe(true);
    expect(tty).toContain('text_extracted       [###########-------------]  47%  page 47');
    const plain = await follow(new Buffered(false));
    expect(plain).not.toContain('\r');
    // 12 → 14 % stays in the same 10 % step: no line for it.
    expect(plain.trim().split('\n').map((line) => line.replace(/\s+/g, ' '))).toEqual([
      'pending - [------------------------] 0%',
      'processing pdf_loaded [------------------------] 0%',
      'done pdf_loaded',
      'processing text_extracted [#-----------------------] 5% page 5',
      'processing text_extracted [###---------------------] 12% page 12',
      'processing text_extracted [###########-------------] 47% page 47',
      // Stages that ran between two polls are still listed, in order.
      'done text_extracted',
      'done tiles_generated',
      'done embeddings_created',
      'done materials_extracted',
      'completed text_extracted [########################] 100% page 47',
    ]);
    // On a terminal the done lines replace the bar once, and the bar is drawn again below them.
    expect(tty).toContain('\r\x1b[2Kdone       pdf_loaded\n\r\x1b[2Kprocessing text_extracted');
    expect(tty).toContain('done       materials_extracted\n\r\x1b[2Kcompleted');
  });

  it('the monitor command ticks until stopped; the board command serves /healthz until stopped', async () => {
    const monitor = await startCommand(['monitor'], env({ MONITOR_CHECK_INTERVAL_MS: '500' }));
    expect(monitor.ready).toMatchObject({ ready: true, checkIntervalMs: 500, sentry: false });
    await waitFor(async () => (await kaiJobs(['doctor', '--json'], env())).json<{ checks: { name: string; status: string }[] }>().checks.some((check) => check.name === 'monitor' && check.status === 'ok'), { timeoutMs: 20_000, intervalMs: 200 });
    expect(await monitor.stop()).toBe(0);

    const refused = await kaiJobs(['board', '--json'], env({ BOARD_PORT: '0' }));
    expect(refused.code).toBe(2);
    expect(refused.json<{ error: { message: string } }>().error.message).toMatch(/refuses to start without credentials/);
    const board = await startCommand(['board'], env({ BOARD_PORT: '0', BOARD_AUTH: 'off' }));
    expect(board.ready).toMatchObject({ ready: true, auth: 'off', url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/$/) });
    const health = await fetch(new URL('healthz', String(board.ready['url'])));
    expect(health.status).toBe(200);
    // A second board on the same port: exit 1 and what to do.
    const busy = await kaiJobs(['board', '--json'], env({ BOARD_PORT: String(board.ready['port']), BOARD_AUTH: 'off' }));
    expect(busy.code).toBe(1);
    expect(busy.json<{ error: { message: string } }>().error.message).toBe(
      `the board cannot listen on 127.0.0.1:${String(board.ready['port'])}: the port is in use — set BOARD_PORT to a free port (0 picks one) or stop what uses it`,
    );
    expect(await board.stop()).toBe(0);
  }, 60_000);
});
