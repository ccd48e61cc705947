import { Queue } from 'bullmq';
import { MonitorStateStore } from '@kai-jobs/monitor';
import { bullPrefix, JOB_TYPES, jobCatalog, systemClock, toError, type HistoryEntry, type StatusRow } from '@kai-jobs/queue';
import { CommandFailedError } from '../cli/errors.js';
import type { CliSystem } from '../config/system.js';
import { envValue, type Environment } from '../config/cli-env.js';
import { formatDuration } from '../output/format.js';
import { restartJob } from '../operations/restart-job.js';
import { startDemoWorker, type DemoWorker } from './demo-worker.js';
import { longPdf, PRODUCT_MAPPING, sampleFeed, samplePdf, startSampleSite, type TestSite } from './samples.js';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Pages of the PDF that is crashed and resumed. Default 60. */
  crashPages: number;
  /** Products of the sample feed. Default 500. */
  feedProducts: number;
  /** Give up waiting for any one step after this long (ms). Default 300000. */
  stepTimeoutMs: number;
  /** Aborted on Ctrl-C. */
  signal: AbortSignal;
  /** Where the narration goes. */
  say(line: string): void;
}

/** One sample job and how it ended. */
export interface SampleOutcome {
  type: string;
  id: string;
  status: string;
  result: unknown;
  error: string | null;
}

/** The crash-and-resume part of the demo. */
export interface CrashOutcome {
  jobId: string;
  killedWorker: string;
  /** Where the job was when its worker was killed. */
  killedAt: { stage: string | null; progress: number; detail: string | null };
  /** Stages with a checkpoint when the worker died. */
  checkpointsBeforeKill: string[];
  /** Handbacks needed before the demo's own worker got the job. */
  handbacks: number;
  resumed: { from: string | null; restored: string[]; workerId: string | null; attempt: number } | null;
  /**
   * What handed the dead worker's job back, read from the job's history: the monitor's fast
   * failover (a `failover` entry), or BullMQ's lock expiry and stalled check (no such entry).
   * `afterKillMs`: from the kill to the resumed attempt's claim, by this process's clock.
   */
  handBack: { by: 'failover' | 'stalled-check'; afterKillMs: number; goneForMs: number | null };
  status: string;
  pages: number | null;
}

/** What the demo did. */
export interface DemoReport {
  /** How long the whole demo took (ms). */
  durationMs: number;
  samples: SampleOutcome[];
  crash: CrashOutcome;
  /** True when the crashed job completed after resuming from its checkpoint. */
  resumedFromCheckpoint: boolean;
}

const sleep = (ms: number, signal: AbortSignal) => systemClock.sleep(ms, signal);

/** "page 12 of 60": past the first page and before the last. */
function midStage(detail: string | null): boolean {
  const match = /page (\d+) of (\d+)/.exec(detail ?? '');
  return match !== null && Number(match[1]) >= 2 && Number(match[1]) < Number(match[2]);
}

async function waitForRow(system: CliSystem, id: string, what: string, options: DemoOptions, predicate: (row: StatusRow) => boolean, onWait?: (elapsedMs: number) => void): Promise<StatusRow> {
  const started = Date.now();
  let lastNote = started;
  for (;;) {
    const row = await system.store.get(id);
    if (row !== null && predicate(row)) return row;
    if (Date.now() - started > options.stepTimeoutMs) {
      throw new CommandFailedError(`the demo gave up waiting for ${what} after ${formatDuration(options.stepTimeoutMs)} (job ${id} is ${row?.status ?? 'missing'}; kai-jobs status ${id})`);
    }
    if (onWait !== undefined && Date.now() - lastNote >= 10_000) {
      lastNote = Date.now();
      onWait(Date.now() - started);
    }
    await sleep(200, options.signal);
  }
}

/** Refuses to run against a system with no PDF worker or no monitor: the demo would wait for nothing. */
async function checkSystem(system: CliSystem, say: (line: string) => void): Promise<void> {
  const prefix = system.config.redis.prefix;
  const missing: string[] = [];
  for (const type of JOB_TYPES) {
    const { queueName } = jobCatalog[type];
    const queue = new Queue(queueName, { connection: system.redis, prefix: bullPrefix(prefix, queueName) });
    try {
      if ((await queue.getWorkers()).length === 0) missing.push(type);
    } finally {
      await queue.close();
    }
  }
  if (missing.includes('pdf')) {
    throw new CommandFailedError(
      `no worker is running for ${missing.join(', ')} jobs (Redis ${system.config.redis.url}, prefix "${prefix}").\n` +
        'The demo runs against a running system. In another terminal start one:\n' +
        '  SCRAPE_ALLOW=127.0.0.1 pnpm start\n' +
        'then run "pnpm demo" again (with the same REDIS_URL and KAI_PREFIX).',
    );
  }
  if (missing.length > 0) say(`note: no worker for ${missing.join(', ')} jobs is running; those samples will wait`);
  const lastTick = await new MonitorStateStore({ connection: system.redis, prefix }).lastTick();
  say(lastTick === null ? 'note: the monitor has not ticked yet' : `the monitor is ticking (last tick by ${lastTick.monitorId})`);
}

async function runSamples(system: CliSystem, options: DemoOptions, site: TestSite): Promise<SampleOutcome[]> {
  const { say } = options;
  const pdf = await system.client.enqueue('pdf', {
    documentId: `demo-catalogue-${Date.now()}`,
    source: { kind: 'inline', base64: (await samplePdf()).toString('base64') },
  });
  say(`enqueued a PDF catalogue (3 pages, inline)            → pdf job ${pdf.id}`);
  const scrape = await system.client.enqueue('scrape', { sessionId: `demo-session-${Date.now()}`, sourceUrl: `${site.origin}/`, maxPages: 10, maxDepth: 2 });
  say(`enqueued a crawl of the demo's shop at ${site.origin}/ → scrape job ${scrape.id}`);
  const feed = await system.client.enqueue('xml-import', {
    importJobId: `demo-import-${Date.now()}`,
    sourceName: 'demo-supplier',
    source: { kind: 'inline', base64: Buffer.from(sampleFeed(options.feedProducts)).toString('base64') },
    fieldMapping: PRODUCT_MAPPING,
    batchSize: 100,
  });
  say(`enqueued an XML feed of ${options.feedProducts} products (every 25th invalid) → xml-import job ${feed.id}`);
  const outcomes: SampleOutcome[] = [];
  for (const job of [pdf, scrape, feed]) {
    const row = await waitForRow(system, job.id, `the ${job.type} sample to finish`, options, (r) => r.status === 'completed' || r.status === 'failed');
    outcomes.push({ type: job.type, id: job.id, status: row.status, result: row.result, error: row.error });
    if (row.status === 'completed') say(`  ${job.type.padEnd(10)} completed in ${formatDuration(row.durationMs)}: ${summarize(job.type, row.result)}`);
    else if (job.type === 'scrape' && /refused|blocked|private|loopback/i.test(row.error ?? '')) {
      say(`  scrape     failed: the worker's SSRF guard refused 127.0.0.1 (${row.error}).`);
      say('             Restart the system with SCRAPE_ALLOW=127.0.0.1 (e.g. "SCRAPE_ALLOW=127.0.0.1 pnpm start") for this sample.');
    } else say(`  ${job.type.padEnd(10)} failed: ${row.error}`);
  }
  return outcomes;
}

function summarize(type: string, result: unknown): string {
  const r = (result ?? {}) as Record<string, unknown>;
  if (type === 'pdf') return `${String(r['pages'])} pages, ${String(r['chunks'])} text chunks, ${String(r['tiles'])} tiles, ${String(r['materials'])} materials`;
  if (type === 'scrape') return `${String(r['completedPages'])} pages crawled, ${String(r['failedPages'])} failed, ${String(r['products'])} products`;
  return `${String(r['processedProducts'])} products imported, ${String(r['failedProducts'])} rejected, in ${String(r['batches'])} batches`;
}

async function crashAndResume(system: CliSystem, env: Environment, options: DemoOptions): Promise<CrashOutcome> {
  const { say } = options;
  say('');
  say('Now the crash. The demo starts a worker of its own (a separate process it may kill):');
  let worker: DemoWorker | undefined;
  try {
    worker = await startDemoWorker(env);
    say(`  started worker ${worker.workerId} (pid ${worker.pid}, PDF jobs, BullMQ lock 5 s)`);
    const pdf = await longPdf(options.crashPages);
    const { id } = await system.client.enqueue('pdf', {
      documentId: `demo-crash-${Date.now()}`,
      source: { kind: 'inline', base64: pdf.toString('base64') },
      options: { renderScale: 2 },
    });
    say(`  enqueued a ${options.crashPages}-page PDF (tiles at 2× take a while) → pdf job ${id}`);
    let handbacks = 0;
    let row = await waitForRow(system, id, 'a worker to take the PDF', options, (r) => r.status === 'processing' && r.workerId !== null);
    while (row.workerId !== worker.workerId) {
      if (handbacks >= 10) throw new CommandFailedError(`the job kept going to ${row.workerId}, never to the demo's worker; try again`);
      handbacks += 1;
      say(`  worker ${row.workerId} took it, not the demo's — handing it back (kai-jobs restart ${id}) so the demo's worker can take it`);
      const attempt = row.attempt;
      try {
        await restartJob(
          { statusStore: system.store, checkpointStore: system.store, client: system.client, redis: system.redis, prefix: system.config.redis.prefix },
          id,
          // Forced: moving the job to the demo's worker is not a recovery, and the type's restart
          // limit (3 for PDFs) must not stop the demo when another worker takes it several times.
          { reason: 'demo: moving the job to the worker the demo will kill', by: 'kai-jobs demo', force: true },
        );
      } catch (error) {
        // The row moved between the read and the compare-and-set (the attempt got further): look again.
        if (!(error instanceof CommandFailedError)) throw error;
        row = await waitForRow(system, id, 'a worker to take the PDF', options, (r) => r.status === 'processing' && r.workerId !== null);
        continue;
      }
      row = await waitForRow(system, id, 'a worker to take the PDF again', options, (r) => r.status === 'processing' && r.attempt > attempt && r.workerId !== null);
    }
    say(`  the demo's worker is processing it (attempt ${row.attempt}); waiting until it is in the middle of rendering tiles…`);
    row = await waitForRow(system, id, 'the PDF to be in the middle of tiles_generated', options, (r) => r.currentStage === 'tiles_generated' && midStage(r.progressDetail));
    const before = (await system.store.listCheckpoints({ id, type: 'pdf' })).map((checkpoint) => checkpoint.stage);
    await worker.killHard();
    const killedAt = { stage: row.currentStage, progress: row.progress, detail: row.progressDetail };
    say(`  kill -9 ${worker.pid}: worker ${worker.workerId} is gone in ${row.currentStage} (${row.progressDetail ?? ''}, ${Math.round(row.progress)}%)`);
    say(`  checkpoints it had saved: ${before.join(', ')} — those stages will not run again`);
    const killedAtMs = Date.now();
    say('  now the job must go back to the queue and another worker resume it…');
    const resumedRow = await waitForRow(
      system,
      id,
      'the job to resume on another worker',
      options,
      (r) => r.attempt > row.attempt && r.status !== 'pending',
      (elapsed) => say(`  … still waiting for the job to be handed back (${formatDuration(elapsed)})`),
    );
    const afterKillMs = Date.now() - killedAtMs;
    // The attempt is claimed (attempt + 1) before it reads its checkpoints and records
    // "resumed": wait for that entry, or for the job to finish without one (no resume).
    const resumedOf = (entries: readonly HistoryEntry[]) =>
      [...entries].reverse().find((entry) => entry.event === 'resumed' && Number(entry['attempt'] ?? 0) >= resumedRow.attempt);
    let history = await system.store.history(id);
    while (resumedOf(history) === undefined) {
      const current = await system.store.get(id);
      if (current === null || current.status === 'completed' || current.status === 'failed') break;
      await sleep(100, options.signal);
      history = await system.store.history(id);
    }
    const resumedEntry = resumedOf(history);
    // What handed it back, as the history recorded it: a failover entry names the dead worker.
    const failover = [...history].reverse().find((entry) => entry.event === 'failover' && entry['workerId'] === worker?.workerId);
    const goneForMs = typeof failover?.['goneForMs'] === 'number' ? failover['goneForMs'] : null;
    const handBack: CrashOutcome['handBack'] = { by: failover === undefined ? 'stalled-check' : 'failover', afterKillMs, goneForMs };
    say(
      failover === undefined
        ? `  BullMQ handed it back: the dead worker's lock expired and a stalled check moved the job to wait; a worker claimed it ${formatDuration(afterKillMs)} after the kill`
        : `  the monitor's fast failover saw ${worker.workerId}'s connection gone (${formatDuration(goneForMs ?? 0)} after it vanished) and handed the job back; a worker claimed it ${formatDuration(afterKillMs)} after the kill`,
    );
    const resumed = resumedEntry === undefined
      ? null
      : { from: (resumedEntry['from'] as string | null) ?? null, restored: (resumedEntry['restored'] as string[]) ?? [], workerId: (resumedEntry['workerId'] as string | null) ?? resumedRow.workerId, attempt: Number(resumedEntry['attempt'] ?? resumedRow.attempt) };
    if (resumed !== null) say(`  resumed on ${resumed.workerId} (attempt ${resumed.attempt}) from ${resumed.from}, restoring ${resumed.restored.join(', ')} from checkpoints`);
    else say(`  attempt ${resumedRow.attempt} started on ${resumedRow.workerId} without restoring a checkpoint`);
    const finished = await waitForRow(system, id, 'the resumed PDF to finish', options, (r) => r.status === 'completed' || r.status === 'failed');
    const pages = finished.status === 'completed' ? Number((finished.result as Record<string, unknown>)['pages']) : null;
    say(finished.status === 'completed' ? `  completed: ${pages} pages after ${finished.attempt} attempts — nothing lost, no finished stage run again` : `  the resumed job failed: ${finished.error}`);
    say(`  see its history: kai-jobs status ${id}`);
    return { jobId: id, killedWorker: worker.workerId, killedAt, checkpointsBeforeKill: before, handbacks, resumed, handBack, status: finished.status, pages };
  } finally {
    await worker?.stop();
  }
}

/**
 * The demo, against a running system (`pnpm start`): real sample work of each type, then a
 * worker killed in the middle of a PDF job and the job resuming from its checkpoint on another
 * worker — narrated through `options.say`, visible on the board as it happens.
 */
export async function runDemo(system: CliSystem, env: Environment, options: DemoOptions): Promise<DemoReport> {
  const { say } = options;
  const startedAt = Date.now();
  const boardHost = envValue(env, 'BOARD_HOST') ?? '127.0.0.1';
  const boardPort = envValue(env, 'BOARD_PORT') ?? '3000';
  say(`kai-jobs demo — Redis ${system.config.redis.url}, prefix "${system.config.redis.prefix}"`);
  say(`watch it on the board: http://${boardHost === '0.0.0.0' ? '127.0.0.1' : boardHost}:${boardPort}/ (log in with what "pnpm start" printed)`);
  await checkSystem(system, say);
  say('');
  say('First, real work of each type:');
  const site = await startSampleSite();
  let samples: SampleOutcome[];
  try {
    samples = await runSamples(system, options, site);
  } finally {
    await site.close();
  }
  let crash: CrashOutcome;
  try {
    crash = await crashAndResume(system, env, options);
  } catch (error) {
    throw error instanceof CommandFailedError ? error : new CommandFailedError(`the crash part of the demo failed: ${toError(error).message}`, { cause: error });
  }
  const resumedFromCheckpoint = crash.status === 'completed' && crash.resumed !== null && crash.resumed.restored.length > 0;
  say('');
  const durationMs = Date.now() - startedAt;
  say(
    resumedFromCheckpoint
      ? `demo done in ${formatDuration(durationMs)}: the crashed job resumed from its checkpoint and completed.`
      : `demo done in ${formatDuration(durationMs)}, but the crashed job did not resume from a checkpoint as expected.`,
  );
  return { durationMs, samples, crash, resumedFromCheckpoint };
}
