/**
 * The compose stack for real (`pnpm test:containers`): the project's image (built on the local
 * base by scripts/test-containers.sh) run through the users' docker-compose.yml plus the
 * test-only override (host networking, spare ports): 3 workers, the monitors and the board.
 * The tests talk to the stack's Redis and board on loopback, and to the engine with docker and
 * docker-compose.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Redis } from 'ioredis';
import { createJobClient, RedisJobStore, type JobClient } from '@kai-jobs/queue';
import { waitFor } from '@kai-jobs/queue/testing';
import { makeCataloguePdf, makeLongPdf } from '@kai-jobs/workers/fixtures/pdfs';
import { html, jsonLd, page, startTestSite, type TestSite } from '@kai-jobs/workers/fixtures/test-site';
import { feedText, PRODUCT_MAPPING } from '@kai-jobs/workers/fixtures/feeds';
import { ROOT, startStack, type ComposeStack } from './compose-stack.js';

let stack: ComposeStack;
let redis: Redis;
let client: JobClient;
let store: RedisJobStore;
let checkpoints: RedisJobStore;
let site: TestSite;

beforeAll(async () => {
  site = await startTestSite({
    '/': html(page('Stone & Wood', '<p>Tiles and planks.</p>', ['/a', '/b'])),
    '/a': html(page('Porcelain tile', '<p>60x60</p>', [], jsonLd({ '@type': 'Product', name: 'Porcelain tile', sku: 'P-1' }))),
    '/b': html(page('Oak plank', '<p>Oiled oak.</p>')),
  });
  // SCRAPE_ALLOW is the users' variable: the test site is on loopback.
  stack = await startStack({ workers: 3, env: { SCRAPE_ALLOW: '127.0.0.1', SHUTDOWN_GRACE_MS: '30000' } });
  redis = new Redis(stack.redisUrl, { maxRetriesPerRequest: null, connectionName: 'kai-container-test' });
  redis.on('error', () => undefined);
  await waitFor(async () => (await redis.ping().catch(() => null)) === 'PONG', { timeoutMs: 60_000, message: 'the stack\'s Redis never answered' });
  store = new RedisJobStore({ connection: redis, prefix: stack.prefix });
  checkpoints = store;
  client = createJobClient({ connection: redis, redis: { url: stack.redisUrl, prefix: stack.prefix }, statusStore: store });
  // Every worker container registered (its `worker runtime started` line names its id).
  await waitFor(async () => {
    const workers = await stack.containers('worker');
    const ids = await Promise.all(workers.map((worker) => stack.workerIdOf(worker.id)));
    return workers.length === 3 && ids.every((id) => id !== null);
  }, { timeoutMs: 120_000, intervalMs: 500, message: 'the 3 worker containers did not start' });
}, 420_000);

afterAll(async () => {
  await client?.close();
  redis?.disconnect();
  await site?.close();
  if (stack !== undefined) {
    if (process.env['KAI_TEST_KEEP_STACK'] === '1') process.stderr.write(`stack kept: docker-compose -p ${stack.project}\n`);
    else await stack.down();
  }
}, 240_000);

/** The worker container whose logged worker id is `workerId`. */
async function containerOf(workerId: string): Promise<string> {
  for (const worker of await stack.containers('worker')) {
    if ((await stack.workerIdOf(worker.id)) === workerId) return worker.id;
  }
  throw new Error(`no worker container logged worker id ${workerId}`);
}

async function events(id: string): Promise<{ event: string; at: number; [key: string]: unknown }[]> {
  return (await store.history(id, 1000)) as { event: string; at: number; [key: string]: unknown }[];
}

describe('the compose stack', () => {
  it('the override changes only networking and ports', () => {
    const base = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, { command?: string[] }> };
    const override = parse(readFileSync(join(ROOT, 'test/containers/docker-compose.test.yml'), 'utf8')) as {
      services: Record<string, { network_mode?: string; command?: string[]; healthcheck?: { test: string[] }; environment?: Record<string, string>; [key: string]: unknown }>;
    };
    const allowedKeys = new Set(['network_mode', 'command', 'healthcheck', 'environment']);
    for (const [name, service] of Object.entries(override.services)) {
      expect(service.network_mode, name).toBe('host');
      for (const key of Object.keys(service)) expect(allowedKeys.has(key), `${name}.${key}`).toBe(true);
      for (const variable of Object.keys(service.environment ?? {})) expect(['REDIS_URL', 'BOARD_HOST', 'BOARD_PORT']).toContain(variable);
    }
    // Redis: the users' command with a spare port (and loopback), the healthcheck on that port.
    const redisCommand = override.services['redis']?.command ?? [];
    expect(redisCommand.slice(0, -4)).toEqual(base.services['redis']?.command);
    expect(redisCommand.slice(-4, -2)).toEqual(['--port', '${KAI_TEST_REDIS_PORT:?set by test/containers}']);
    expect(override.services['redis']?.healthcheck?.test).toEqual(['CMD', 'redis-cli', '-p', '${KAI_TEST_REDIS_PORT:?set by test/containers}', 'ping']);
  });

  it('3 workers, 2 monitors and the board run as the non-root user on read-only root filesystems; the board answers', async () => {
    const services = ['worker', 'monitor', 'board'];
    const counts = await Promise.all(services.map(async (service) => (await stack.containers(service)).filter((container) => container.running).length));
    expect(counts).toEqual([3, 2, 1]);
    for (const service of services) {
      for (const container of await stack.containers(service)) {
        expect(container.readOnly, container.name).toBe(true);
        // The image's USER, and the process really runs as it (uid 1000), not as root.
        expect(container.user).toBe('node');
        expect((await stack.docker(['exec', container.id, 'id', '-u'])).trim()).toBe('1000');
        const write = await stack.docker(['exec', container.id, 'sh', '-c', 'touch /app/x 2>&1; echo "exit $?"']);
        expect(write).toMatch(/Read-only file system[\s\S]*exit 1/);
      }
    }
    await waitFor(async () => (await fetch(new URL('healthz', stack.boardUrl)).catch(() => null))?.status === 200, { timeoutMs: 60_000, message: 'the board never answered' });
    expect((await fetch(stack.boardUrl)).status).toBe(401);
    const authorization = `Basic ${Buffer.from(`${stack.credentials.username}:${stack.credentials.password}`).toString('base64')}`;
    expect((await fetch(stack.boardUrl, { headers: { authorization } })).status).toBe(200);
  }, 120_000);

  it('jobs of all three types complete', async () => {
    const pdf = await client.enqueue('pdf', { documentId: 'doc-c', source: { kind: 'inline', base64: (await makeCataloguePdf()).toString('base64') } });
    const scrape = await client.enqueue('scrape', { sessionId: 'sess-c', sourceUrl: `${site.origin}/` });
    const xml = await client.enqueue('xml-import', {
      importJobId: 'imp-c',
      sourceName: 'acme',
      source: { kind: 'inline', base64: Buffer.from(feedText(200, 25)).toString('base64') },
      fieldMapping: PRODUCT_MAPPING,
    });
    for (const { id } of [pdf, scrape, xml]) {
      await waitFor(async () => (await store.get(id))?.status === 'completed', { timeoutMs: 120_000, intervalMs: 250, message: `job ${id} did not complete: ${JSON.stringify(await store.get(id))}` });
    }
  }, 180_000);

  it('docker kill -s KILL of the container running a PDF\'s tiles stage: the stage restarts in another container within 2 s, no finished stage runs again', async () => {
    const { id } = await client.enqueue('pdf', { documentId: 'doc-kill', source: { kind: 'inline', base64: (await makeLongPdf(60)).toString('base64') }, options: { renderScale: 2 } });
    const job = { id, type: 'pdf' as const };
    let holder = '';
    await waitFor(async () => {
      const row = await store.get(id);
      if (row?.status !== 'processing' || row.currentStage !== 'tiles_generated' || row.workerId === null) return false;
      holder = row.workerId;
      return true;
    }, { timeoutMs: 120_000, intervalMs: 100, message: 'the PDF never got into its tiles stage' });
    const container = await containerOf(holder);
    // The stages finished before the kill, with when their checkpoints were written.
    const before = await checkpoints.listCheckpoints(job);
    expect(before.map((checkpoint) => checkpoint.stage)).toEqual(['pdf_loaded', 'text_extracted']);
    const killedAt = Date.now();
    await stack.docker(['kill', '-s', 'KILL', container]);
    let restartedAt = 0;
    let newHolder = '';
    await waitFor(async () => {
      const row = await store.get(id);
      if (row?.status === 'processing' && row.workerId !== null && row.workerId !== holder && row.currentStage === 'tiles_generated') {
        restartedAt = Date.now();
        newHolder = row.workerId;
        return true;
      }
      return false;
    }, { timeoutMs: 30_000, intervalMs: 50, message: 'the tiles stage did not restart in another container' });
    expect(restartedAt - killedAt).toBeLessThan(2_000);
    expect(await containerOf(newHolder)).not.toBe(container);
    await waitFor(async () => (await store.get(id))?.status === 'completed', { timeoutMs: 300_000, intervalMs: 250, message: 'the PDF did not complete after the kill' });
    // The new attempt resumed at the tiles stage, on the checkpoints written before the kill.
    const history = await events(id);
    expect(history.map((entry) => entry.event)).toContain('failover');
    expect(history.find((entry) => entry.event === 'resumed')?.['from']).toBe('tiles_generated');
    // No finished stage ran again: their checkpoints are the ones written before the kill.
    const after = await checkpoints.listCheckpoints(job);
    for (const earlier of before) {
      const same = after.find((checkpoint) => checkpoint.stage === earlier.stage);
      expect(same?.createdAt, earlier.stage).toBe(earlier.createdAt);
      expect(same?.attempt, earlier.stage).toBe(earlier.attempt);
    }
  }, 420_000);
  it('scaling from 3 to 5 workers and back under load loses and doubles nothing', async () => {
    const pdf = (await makeCataloguePdf()).toString('base64');
    const feed = Buffer.from(feedText(300, 0)).toString('base64');
    const ids: string[] = [];
    for (let index = 0; index < 12; index++) {
      ids.push((await client.enqueue('pdf', { documentId: `doc-scale-${index}`, source: { kind: 'inline', base64: pdf } })).id);
      ids.push((await client.enqueue('xml-import', { importJobId: `imp-scale-${index}`, sourceName: `scale-${index}`, source: { kind: 'inline', base64: feed }, fieldMapping: PRODUCT_MAPPING, batchSize: 50 })).id);
    }
    await stack.compose(['up', '-d', '--no-build', '--no-recreate', '--scale', 'worker=5', '--scale', 'monitor=2'], 300_000);
    await waitFor(async () => (await stack.containers('worker')).filter((worker) => worker.running).length === 5, { timeoutMs: 60_000, message: 'did not scale to 5 workers' });
    // Some work done on 5 workers, then back to 3 while jobs are still running: compose stops 2 (SIGTERM).
    await waitFor(async () => (await Promise.all(ids.map((id) => store.get(id)))).filter((row) => row?.status === 'completed').length >= 4, { timeoutMs: 120_000, intervalMs: 250, message: 'no progress on 5 workers' });
    await stack.compose(['up', '-d', '--no-build', '--no-recreate', '--scale', 'worker=3', '--scale', 'monitor=2'], 300_000);
    expect((await stack.containers('worker')).filter((worker) => worker.running)).toHaveLength(3);
    await waitFor(async () => (await Promise.all(ids.map((id) => store.get(id)))).every((row) => row?.status === 'completed'), { timeoutMs: 300_000, intervalMs: 500, message: 'not every job completed after scaling down' });
    for (const id of ids) {
      const history = (await events(id)).map((entry) => entry.event);
      // Completed once; nothing lost (the hand-backs of the stopped workers were taken up).
      expect(history.filter((event) => event === 'completed'), id).toHaveLength(1);
    }
    // Each feed's 300 products were counted once each (a batch imported twice would count twice).
    for (const id of ids) {
      const row = await store.get(id);
      if (row?.type !== 'xml-import') continue;
      expect(row.counters, id).toMatchObject({ total_products: 300, processed_products: 300, failed_products: 0 });
    }
  }, 600_000);

  it('docker stop of a worker mid-stage: the stage reaches its checkpoint within the grace period, the job is handed back at once, the container exits 0', async () => {
    const { id } = await client.enqueue('pdf', { documentId: 'doc-stop', source: { kind: 'inline', base64: (await makeLongPdf(16)).toString('base64') } });
    const job = { id, type: 'pdf' as const };
    let holder = '';
    await waitFor(async () => {
      const row = await store.get(id);
      if (row?.status !== 'processing' || row.currentStage !== 'tiles_generated' || row.workerId === null) return false;
      holder = row.workerId;
      return true;
    }, { timeoutMs: 120_000, intervalMs: 100, message: 'the PDF never got into its tiles stage' });
    const container = await containerOf(holder);
    const stoppedAt = Date.now();
    // docker stop: SIGTERM, then SIGKILL after the compose file's stop_grace_period (45 s).
    await stack.docker(['stop', container], 120_000);
    const stopTookMs = Date.now() - stoppedAt;
    const [stopped] = (await stack.containers('worker')).filter((worker) => worker.id === container);
    expect(stopped?.running).toBe(false);
    expect(stopped?.exitCode).toBe(0);
    expect(stopTookMs).toBeLessThan(45_000);
    // The running stage reached its checkpoint before the process exited…
    const saved = (await checkpoints.listCheckpoints(job)).find((checkpoint) => checkpoint.stage === 'tiles_generated');
    expect(saved?.createdAt).toBeLessThanOrEqual(Date.now());
    expect(saved?.createdAt).toBeGreaterThanOrEqual(stoppedAt - 1_000);
    // …and the job was handed back at once (no failover), and completed elsewhere without running tiles again.
    const history = await events(id);
    expect(history.map((entry) => entry.event)).toContain('shutdown:handed-back');
    expect(history.map((entry) => entry.event)).not.toContain('failover');
    await waitFor(async () => (await store.get(id))?.status === 'completed', { timeoutMs: 300_000, intervalMs: 250, message: 'the PDF did not complete after the stop' });
    const after = (await checkpoints.listCheckpoints(job)).find((checkpoint) => checkpoint.stage === 'tiles_generated');
    expect(after?.createdAt).toBe(saved?.createdAt);
  }, 420_000);

  it('a worker container whose process crashes is restarted by its restart policy', async () => {
    const [worker] = (await stack.containers('worker')).filter((candidate) => candidate.running);
    if (worker === undefined) throw new Error('no running worker container');
    const before = worker.restartCount;
    // The container's init (init: true) is its State.Pid; kai-jobs is its child. SIGKILL from the host: a crash, not a stop.
    const initPid = Number((await stack.docker(['inspect', '-f', '{{.State.Pid}}', worker.id])).trim());
    const children = readFileSync(`/proc/${initPid}/task/${initPid}/children`, 'utf8').trim().split(/\s+/).map(Number);
    expect(children.length).toBeGreaterThan(0);
    for (const pid of children) process.kill(pid, 'SIGKILL');
    await waitFor(async () => {
      const [now] = (await stack.containers('worker')).filter((candidate) => candidate.id === worker.id);
      return now !== undefined && now.running && now.restartCount > before;
    }, { timeoutMs: 60_000, intervalMs: 250, message: 'the crashed worker container was not restarted' });
  }, 120_000);
});
