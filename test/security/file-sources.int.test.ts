/**
 * `file` sources, probed as an attacker would, against a real worker process configured from
 * its environment: symlinks planted inside FILE_ROOT that lead out of it (to a PDF, an XML
 * feed, /etc/passwd), a symlink swapped by another process while jobs open it, and a worker
 * without FILE_ROOT (file sources must be off, with an error naming FILE_ROOT).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { type JobType } from '@kai-jobs/queue';
import { useRedisTestContext, waitFor } from '@kai-jobs/queue/testing';
import { RedisProductStore } from '@kai-jobs/workers';
import { makeCataloguePdf, makeLongPdf } from '../../packages/workers/test/jobs/pdf/fixtures/pdfs.js';
import { feedText, PRODUCT_MAPPING, tempDir } from '../../packages/workers/test/jobs/xml-import/fixtures/feeds.js';
import { startWorkerProcess, stopWorkerProcess, type WorkerProcess } from '../../packages/workers/test/fixtures/worker-process.js';
import { client, stores } from '../e2e/helpers.js';

const ctx = useRedisTestContext(import.meta.url);
const WORKER_BIN = fileURLToPath(new URL('../../packages/workers/src/bin/worker.ts', import.meta.url));
const COMPOSE_FILE = fileURLToPath(new URL('../../docker-compose.yml', import.meta.url));

const insidePdf = await makeLongPdf(1); // 1 page
const outsidePdf = await makeCataloguePdf(); // 3 pages: a completed job with 3 pages read the outside file
const PASSWD_HEAD = readFileSync('/etc/passwd').subarray(0, 16).toString('latin1');

let worker: WorkerProcess | undefined;
let swapper: ChildProcess | undefined;

afterEach(async () => {
  swapper?.kill('SIGKILL');
  swapper = undefined;
  if (worker !== undefined) await stopWorkerProcess(worker);
  worker = undefined;
});

/** FILE_ROOT with a good PDF inside, and a PDF and a feed outside it. */
function layout() {
  const base = tempDir('kai-sec-files-');
  const root = join(base, 'uploads');
  const outside = join(base, 'private');
  mkdirSync(root);
  mkdirSync(outside);
  writeFileSync(join(root, 'inside.pdf'), insidePdf);
  writeFileSync(join(outside, 'secret.pdf'), outsidePdf);
  writeFileSync(join(outside, 'secret.xml'), feedText(20));
  return { base, root, outside };
}

async function startWorker(env: Record<string, string>): Promise<void> {
  worker = await startWorkerProcess({
    prefix: ctx.prefix,
    workerId: `sec-files-${process.pid}`,
    script: WORKER_BIN,
    readyMessage: 'worker ready',
    env: { WORKER_TYPES: 'pdf,xml-import', ARTIFACTS_DIR: tempDir('kai-sec-files-artifacts-'), WORKER_CONCURRENCY: 'pdf=4', ...env },
  });
}

/** Waits for a job to fail; returns what a producer reads (failedReason, row error) and everything else (history). */
async function failureOf(id: string): Promise<{ reason: string; everything: string }> {
  const jobs = client(ctx);
  await expect(jobs.waitForResult(id, { timeoutMs: 60_000 })).rejects.toThrow();
  await waitFor(async () => (await jobs.getStatus(id))?.bullmq.state === 'failed', { timeoutMs: 10_000 });
  const view = await jobs.getStatus(id);
  expect(view?.bullmq.attemptsMade).toBe(1);
  const history = await stores(ctx).status.history(id);
  return { reason: `${view?.bullmq.failedReason ?? ''} | ${view?.row.error ?? ''}`, everything: JSON.stringify({ view, history }) };
}

async function enqueueFile(type: JobType, path: string, n: number | string): Promise<string> {
  const jobs = client(ctx);
  if (type === 'pdf') return (await jobs.enqueue('pdf', { documentId: `doc-${n}`, source: { kind: 'file', path }, options: { skipTiles: true, skipMaterials: true } })).id;
  return (await jobs.enqueue('xml-import', { importJobId: `imp-${n}`, sourceName: `probe-${n}`, source: { kind: 'file', path }, fieldMapping: PRODUCT_MAPPING })).id;
}

describe('file sources with FILE_ROOT, in a real worker process', () => {
  it('refuses symlinks in FILE_ROOT that lead out of it (PDF, XML feed, /etc/passwd), and reads a file inside', async () => {
    const { root, outside } = layout();
    symlinkSync(join(outside, 'secret.pdf'), join(root, 'leak.pdf'));
    symlinkSync(outside, join(root, 'shared'));
    symlinkSync(join(outside, 'secret.xml'), join(root, 'feed.xml'));
    symlinkSync('/etc/passwd', join(root, 'passwd.pdf'));
    await startWorker({ FILE_ROOT: root });
    const products = new RedisProductStore({ connection: ctx.redis, prefix: ctx.prefix });

    const good = await enqueueFile('pdf', 'inside.pdf', 'good');
    expect(await client(ctx).waitForResult<'pdf'>(good, { timeoutMs: 60_000 })).toMatchObject({ pages: 1 });

    const probes: [JobType, string][] = [
      ['pdf', 'leak.pdf'],
      ['pdf', join(root, 'leak.pdf')],
      ['pdf', 'shared/secret.pdf'],
      ['pdf', '../private/secret.pdf'],
      ['pdf', join(outside, 'secret.pdf')],
      ['pdf', 'passwd.pdf'],
      ['pdf', '/etc/passwd'],
      ['xml-import', 'feed.xml'],
      ['xml-import', 'shared/secret.xml'],
    ];
    for (const [index, [type, path]] of probes.entries()) {
      const { reason, everything } = await failureOf(await enqueueFile(type, path, index));
      expect(reason, `${type} ${path}`).toMatch(/outside FILE_ROOT/);
      expect(everything).not.toContain(PASSWD_HEAD);
      expect(everything).not.toContain('root:');
      expect(everything).not.toContain('Stone and Wood'); // the outside PDF's title
      // Through a symlink, not even where it leads is told.
      if (!path.includes('private')) expect(everything).not.toContain('private/secret');
    }
    // Nothing of the outside feed was imported.
    for (const index of [7, 8]) expect(await products.count(`probe-${index}`)).toBe(0);
  }, 180_000);

  it('a symlink swapped by another process while jobs open it never gives a job the outside file', async () => {
    const { root, outside } = layout();
    symlinkSync(join(root, 'inside.pdf'), join(root, 'swap.pdf'));
    // Flips uploads/swap.pdf between the inside PDF and the outside one as fast as it can;
    // rename(2) is atomic, so the link always exists and points to one or the other.
    swapper = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('node:fs');
         const [root, outside] = process.argv.slice(1);
         process.stdout.write('go\\n');
         for (;;) {
           fs.symlinkSync(outside + '/secret.pdf', root + '/.bad'); fs.renameSync(root + '/.bad', root + '/swap.pdf');
           fs.symlinkSync(root + '/inside.pdf', root + '/.good'); fs.renameSync(root + '/.good', root + '/swap.pdf');
         }`,
        root,
        outside,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => swapper?.stdout?.once('data', () => resolve()));
    await startWorker({ FILE_ROOT: root });
    const jobs = client(ctx);
    const ids = await Promise.all(Array.from({ length: 16 }, (_, index) => enqueueFile('pdf', 'swap.pdf', `swap-${index}`)));
    const outcomes = await Promise.all(
      ids.map((id) =>
        jobs.waitForResult<'pdf'>(id, { timeoutMs: 120_000 }).then(
          (result) => `completed with ${result.pages} page(s)`,
          (error: Error) => (/outside FILE_ROOT/.test(error.message) ? 'refused: outside FILE_ROOT' : `failed otherwise: ${error.message}`),
        ),
      ),
    );
    // Only ever the inside file (1 page) or a refusal, never the outside file (3 pages)...
    expect([...new Set(outcomes)].sort()).toEqual(['completed with 1 page(s)', 'refused: outside FILE_ROOT']);
    // ...and both happened: the swapper really raced the worker's opens.
  }, 180_000);
});

describe('file sources without FILE_ROOT', () => {
  it('are off: a PDF and a feed that exist are refused with an error naming FILE_ROOT', async () => {
    const { root } = layout();
    writeFileSync(join(root, 'feed.xml'), feedText(5));
    await startWorker({});
    for (const [index, [type, path]] of ([['pdf', join(root, 'inside.pdf')], ['xml-import', join(root, 'feed.xml')], ['pdf', '/etc/passwd']] as [JobType, string][]).entries()) {
      const { reason, everything } = await failureOf(await enqueueFile(type, path, `off-${index}`));
      expect(reason).toMatch(/file sources are off on this worker; set FILE_ROOT/);
      expect(everything).not.toContain(PASSWD_HEAD);
    }
  }, 120_000);

  it('docker-compose.yml gives the workers a FILE_ROOT on the uploads volume', () => {
    const compose = readFileSync(COMPOSE_FILE, 'utf8');
    expect(compose).toMatch(/^\s+FILE_ROOT: \/data\/uploads$/m);
    expect(compose).toMatch(/^\s+- uploads:\/data\/uploads(:ro)?$/m);
    expect(compose).toMatch(/^volumes:[\s\S]*^\s+uploads:$/m);
  });
});
