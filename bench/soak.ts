/**
 * The soak: `pnpm soak` (30 minutes; not in CI). Real worker processes with the real PDF,
 * scrape and XML-import processors on small local inputs, and real monitor processes, under a
 * steady mixed load through the typed client, with a worker `kill -9`ed every 20–40 s (and a
 * monitor every 5 minutes). Samples the RSS of a worker and a monitor that are never killed
 * (the witnesses), Redis `used_memory` and key count; then stops the load, waits until the
 * short retention has expired the finished jobs, rows and checkpoints, and compares Redis with
 * its baseline. Writes `bench/results/soak-latest.md` and `.json`.
 *
 *   pnpm soak                       # 30 minutes
 *   pnpm soak --quick               # ~2-minute smoke run (report in the temp folder)
 *   pnpm soak --minutes=15 --rate=2 --retention-s=120 --workers=3 --sample-s=30
 *   pnpm soak --no-janitor          # leave BullMQ's finished jobs to BullMQ's own retention
 */
import { spawn, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { bullPrefix, createJobClient, JOB_TYPES, jobCatalog, type JobClient, type JobType } from '@kai-jobs/queue';
import { startBenchRedis, type BenchRedis } from './lib/redis-server.js';
import { killHard, rssOf, startSoakProcess, stopGracefully, type SoakProcess } from './lib/soak-processes.js';
import { asciiChart, keyFamily, slope } from './lib/soak-report.js';
import { arg, fmt } from './lib/stats.js';
import { describeMachine } from './lib/machine.js';
import { BENCH_MAPPING, writeFeed } from './lib/xml-feed.js';

const QUICK = process.argv.includes('--quick');
const JANITOR = !process.argv.includes('--no-janitor');
const MINUTES = arg('minutes', QUICK ? 2 : 30);
const SAMPLE_MS = arg('sample-s', QUICK ? 10 : 30) * 1000;
const KILL_MIN_MS = arg('kill-min-s', QUICK ? 10 : 20) * 1000;
const KILL_MAX_MS = arg('kill-max-s', QUICK ? 20 : 40) * 1000;
const MONITOR_KILL_MS = arg('monitor-kill-s', QUICK ? 50 : 300) * 1000;
const RETENTION_MS = arg('retention-s', QUICK ? 30 : 120) * 1000;
const RATE = arg('rate', 1.5);
const MAX_BACKLOG = arg('max-backlog', 40);
const WORKERS = Math.max(2, arg('workers', 3));
const SEED = arg('seed', 20261129);
const OUT = process.argv.find((a) => a.startsWith('--out='))?.slice(6) ?? (QUICK ? join(tmpdir(), 'soak-quick') : 'bench/results/soak-latest');

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const WORKER_SCRIPT = join(here, 'lib/soak-worker.ts');
const MONITOR_SCRIPT = join(root, 'packages/monitor/src/bin/monitor.ts');
const PREFIX = 'soak';
const MiB = 1024 * 1024;
/** Metric buckets cannot be kept less than a minute, so the drain waits at least that long. */
const EXPIRY_MS = Math.max(RETENTION_MS, 60_000);

/** A small deterministic PRNG (mulberry32), so two runs see the same mix and kill schedule. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(SEED);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- inputs

/** A 2-page A4 PDF with a few paragraphs of material text per page. */
async function makePdf(path: string): Promise<void> {
  const document = await PDFDocument.create();
  const font = await document.embedFont(StandardFonts.Helvetica);
  for (let pageIndex = 0; pageIndex < 2; pageIndex++) {
    const page = document.addPage([595, 842]);
    let y = 790;
    for (let paragraph = 0; paragraph < 6; paragraph++) {
      for (const line of [
        `Page ${pageIndex + 1}, section ${paragraph + 1}: grey granite paving 600 x 400 mm, flamed, 30 mm.`,
        'Porcelain stoneware tile, matt finish, rectified edges, frost resistant, R10 slip rating.',
        'Lay on a compacted sub-base with a bedding layer of sharp sand and joint with mortar.',
      ]) {
        page.drawText(line, { x: 56, y, size: 10, font });
        y -= 13;
      }
      y -= 13;
    }
  }
  writeFileSync(path, await document.save());
}

async function startSite(pages: number): Promise<{ origin: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'lib/site-server.ts'), String(pages)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
  return {
    origin: `http://127.0.0.1:${Number(chunk.toString().trim())}`,
    async stop() {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

// ---------------------------------------------------------------- bookkeeping

/** What the soak knows of one enqueued job. */
interface Tracked {
  type: JobType;
  kind: string;
  expectFailure: boolean;
  outcome: 'completed' | 'failed' | null;
  error: string | null;
  completedEvents: number;
  restartCount: number;
  attempt: number;
}

/** One sample of the curve. */
interface Sample {
  /** Minutes since the load started (negative: the baseline). */
  minute: number;
  phase: 'baseline' | 'load' | 'drain' | 'end';
  /** RSS (MiB) of every live process, by lifetime id. */
  rss: Record<string, number>;
  witnessWorkerMiB: number | null;
  witnessMonitorMiB: number | null;
  /** The lifetimes the witness values belong to (a witness that dies on its own is restarted). */
  witnessWorkerId: string | null;
  witnessMonitorId: string | null;
  redisUsedMiB: number;
  redisRssMiB: number;
  keys: number;
  enqueued: number;
  completed: number;
  failed: number;
  backlog: number;
  /** Jobs finished per minute since the previous sample. */
  throughputPerMin: number;
  kills: number;
  monitorKills: number;
}

interface Lifetime {
  slot: string;
  id: string;
  startedMinute: number;
  endedMinute: number | null;
  firstMiB: number | null;
  lastMiB: number | null;
  maxMiB: number;
  killed: boolean;
  /** Exit code or signal when the process died on its own (not killed or stopped by the soak). */
  diedUnexpectedly: number | string | null;
}

/** A process that died on its own, and the last thing it logged. */
interface UnexpectedExit {
  id: string;
  minute: number;
  exit: number | string;
  lastLog: string;
}

function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const index = line.indexOf(':');
    if (index > 0) out[line.slice(0, index)] = line.slice(index + 1);
  }
  return out;
}

async function redisMemory(redis: BenchRedis): Promise<{ usedMiB: number; rssMiB: number; keys: number }> {
  const info = parseInfo(await redis.admin.info('memory'));
  return { usedMiB: Number(info['used_memory']) / MiB, rssMiB: Number(info['used_memory_rss']) / MiB, keys: await redis.admin.dbsize() };
}

/** Where Redis's used_memory goes (MiB): the data set, and the overhead of scripts and clients. */
async function redisMemoryBreakdown(redis: BenchRedis): Promise<Record<string, number>> {
  const info = parseInfo(await redis.admin.info('memory'));
  const fields = ['used_memory', 'used_memory_dataset', 'used_memory_overhead', 'used_memory_scripts', 'used_memory_vm_eval', 'mem_clients_normal', 'used_memory_rss'];
  return Object.fromEntries(fields.filter((field) => info[field] !== undefined).map((field) => [field, Number(info[field]) / MiB]));
}

/** Every key by family: count, memory (MEMORY USAGE), how many have a TTL. */
async function keyFamilies(redis: BenchRedis): Promise<Record<string, { keys: number; bytes: number; withTtl: number }>> {
  const families: Record<string, { keys: number; bytes: number; withTtl: number }> = {};
  let cursor = '0';
  do {
    const [next, keys] = await redis.admin.scan(cursor, 'COUNT', 1000);
    cursor = next;
    if (keys.length === 0) continue;
    const pipeline = redis.admin.pipeline();
    for (const key of keys) pipeline.memory('USAGE', key).pttl(key);
    const replies = (await pipeline.exec()) ?? [];
    keys.forEach((key, i) => {
      const family = keyFamily(key);
      const entry = (families[family] ??= { keys: 0, bytes: 0, withTtl: 0 });
      const bytes = Number(replies[2 * i]?.[1] ?? 0);
      const ttl = Number(replies[2 * i + 1]?.[1] ?? -2);
      if (ttl === -2) return; // expired between SCAN and the look
      entry.keys += 1;
      entry.bytes += bytes;
      if (ttl >= 0) entry.withTtl += 1;
    });
  } while (cursor !== '0');
  return families;
}

function machine(): Record<string, string> {
  const host = describeMachine();
  return { ...host, cpu: `${host['cpu']} (shared with other work)` };
}

// ---------------------------------------------------------------- the run

async function main(): Promise<void> {
  const host = machine();
  const work = mkdtempSync(join(tmpdir(), 'kai-soak-'));
  const logs = join(work, 'logs');
  mkdirSync(logs);
  const pdfPath = join(work, 'doc.pdf');
  const feedPath = join(work, 'feed.xml');
  const brokenFeedPath = join(work, 'broken.xml');
  await makePdf(pdfPath);
  const feed = await writeFeed(feedPath, 60_000, 50);
  writeFileSync(brokenFeedPath, '<?xml version="1.0"?>\n<products>\n  <product id="x"><sku>S-1</sku><name>Broken</name>\n');
  const site = await startSite(60);
  const redis = await startBenchRedis();
  process.stderr.write(`soak: ${MINUTES} min, redis ${redis.url}, work ${work}\n`);

  const workerEnv = (id: string): Record<string, string> => ({
    REDIS_URL: redis.url,
    KAI_PREFIX: PREFIX,
    WORKER_ID: id,
    WORKER_TYPES: JOB_TYPES.join(','),
    WORKER_CONCURRENCY: 'pdf=2,scrape=2,xml-import=2',
    FILE_ROOT: work,
    ARTIFACTS_DIR: join(work, 'artifacts'),
    SCRAPE_ALLOW: '127.0.0.1',
    LOG_LEVEL: 'info',
    SOAK_RETENTION_MS: String(RETENTION_MS),
    // The artifact sweep with the soak's retention, so the artifact folder stays flat too.
    KAI_RETENTION_ARTIFACTS_COMPLETED: String(RETENTION_MS),
    KAI_RETENTION_ARTIFACTS_FAILED: String(RETENTION_MS),
    KAI_RETENTION_ARTIFACTS_ORPHAN: String(RETENTION_MS),
    KAI_ARTIFACT_SWEEP_INTERVAL: String(Math.max(5000, Math.floor(RETENTION_MS / 4))),
  });
  const monitorEnv = (id: string): Record<string, string> => ({
    REDIS_URL: redis.url,
    KAI_PREFIX: PREFIX,
    MONITOR_ID: id,
    MONITOR_CHECK_INTERVAL_MS: '15000',
    LOG_LEVEL: 'info',
  });
  const generation: Record<string, number> = {};
  const lifetimes: Lifetime[] = [];
  const live = new Map<string, SoakProcess>();
  let loadStartedAt = 0;
  const minuteNow = (): number => (loadStartedAt === 0 ? 0 : (Date.now() - loadStartedAt) / 60_000);
  /** Ids the soak itself kills or stops; any other exit is unexpected. */
  const expectedExits = new Set<string>();
  const respawning = new Set<string>();
  const unexpectedExits: UnexpectedExit[] = [];
  let shuttingDown = false;
  const onUnexpectedExit = async (slot: string, id: string, exit: number | string): Promise<void> => {
    let lastLog = '';
    try {
      const tail = readFileSync(join(logs, `${slot}.log`), 'utf8').trimEnd().split('\n').slice(-3);
      lastLog = tail
        .map((line) => {
          try {
            const entry = JSON.parse(line) as Record<string, unknown>;
            return [entry['queue'], entry['stage'], entry['msg']].filter((part) => part !== undefined).join(' / ');
          } catch {
            return line.slice(0, 200);
          }
        })
        .join(' → ');
    } catch {
      // no log
    }
    const minute = minuteNow();
    unexpectedExits.push({ id, minute, exit, lastLog });
    const lifetime = lifetimeOf(id);
    lifetime.endedMinute = minute;
    lifetime.diedUnexpectedly = exit;
    process.stderr.write(`UNEXPECTED EXIT of ${id} (${exit}) at ${fmt(minute, 1)} min; last log: ${lastLog}\n`);
    if (shuttingDown || live.get(slot)?.id !== id) return;
    respawning.add(slot);
    try {
      await spawnSlot(slot);
    } finally {
      respawning.delete(slot);
    }
  };
  const spawnSlot = async (slot: string): Promise<SoakProcess> => {
    const n = (generation[slot] = (generation[slot] ?? -1) + 1);
    const id = `soak-${slot}-${n}`;
    const monitor = slot.startsWith('m');
    const proc = await startSoakProcess({
      slot,
      id,
      script: monitor ? MONITOR_SCRIPT : WORKER_SCRIPT,
      env: monitor ? monitorEnv(id) : workerEnv(id),
      logFile: join(logs, `${slot}.log`),
      readyMessage: monitor ? 'monitor ready' : 'worker ready',
    });
    live.set(slot, proc);
    lifetimes.push({ slot, id, startedMinute: minuteNow(), endedMinute: null, firstMiB: null, lastMiB: null, maxMiB: 0, killed: false, diedUnexpectedly: null });
    void proc.exited.then((exit) => {
      if (!expectedExits.has(id)) void onUnexpectedExit(slot, id, exit).catch((error: unknown) => process.stderr.write(`restart of ${slot} failed: ${String(error)}\n`));
    });
    return proc;
  };
  const lifetimeOf = (id: string): Lifetime => lifetimes.find((l) => l.id === id) as Lifetime;

  const workerSlots = Array.from({ length: WORKERS }, (_, i) => `w${i}`);
  for (const slot of workerSlots) await spawnSlot(slot);
  await spawnSlot('m0');
  await spawnSlot('m1');

  const client: JobClient = createJobClient({ redis: { url: redis.url, prefix: PREFIX } });
  const tracked = new Map<string, Tracked>();
  let completed = 0;
  let failed = 0;
  let duplicateCompletions = 0;
  const reading = new Set<string>();
  const readOutcome = async (jobId: string): Promise<void> => {
    const job = tracked.get(jobId);
    if (job === undefined || job.outcome !== null || reading.has(jobId)) return;
    reading.add(jobId);
    const row = await client.statusStore.get(jobId).finally(() => reading.delete(jobId));
    if (row === null || (row.status !== 'completed' && row.status !== 'failed')) return;
    job.outcome = row.status;
    job.error = row.error;
    job.restartCount = row.restartCount;
    job.attempt = row.attempt;
    if (row.status === 'completed') completed++;
    else failed++;
  };
  const eventConnections: Redis[] = [];
  const queueEvents = JOB_TYPES.map((type) => {
    const name = jobCatalog[type].queueName;
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    eventConnections.push(connection);
    const events = new QueueEvents(name, { connection, prefix: bullPrefix(PREFIX, name) });
    events.on('completed', ({ jobId }) => {
      const job = tracked.get(jobId);
      if (job !== undefined && ++job.completedEvents > 1) duplicateCompletions++;
      void readOutcome(jobId).catch(() => undefined);
    });
    events.on('failed', ({ jobId }) => void readOutcome(jobId).catch(() => undefined));
    return events;
  });
  await Promise.all(queueEvents.map((events) => events.waitUntilReady()));

  // Baseline: everything running and idle; the monitor has scheduled its tick.
  await sleep(QUICK ? 5_000 : 20_000);
  const baselineReadings = [];
  for (let i = 0; i < 3; i++) {
    baselineReadings.push(await redisMemory(redis));
    await sleep(1000);
  }
  const baseline = baselineReadings.sort((a, b) => a.usedMiB - b.usedMiB)[1] as { usedMiB: number; rssMiB: number; keys: number };
  const baselineFamilies = await keyFamilies(redis);
  const baselineBreakdown = await redisMemoryBreakdown(redis);
  process.stderr.write(`baseline: used_memory ${fmt(baseline.usedMiB, 2)} MiB, ${baseline.keys} keys\n`);

  const samples: Sample[] = [];
  let kills = 0;
  let monitorKills = 0;
  let skipped = 0;
  let enqueueErrors = 0;
  let lastFinished = 0;
  let lastSampleAt = Date.now();
  let backlog = 0;
  const sample = async (phase: Sample['phase']): Promise<Sample> => {
    await refreshBacklog();
    const memory = await redisMemory(redis);
    const rss: Record<string, number> = {};
    for (const proc of live.values()) {
      const bytes = rssOf(proc.pid);
      if (bytes === null) continue;
      const mib = bytes / MiB;
      rss[proc.id] = mib;
      const lifetime = lifetimeOf(proc.id);
      lifetime.firstMiB ??= mib;
      lifetime.lastMiB = mib;
      lifetime.maxMiB = Math.max(lifetime.maxMiB, mib);
    }
    const finished = completed + failed;
    const now = Date.now();
    const s: Sample = {
      minute: loadStartedAt === 0 ? 0 : (now - loadStartedAt) / 60_000,
      phase,
      rss,
      witnessWorkerMiB: rss[live.get('w0')?.id ?? ''] ?? null,
      witnessMonitorMiB: rss[live.get('m0')?.id ?? ''] ?? null,
      witnessWorkerId: live.get('w0')?.id ?? null,
      witnessMonitorId: live.get('m0')?.id ?? null,
      redisUsedMiB: memory.usedMiB,
      redisRssMiB: memory.rssMiB,
      keys: memory.keys,
      enqueued: tracked.size,
      completed,
      failed,
      backlog,
      throughputPerMin: ((finished - lastFinished) * 60_000) / Math.max(1, now - lastSampleAt),
      kills,
      monitorKills,
    };
    lastFinished = finished;
    lastSampleAt = now;
    samples.push(s);
    process.stderr.write(
      `[${fmt(s.minute, 1)} min ${phase}] w0 ${fmt(s.witnessWorkerMiB ?? 0, 1)} MiB, m0 ${fmt(s.witnessMonitorMiB ?? 0, 1)} MiB, redis ${fmt(s.redisUsedMiB, 2)} MiB, ${s.keys} keys, ` +
        `enqueued ${s.enqueued}, done ${s.completed}, failed ${s.failed}, backlog ${backlog}, ${fmt(s.throughputPerMin)} jobs/min, kills ${kills}+${monitorKills}\n`,
    );
    return s;
  };
  let janitorRemoved = 0;
  const janitor = async (): Promise<void> => {
    if (!JANITOR) return;
    for (const type of JOB_TYPES) {
      const queue = client.queue(type);
      janitorRemoved += (await queue.clean(RETENTION_MS, 10_000, 'completed')).length;
      janitorRemoved += (await queue.clean(RETENTION_MS, 10_000, 'failed')).length;
    }
  };
  const refreshBacklog = async (): Promise<void> => {
    let total = 0;
    for (const type of JOB_TYPES) {
      const counts = await client.queue(type).getJobCounts('wait', 'active', 'delayed', 'prioritized', 'waiting-children');
      total += Object.values(counts).reduce((sum, n) => sum + n, 0);
    }
    backlog = total;
  };

  // ---- load
  await sample('baseline');
  loadStartedAt = Date.now();
  lastSampleAt = loadStartedAt;
  const loadEndsAt = loadStartedAt + MINUTES * 60_000;
  let stopping = false;
  let serial = 0;
  const enqueueOne = async (): Promise<void> => {
    const n = serial++;
    const r = random();
    let enqueued: { id: string; type: JobType; kind: string; expectFailure: boolean };
    const idempotencyKey = `soak-${n}`;
    if (r < 0.45) {
      const { id } = await client.enqueue('pdf', { documentId: `soak-doc-${n % 10}`, source: { kind: 'file', path: pdfPath }, options: { renderScale: 1 } }, { idempotencyKey });
      enqueued = { id, type: 'pdf', kind: 'pdf', expectFailure: false };
    } else if (r < 0.5) {
      const { id } = await client.enqueue('pdf', { documentId: `soak-doc-${n % 10}`, source: { kind: 'file', path: join(work, 'missing.pdf') } }, { idempotencyKey });
      enqueued = { id, type: 'pdf', kind: 'pdf (missing file)', expectFailure: true };
    } else if (r < 0.77) {
      const { id } = await client.enqueue(
        'xml-import',
        { importJobId: `soak-import-${n}`, sourceName: `soak-feed-${n % 3}`, source: { kind: 'file', path: feedPath }, fieldMapping: BENCH_MAPPING, batchSize: 100 },
        { idempotencyKey },
      );
      enqueued = { id, type: 'xml-import', kind: 'xml-import', expectFailure: false };
    } else if (r < 0.8) {
      const { id } = await client.enqueue(
        'xml-import',
        { importJobId: `soak-import-${n}`, sourceName: 'soak-feed-broken', source: { kind: 'file', path: brokenFeedPath }, fieldMapping: BENCH_MAPPING },
        { idempotencyKey },
      );
      enqueued = { id, type: 'xml-import', kind: 'xml-import (truncated feed)', expectFailure: true };
    } else {
      const { id } = await client.enqueue('scrape', { sessionId: `soak-session-${n}`, sourceUrl: `${site.origin}/p/0`, maxPages: 12, maxDepth: 3 }, { idempotencyKey });
      enqueued = { id, type: 'scrape', kind: 'scrape', expectFailure: false };
    }
    tracked.set(enqueued.id, { ...enqueued, outcome: null, error: null, completedEvents: 0, restartCount: 0, attempt: 0 });
  };
  const producer = (async () => {
    let due = 0;
    let lastBacklogAt = 0;
    while (!stopping && Date.now() < loadEndsAt) {
      if (Date.now() - lastBacklogAt > 2000) {
        await refreshBacklog();
        lastBacklogAt = Date.now();
      }
      const target = ((Date.now() - loadStartedAt) / 1000) * RATE;
      while (due < target) {
        due++;
        if (backlog >= MAX_BACKLOG) {
          skipped++;
          continue;
        }
        backlog++;
        await enqueueOne().catch((error: unknown) => {
          enqueueErrors++;
          process.stderr.write(`enqueue failed: ${(error as Error).message}\n`);
        });
      }
      await sleep(200);
    }
  })();
  const killer = (async () => {
    let nextMonitorKill = loadStartedAt + MONITOR_KILL_MS;
    while (Date.now() < loadEndsAt) {
      const wait = KILL_MIN_MS + random() * (KILL_MAX_MS - KILL_MIN_MS);
      await sleep(Math.min(wait, Math.max(0, loadEndsAt - Date.now())));
      if (Date.now() >= loadEndsAt) break;
      // w0 is the RSS witness: never killed.
      const slot = workerSlots[1 + Math.floor(random() * (WORKERS - 1))] as string;
      const victim = live.get(slot) as SoakProcess;
      // A slot whose process died on its own is being restarted by the exit handler.
      if (respawning.has(slot) || victim.child.exitCode !== null || victim.child.signalCode !== null) continue;
      expectedExits.add(victim.id);
      const lifetime = lifetimeOf(victim.id);
      const bytes = rssOf(victim.pid);
      if (bytes !== null) lifetime.lastMiB = bytes / MiB;
      await killHard(victim);
      lifetime.endedMinute = minuteNow();
      lifetime.killed = true;
      kills++;
      await spawnSlot(slot);
      if (Date.now() >= nextMonitorKill) {
        nextMonitorKill += MONITOR_KILL_MS;
        const monitor = live.get('m1') as SoakProcess;
        if (respawning.has('m1') || monitor.child.exitCode !== null || monitor.child.signalCode !== null) continue;
        expectedExits.add(monitor.id);
        const monitorLifetime = lifetimeOf(monitor.id);
        await killHard(monitor);
        monitorLifetime.endedMinute = minuteNow();
        monitorLifetime.killed = true;
        monitorKills++;
        await spawnSlot('m1');
      }
    }
  })();
  while (Date.now() < loadEndsAt) {
    await sleep(Math.min(SAMPLE_MS, Math.max(0, loadEndsAt - Date.now())));
    await janitor();
    await sample('load');
  }
  stopping = true;
  await producer;
  await killer;
  const loadEndedMinute = minuteNow();
  process.stderr.write(`load stopped after ${fmt(loadEndedMinute, 1)} min: ${tracked.size} enqueued, ${skipped} skipped (backlog cap), ${kills} worker kills, ${monitorKills} monitor kills\n`);

  // ---- drain: every job finishes, then retention expires what they left behind.
  const finishDeadline = Date.now() + 10 * 60_000;
  let lastDrainSample = Date.now();
  while (completed + failed < tracked.size && Date.now() < finishDeadline) {
    await sleep(2000);
    for (const [id, job] of tracked) if (job.outcome === null) await readOutcome(id);
    await refreshBacklog();
    if (Date.now() - lastDrainSample >= SAMPLE_MS) {
      lastDrainSample = Date.now();
      await janitor();
      await sample('drain');
    }
  }
  const allFinishedMinute = minuteNow();
  const lastFinishAt = Date.now();
  process.stderr.write(`all finished: ${completed} completed, ${failed} failed of ${tracked.size} (${fmt(allFinishedMinute, 1)} min)\n`);
  // Retention runs from each job's finish; wait one retention past the last finish, plus sampling slack.
  const expireDeadline = lastFinishAt + EXPIRY_MS + Math.max(SAMPLE_MS, 30_000) + 15_000;
  while (Date.now() < expireDeadline) {
    await sleep(Math.min(SAMPLE_MS, Math.max(0, expireDeadline - Date.now())));
    await janitor();
    await sample('drain');
  }
  await janitor();
  await sleep(2000);
  const endSample = await sample('end');
  const endFamilies = await keyFamilies(redis);
  const endBreakdown = await redisMemoryBreakdown(redis);

  // ---- invariants
  const lost = [...tracked.entries()].filter(([, job]) => job.outcome === null);
  const failedWithoutReason = [...tracked.values()].filter((job) => job.outcome === 'failed' && (job.error ?? '').trim() === '');
  const unexpectedFailures = [...tracked.entries()].filter(([, job]) => job.outcome === 'failed' && !job.expectFailure);
  const unexpectedCompletions = [...tracked.entries()].filter(([, job]) => job.outcome === 'completed' && job.expectFailure);
  const byKind: Record<string, { enqueued: number; completed: number; failed: number; restarted: number }> = {};
  for (const job of tracked.values()) {
    const entry = (byKind[job.kind] ??= { enqueued: 0, completed: 0, failed: 0, restarted: 0 });
    entry.enqueued++;
    if (job.outcome === 'completed') entry.completed++;
    if (job.outcome === 'failed') entry.failed++;
    if (job.restartCount > 0 || job.attempt > 1) entry.restarted++;
  }
  const failureReasons: Record<string, number> = {};
  for (const job of tracked.values()) {
    if (job.outcome !== 'failed') continue;
    const reason = `${job.kind}: ${(job.error ?? '').replace(UUID_OR_PATH, '…').slice(0, 120)}`;
    failureReasons[reason] = (failureReasons[reason] ?? 0) + 1;
  }

  // ---- shutdown
  const exits: Record<string, number | string> = {};
  shuttingDown = true;
  while (respawning.size > 0) await sleep(500);
  for (const proc of live.values()) {
    expectedExits.add(proc.id);
    const bytes = rssOf(proc.pid);
    if (bytes !== null) lifetimeOf(proc.id).lastMiB = bytes / MiB;
    exits[proc.id] = await stopGracefully(proc);
    lifetimeOf(proc.id).endedMinute = minuteNow();
  }
  await Promise.all(queueEvents.map((events) => events.close()));
  await Promise.all(eventConnections.map((connection) => connection.quit()));
  await client.close();
  let artifactsBytes = 0;
  try {
    artifactsBytes = Number(execFileSync('du', ['-sb', join(work, 'artifacts')], { encoding: 'utf8' }).split('\t')[0]);
  } catch {
    // no artifacts folder
  }
  await redis.stop();
  await site.stop();

  // ---- figures
  const loadSamples = samples.filter((s) => s.phase === 'load' || s.phase === 'drain' || s.phase === 'end');
  /** The witness's figures over its longest lifetime (the whole run unless it died on its own). */
  const witness = (pick: (s: Sample) => number | null, idOf: (s: Sample) => string | null) => {
    const byLifetime = new Map<string, { x: number; y: number }[]>();
    for (const s of loadSamples) {
      const value = pick(s);
      const id = idOf(s);
      if (value === null || id === null) continue;
      byLifetime.set(id, [...(byLifetime.get(id) ?? []), { x: s.minute, y: value }]);
    }
    const [lifetimeId, points] = [...byLifetime.entries()].sort((a, b) => b[1].length - a[1].length)[0] ?? ['', []];
    const first = points[0]?.x ?? 0;
    const warm = points.filter((p) => p.x - first >= Math.min(5, MINUTES / 3));
    return {
      lifetimeId,
      lifetimes: byLifetime.size,
      fromMinute: first,
      toMinute: points.at(-1)?.x ?? 0,
      startMiB: points[0]?.y ?? null,
      endMiB: points.at(-1)?.y ?? null,
      maxMiB: Math.max(...points.map((p) => p.y)),
      slopeMiBPer10Min: slope(points) * 10,
      slopeAfterWarmUpMiBPer10Min: slope(warm) * 10,
    };
  };
  const workerWitness = witness(
    (s) => s.witnessWorkerMiB,
    (s) => s.witnessWorkerId,
  );
  const monitorWitness = witness(
    (s) => s.witnessMonitorMiB,
    (s) => s.witnessMonitorId,
  );
  const peakRedis = Math.max(...samples.map((s) => s.redisUsedMiB));
  const peakKeys = Math.max(...samples.map((s) => s.keys));
  const familyRows = [...new Set([...Object.keys(baselineFamilies), ...Object.keys(endFamilies)])]
    .map((family) => ({ family, baseline: baselineFamilies[family] ?? { keys: 0, bytes: 0, withTtl: 0 }, end: endFamilies[family] ?? { keys: 0, bytes: 0, withTtl: 0 } }))
    .sort((a, b) => b.end.bytes - b.baseline.bytes - (a.end.bytes - a.baseline.bytes));
  const finishedJobs = completed + failed;
  const invariants = {
    everyJobFinished: lost.length === 0,
    lost: lost.map(([id, job]) => ({ id, kind: job.kind })),
    failedWithoutReason: failedWithoutReason.length,
    unexpectedFailures: unexpectedFailures.map(([id, job]) => ({ id, kind: job.kind, error: job.error })),
    unexpectedCompletions: unexpectedCompletions.length,
    duplicateCompletions,
    gracefulExits: Object.values(exits).every((code) => code === 0),
    exits,
    unexpectedExits,
  };
  const result = {
    bench: 'soak',
    machine: host,
    settings: {
      minutes: MINUTES,
      quick: QUICK,
      workers: WORKERS,
      monitors: 2,
      workerConcurrency: 'pdf=2,scrape=2,xml-import=2',
      ratePerSecond: RATE,
      maxBacklog: MAX_BACKLOG,
      sampleSeconds: SAMPLE_MS / 1000,
      killEverySeconds: [KILL_MIN_MS / 1000, KILL_MAX_MS / 1000],
      monitorKillEverySeconds: MONITOR_KILL_MS / 1000,
      retentionSeconds: RETENTION_MS / 1000,
      janitor: JANITOR,
      seed: SEED,
      inputs: { pdfPages: 2, feedProducts: feed.products, feedInvalidProducts: feed.invalid, sitePages: 60, scrapeMaxPages: 12 },
    },
    jobs: { enqueued: tracked.size, completed, failed, skippedForBacklog: skipped, enqueueErrors, byKind, failureReasons, jobsPerMinute: finishedJobs / Math.max(loadEndedMinute, 1e-9) },
    kills: { workers: kills, monitors: monitorKills },
    witnessWorker: workerWitness,
    witnessMonitor: monitorWitness,
    lifetimes,
    redis: {
      baselineUsedMiB: baseline.usedMiB,
      peakUsedMiB: peakRedis,
      endUsedMiB: endSample.redisUsedMiB,
      baselineKeys: baseline.keys,
      peakKeys,
      endKeys: endSample.keys,
      janitorRemovedBullJobs: janitorRemoved,
      baselineBreakdownMiB: baselineBreakdown,
      endBreakdownMiB: endBreakdown,
      families: familyRows,
    },
    artifactsMiB: artifactsBytes / MiB,
    invariants,
    samples,
  };
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(`${OUT}.json`, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(`${OUT}.md`, renderMarkdown(result));
  process.stderr.write(`wrote ${OUT}.md and ${OUT}.json\n`);
  rmSync(work, { recursive: true, force: true });
  const ok = unexpectedExits.length === 0 && invariants.everyJobFinished && invariants.failedWithoutReason === 0 && invariants.duplicateCompletions === 0 && invariants.unexpectedFailures.length === 0;
  process.exitCode = ok ? 0 : 1;
}

const UUID_OR_PATH = /[0-9a-f]{8}-[0-9a-f-]{27}|\/tmp\/[^\s,;)]+/gi;

type Result = {
  machine: Record<string, string>;
  settings: Record<string, unknown> & { minutes: number; retentionSeconds: number; janitor: boolean };
  jobs: { enqueued: number; completed: number; failed: number; skippedForBacklog: number; enqueueErrors: number; jobsPerMinute: number; byKind: Record<string, { enqueued: number; completed: number; failed: number; restarted: number }>; failureReasons: Record<string, number> };
  kills: { workers: number; monitors: number };
  witnessWorker: WitnessFigures;
  witnessMonitor: WitnessFigures;
  lifetimes: Lifetime[];
  redis: {
    baselineUsedMiB: number;
    peakUsedMiB: number;
    endUsedMiB: number;
    baselineKeys: number;
    peakKeys: number;
    endKeys: number;
    janitorRemovedBullJobs: number;
    baselineBreakdownMiB: Record<string, number>;
    endBreakdownMiB: Record<string, number>;
    families: FamilyRow[];
  };
  artifactsMiB: number;
  invariants: {
    everyJobFinished: boolean;
    lost: unknown[];
    failedWithoutReason: number;
    unexpectedFailures: unknown[];
    unexpectedCompletions: number;
    duplicateCompletions: number;
    gracefulExits: boolean;
    exits: Record<string, number | string>;
    unexpectedExits: UnexpectedExit[];
  };
  samples: Sample[];
};

/** Why a key family outlives the drain (see the soak section of bench/README.md). */
const FAMILY_NOTES: [RegExp, string][] = [
  [/:events$/, "BullMQ's event stream of the queue: capped at ~10,000 entries, never expires (bounded)"],
  [/job-monitor:repeat:monitor-tick:<n>$/, 'finished monitor ticks: BullMQ keeps the last 100 (bounded)'],
  [/job-monitor:(completed|failed)$/, 'the job-monitor queue’s finished set (last 100 ticks)'],
  [/:materials:/, 'business data: the materials of a document (10 documents here), kept by design'],
  [/:products:/, 'business data: the products of a feed (3 feeds here), kept by design'],
  [/status-idx:state:(completed|failed)$/, 'listing index of finished rows: trimmed only when another job finishes with that outcome, so the ids of the last retention window stay (pointing at expired rows) once the load stops'],
  [/alerts:dedupe:/, 'one per alert sent (each failed job): expires after the alerter’s dedupeTtlMs, 7 days, which the monitor bin cannot set'],
  [/\{metrics\}:[^:]+:total$/, 'metrics running totals: never expire, a fixed set of fields (bounded)'],
  [/\{metrics\}:/, 'metrics minute buckets: expire 60 s after their last write'],
  [/:id$/, "BullMQ's event-id counter of the queue (one key)"],
  [/stalled-check$/, "BullMQ's stall-check throttle (expires by itself)"],
  [/:(wait|active|delayed|prioritized|completed|failed|marker|meta|stalled)$/, "BullMQ's per-queue structures"],
  [/workers:registry|workers:heartbeats/, 'the live workers’ registry entries'],
];

function familyNote(family: string): string {
  return FAMILY_NOTES.find(([pattern]) => pattern.test(family))?.[1] ?? '';
}

/** The worker witness's figures per lifetime (when it died on its own and was restarted). */
function witnessLifetimes(samples: readonly Sample[]): string[] {
  const byId = new Map<string, { x: number; y: number }[]>();
  for (const s of samples) {
    if (s.phase === 'baseline' || s.witnessWorkerId === null || s.witnessWorkerMiB === null) continue;
    byId.set(s.witnessWorkerId, [...(byId.get(s.witnessWorkerId) ?? []), { x: s.minute, y: s.witnessWorkerMiB }]);
  }
  if (byId.size < 2) return [];
  return [
    'The worker witness per lifetime (slope over the samples from 2 minutes into each lifetime):',
    '',
    '| lifetime | minutes | samples | first MiB | min MiB | max MiB | last MiB | slope per 10 min |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
    ...[...byId.entries()].map(([id, points]) => {
      const first = points[0] as { x: number; y: number };
      const last = points.at(-1) as { x: number; y: number };
      const values = points.map((p) => p.y);
      const settled = points.filter((p) => p.x - first.x >= 2);
      return `| ${id.replace('soak-', '')} | ${fmt(first.x, 1)}–${fmt(last.x, 1)} | ${points.length} | ${fmt(first.y, 1)} | ${fmt(Math.min(...values), 1)} | ${fmt(Math.max(...values), 1)} | ${fmt(last.y, 1)} | ${fmt(slope(settled) * 10, 1)} |`;
    }),
    '',
  ];
}

type WitnessFigures = {
  lifetimeId: string;
  lifetimes: number;
  fromMinute: number;
  toMinute: number;
  startMiB: number | null;
  endMiB: number | null;
  maxMiB: number;
  slopeMiBPer10Min: number;
  slopeAfterWarmUpMiBPer10Min: number;
};

type FamilyRow = { family: string; baseline: { keys: number; bytes: number; withTtl: number }; end: { keys: number; bytes: number; withTtl: number } };

function renderMarkdown(r: Result): string {
  const grown = r.redis.families.filter((row) => row.end.keys !== row.baseline.keys || Math.abs(row.end.bytes - row.baseline.bytes) >= 1024);
  const kib = (bytes: number) => fmt(bytes / 1024, 1);
  const curveSamples = r.samples.filter((s) => s.phase !== 'baseline');
  const chart = asciiChart(
    [
      { label: 'witness worker w0 RSS', mark: '#', unit: 'MiB', values: curveSamples.map((s) => s.witnessWorkerMiB) },
      { label: 'witness monitor m0 RSS', mark: '#', unit: 'MiB', values: curveSamples.map((s) => s.witnessMonitorMiB) },
      { label: 'Redis used_memory', mark: '#', unit: 'MiB', values: curveSamples.map((s) => s.redisUsedMiB) },
      { label: 'Redis keys', mark: '#', unit: 'keys', values: curveSamples.map((s) => s.keys) },
    ],
    curveSamples.map((s) => s.minute),
  );
  const verdict = (slopeMiB: number) => (Math.abs(slopeMiB) <= 2 ? 'flat' : slopeMiB > 0 ? 'GROWING' : 'falling');
  const redisDelta = r.redis.endUsedMiB - r.redis.baselineUsedMiB;
  const growthOf = (pattern: RegExp) =>
    grown.filter((row) => pattern.test(row.family)).reduce((sum, row) => sum + row.end.bytes - row.baseline.bytes, 0) / MiB;
  const businessMiB = growthOf(/:(materials|products):/);
  const eventsMiB = growthOf(/:events$/);
  const familiesMiB = growthOf(/./);
  const datasetDelta = (r.redis.endBreakdownMiB['used_memory_dataset'] ?? 0) - (r.redis.baselineBreakdownMiB['used_memory_dataset'] ?? 0);
  const adjustedDelta = redisDelta - businessMiB - eventsMiB;
  const lines = [
    `# Soak: ${fmt(r.settings.minutes)} minutes of mixed jobs with crashes`,
    '',
    `Written by \`pnpm soak\` (bench/soak.ts) on ${r.machine['date']}, commit ${r.machine['commit']}.`,
    '',
    '## Machine',
    '',
    ...Object.entries(r.machine).map(([key, value]) => `- ${key}: ${value}`),
    '',
    '## Settings',
    '',
    `- ${r.settings['workers']} worker processes (\`bench/lib/soak-worker.ts\`: the worker bin's \`parseWorkerEnv\`, \`createJobsFromConfig\` — the real PDF, scrape and XML-import processors — and \`createWorkerRuntime\`, with the stores' retention shortened), concurrency ${r.settings['workerConcurrency']}; 2 monitor processes (the real bin, \`packages/monitor/src/bin/monitor.ts\`, tick every 15 s, fast failover on).`,
    `- Load: ${r.settings['ratePerSecond']} jobs/s through \`createJobClient\` (each with an idempotency key), skipped while ${r.settings['maxBacklog']} or more jobs wait or run: 45 % PDF (2-page PDF made with pdf-lib, tiles rendered), 5 % PDF of a missing file (must fail), 27 % XML import (${(r.settings['inputs'] as Record<string, number>)['feedProducts']} products, 1 in 50 invalid, batches of 100), 3 % XML import of a truncated feed (must fail), 20 % scrape (12 pages of a 60-page local site, robots.txt honoured, 250 ms politeness).`,
    `- Crashes: \`kill -9\` of a random worker other than w0 every ${(r.settings['killEverySeconds'] as number[]).join('–')} s, restarted at once under a new id; \`kill -9\` of monitor m1 every ${r.settings['monitorKillEverySeconds']} s, restarted. w0 and m0 are never killed: they are the RSS witnesses.`,
    `- Retention: ${r.settings.retentionSeconds} s for finished status rows, their history and idempotency keys, checkpoints and resume states; metric buckets 60 s (their floor). BullMQ's finished jobs: ${r.settings.janitor ? `trimmed by the soak every sample with \`Queue.clean(${r.settings.retentionSeconds} s)\`, because kai-jobs' BullMQ retention is fixed in code (see findings)` : "left to kai-jobs' fixed BullMQ retention (24 h / 10,000 completed, 7 d / 50,000 failed)"}.`,
    `- Private \`redis-server\` (--save "" --appendonly no), so \`INFO memory\` and DBSIZE are the soak's alone. Sample every ${r.settings['sampleSeconds']} s.`,
    '',
    '## Verdicts',
    '',
    '| what | start | end | max | slope per 10 min | after warm-up (≥ 5 min) | verdict |',
    '|---|---:|---:|---:|---:|---:|---|',
    `| witness worker ${r.witnessWorker.lifetimeId.replace('soak-', '')} RSS, MiB (min ${fmt(r.witnessWorker.fromMinute, 1)}–${fmt(r.witnessWorker.toMinute, 1)}) | ${fmt(r.witnessWorker.startMiB ?? 0, 1)} | ${fmt(r.witnessWorker.endMiB ?? 0, 1)} | ${fmt(r.witnessWorker.maxMiB, 1)} | ${fmt(r.witnessWorker.slopeMiBPer10Min, 2)} | ${fmt(r.witnessWorker.slopeAfterWarmUpMiBPer10Min, 2)} | ${verdict(r.witnessWorker.slopeAfterWarmUpMiBPer10Min)} |`,
    `| witness monitor ${r.witnessMonitor.lifetimeId.replace('soak-', '')} RSS, MiB (min ${fmt(r.witnessMonitor.fromMinute, 1)}–${fmt(r.witnessMonitor.toMinute, 1)}) | ${fmt(r.witnessMonitor.startMiB ?? 0, 1)} | ${fmt(r.witnessMonitor.endMiB ?? 0, 1)} | ${fmt(r.witnessMonitor.maxMiB, 1)} | ${fmt(r.witnessMonitor.slopeMiBPer10Min, 2)} | ${fmt(r.witnessMonitor.slopeAfterWarmUpMiBPer10Min, 2)} | ${verdict(r.witnessMonitor.slopeAfterWarmUpMiBPer10Min)} |`,
    '',
    '("flat": within ±2 MiB per 10 minutes after warm-up. A witness that died on its own was restarted; its figures are those of its longest lifetime.)',
    '',
    ...witnessLifetimes(r.samples),
    ...(r.invariants.unexpectedExits.length === 0
      ? ['No process died on its own: every exit was a kill of the soak or the final SIGTERM.', '']
      : [
          `**${r.invariants.unexpectedExits.length} process(es) died on their own** (not killed by the soak; restarted at once):`,
          '',
          '| process | minute | exit code or signal | its last log lines |',
          '|---|---:|---|---|',
          ...r.invariants.unexpectedExits.map((e) => `| ${e.id} | ${fmt(e.minute, 1)} | ${e.exit} | ${e.lastLog.replace(/\|/g, '/')} |`),
          '',
        ]),
    '| Redis | baseline | peak | end | end − baseline |',
    '|---|---:|---:|---:|---:|',
    `| used_memory, MiB | ${fmt(r.redis.baselineUsedMiB, 2)} | ${fmt(r.redis.peakUsedMiB, 2)} | ${fmt(r.redis.endUsedMiB, 2)} | ${redisDelta >= 0 ? '+' : ''}${fmt(redisDelta, 2)} |`,
    ...Object.keys(r.redis.endBreakdownMiB)
      .filter((field) => field !== 'used_memory')
      .map((field) => {
        const before = r.redis.baselineBreakdownMiB[field] ?? 0;
        const after = r.redis.endBreakdownMiB[field] ?? 0;
        return `| · ${field}, MiB | ${fmt(before, 2)} | | ${fmt(after, 2)} | ${after - before >= 0 ? '+' : ''}${fmt(after - before, 2)} |`;
      }),
    `| keys (DBSIZE) | ${fmt(r.redis.baselineKeys)} | ${fmt(r.redis.peakKeys)} | ${fmt(r.redis.endKeys)} | ${r.redis.endKeys - r.redis.baselineKeys >= 0 ? '+' : ''}${fmt(r.redis.endKeys - r.redis.baselineKeys)} |`,
    '',
    `Of the data set's growth (${fmt(datasetDelta, 2)} MiB), the key families below account for ${fmt(familiesMiB, 2)} MiB: business data kept by design (products, materials) ${fmt(businessMiB, 2)} MiB, BullMQ's capped event streams ${fmt(eventsMiB, 2)} MiB. ` +
      `Without those two, used_memory ended ${adjustedDelta >= 0 ? '+' : ''}${fmt(adjustedDelta, 2)} MiB from its baseline (the rest: Lua script caches and client buffers, which grow with the scripts loaded and the connections open, and the stale index entries and monitor ticks listed below).`,
    '',
    `Jobs: ${fmt(r.jobs.enqueued)} enqueued, ${fmt(r.jobs.completed)} completed, ${fmt(r.jobs.failed)} failed (${fmt(r.jobs.jobsPerMinute, 1)} finished per minute of load); ${fmt(r.jobs.skippedForBacklog)} enqueues skipped at the backlog cap; ${r.jobs.enqueueErrors} enqueue errors. Kills: ${r.kills.workers} workers, ${r.kills.monitors} monitors. BullMQ finished jobs removed by the janitor: ${fmt(r.redis.janitorRemovedBullJobs)}. Artifacts left on disk: ${fmt(r.artifactsMiB, 1)} MiB.`,
    '',
    '| kind | enqueued | completed | failed | resumed or retried |',
    '|---|---:|---:|---:|---:|',
    ...Object.entries(r.jobs.byKind).map(([kind, k]) => `| ${kind} | ${k.enqueued} | ${k.completed} | ${k.failed} | ${k.restarted} |`),
    '',
    'Failure reasons:',
    '',
    ...Object.entries(r.jobs.failureReasons).map(([reason, count]) => `- ${count} × ${reason}`),
    '',
    '## Invariants',
    '',
    `- every enqueued job completed or failed: ${r.invariants.everyJobFinished ? 'yes' : `NO — ${r.invariants.lost.length} never finished: ${JSON.stringify(r.invariants.lost.slice(0, 10))}`}`,
    `- every failed job has a reason: ${r.invariants.failedWithoutReason === 0 ? 'yes' : `NO — ${r.invariants.failedWithoutReason} without`}`,
    `- only the jobs meant to fail failed: ${r.invariants.unexpectedFailures.length === 0 && r.invariants.unexpectedCompletions === 0 ? 'yes' : `NO — ${JSON.stringify(r.invariants.unexpectedFailures.slice(0, 10))}, ${r.invariants.unexpectedCompletions} unexpected completions`}`,
    `- none completed twice (BullMQ \`completed\` events per job id): ${r.invariants.duplicateCompletions === 0 ? 'yes' : `NO — ${r.invariants.duplicateCompletions} duplicates`}`,
    `- graceful exit (SIGTERM) of the processes alive at the end: ${r.invariants.gracefulExits ? 'yes' : `NO — ${JSON.stringify(r.invariants.exits)}`}`,
    '',
    '## The curve',
    '',
    'Each strip is scaled from 0 to its own maximum. Load runs from minute 0 to the end of the load; after it, the drain (jobs finish, retention expires them).',
    '',
    '```',
    chart,
    '```',
    '',
    '| min | phase | w0 RSS MiB | m0 RSS MiB | killed-slot RSS MiB | Redis used MiB | keys | enqueued | completed | failed | backlog | jobs/min | kills |',
    '|---:|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...r.samples.map((s) => {
      const others = Object.entries(s.rss)
        .filter(([id]) => !id.startsWith('soak-w0-') && !id.startsWith('soak-m0-'))
        .map(([id, mib]) => `${id.replace('soak-', '')} ${fmt(mib, 0)}`)
        .join(', ');
      return `| ${fmt(s.minute, 1)} | ${s.phase} | ${fmt(s.witnessWorkerMiB ?? 0, 1)} | ${fmt(s.witnessMonitorMiB ?? 0, 1)} | ${others} | ${fmt(s.redisUsedMiB, 2)} | ${fmt(s.keys)} | ${fmt(s.enqueued)} | ${fmt(s.completed)} | ${fmt(s.failed)} | ${s.backlog} | ${fmt(s.throughputPerMin)} | ${s.kills}+${s.monitorKills} |`;
    }),
    '',
    '## Process lifetimes',
    '',
    'Killed workers restart fresh, so their RSS is a curve per lifetime: first and last sample of each.',
    '',
    '| process | started min | ended min | end | first RSS MiB | last RSS MiB | max MiB |',
    '|---|---:|---:|---|---:|---:|---:|',
    ...r.lifetimes.map(
      (l) =>
        `| ${l.id} | ${fmt(l.startedMinute, 1)} | ${l.endedMinute === null ? '—' : fmt(l.endedMinute, 1)} | ${l.killed ? 'kill -9' : l.diedUnexpectedly !== null ? `**died (${l.diedUnexpectedly})**` : 'SIGTERM at the end'} | ${l.firstMiB === null ? '—' : fmt(l.firstMiB, 1)} | ${l.lastMiB === null ? '—' : fmt(l.lastMiB, 1)} | ${l.maxMiB === 0 ? '—' : fmt(l.maxMiB, 1)} |`,
    ),
    '',
    '## Redis keys left at the end, by family',
    '',
    grown.length === 0 ? 'No family differs from the baseline.' : 'Families that differ from the baseline (memory by `MEMORY USAGE`), and why they stay:',
    '',
    ...(grown.length === 0
      ? []
      : [
          '| family | baseline keys | end keys | baseline KiB | end KiB | with a TTL | why |',
          '|---|---:|---:|---:|---:|---:|---|',
          ...grown.map(
            (row) =>
              `| \`${row.family}\` | ${row.baseline.keys} | ${row.end.keys} | ${kib(row.baseline.bytes)} | ${kib(row.end.bytes)} | ${row.end.withTtl} | ${familyNote(row.family)} |`,
          ),
        ]),
    '',
  ];
  return `${lines.join('\n')}\n`;
}

// `--render=<file>.json` re-renders the Markdown of an earlier run.
const RENDER = process.argv.find((a) => a.startsWith('--render='))?.slice(9);
if (RENDER === undefined) await main();
else writeFileSync(RENDER.replace(/\.json$/, '.md'), renderMarkdown(JSON.parse(readFileSync(RENDER, 'utf8')) as Result));
