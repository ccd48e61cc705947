/**
 * Outbound requests, probed as an attacker would: payloads naming internal addresses, spelled
 * every way a URL parser accepts, or reached through a redirect from an allowed host, run as
 * real jobs in a real worker process (`packages/workers/src/bin/worker.ts`, configured from its
 * environment like a deployment). The worker allows 127.0.0.1 (SCRAPE_ALLOW, as a developer
 * would for local sites); every other loopback address stands for a private service.
 *
 * Live probes target loopback only. IPv6 transition addresses (6to4, NAT64, Teredo) wrap IPv4
 * addresses that are not on this machine: they are checked on the guard directly and never
 * connected to.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bullPrefix, jobCatalog, type JobType } from '@kai-jobs/queue';
import { useRedisTestContext, waitFor } from '@kai-jobs/queue/testing';
import { blockedRangeOf, UrlGuard } from '@kai-jobs/workers';
import { makeCataloguePdf } from '../../packages/workers/test/jobs/pdf/fixtures/pdfs.js';
import { startTestServer, type TestServer } from '../../packages/workers/test/jobs/pdf/fixtures/http-server.js';
import { tempDir } from '../../packages/workers/test/jobs/xml-import/fixtures/feeds.js';
import { startWorkerProcess, stopWorkerProcess, type WorkerProcess } from '../../packages/workers/test/fixtures/worker-process.js';
import { client, stores } from '../e2e/helpers.js';

const ctx = useRedisTestContext(import.meta.url);
const WORKER_BIN = fileURLToPath(new URL('../../packages/workers/src/bin/worker.ts', import.meta.url));

/** Text only the "private" services hold: it must never reach a job's artifacts, result or error. */
const PRIVATE_MARKER = 'PRIVATE-DOC-7f3a';
const METADATA_SECRET = 'AKIAMETADATASECRET0123456789';

const privatePdf = await makeCataloguePdf();
const servers: TestServer[] = [];
let worker: WorkerProcess | undefined;
let artifactsDir = '';

async function serve(host: string, handler: Parameters<typeof startTestServer>[0]): Promise<TestServer> {
  const server = await startTestServer(handler, host);
  servers.push(server);
  return server;
}

/** A "private" service: answers every request with the private document. */
function privateService(host: string): Promise<TestServer> {
  return serve(host, (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/pdf', 'x-marker': PRIVATE_MARKER });
    response.end(privatePdf);
  });
}

/** Every file the worker wrote under ARTIFACTS_DIR, with its bytes. */
function artifactFiles(dir = artifactsDir): { path: string; bytes: Buffer }[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? artifactFiles(path) : [{ path, bytes: readFileSync(path) }];
  });
}

/**
 * Waits for the job to fail and returns everything about it a producer or an operator can read:
 * the status view (row and BullMQ's failedReason, as the API shows them), its history and its
 * BullMQ log lines, as one string.
 */
async function failureOf(type: JobType, id: string): Promise<{ reason: string; everything: string }> {
  const jobs = client(ctx);
  await expect(jobs.waitForResult(id, { timeoutMs: 60_000 })).rejects.toThrow();
  // The row may say failed a moment before BullMQ has moved the job: wait for both.
  await waitFor(async () => (await jobs.getStatus(id))?.bullmq.state === 'failed', { timeoutMs: 10_000 });
  const view = await jobs.getStatus(id);
  const history = await stores(ctx).status.history(id);
  const { queueName } = jobCatalog[type];
  const queue = ctx.manage('queue', new Queue(queueName, { connection: ctx.redis, prefix: bullPrefix(ctx.prefix, queueName) }));
  const logs = await queue.getJobLogs(id);
  expect(view?.row.status).toBe('failed');
  // Refused once and for all: no retry can make an internal address acceptable.
  expect(view?.bullmq.attemptsMade).toBe(1);
  return { reason: `${view?.bullmq.failedReason ?? ''} | ${view?.row.error ?? ''}`, everything: JSON.stringify({ view, history, logs }) };
}

describe('payload URLs go through the SSRF guard, in a real worker process', () => {
  beforeEach(async () => {
    artifactsDir = tempDir('kai-sec-outbound-artifacts-');
    worker = await startWorkerProcess({
      prefix: ctx.prefix,
      workerId: `sec-outbound-${process.pid}`,
      script: WORKER_BIN,
      readyMessage: 'worker ready',
      env: { WORKER_TYPES: 'pdf,xml-import,scrape', SCRAPE_ALLOW: '127.0.0.1', ARTIFACTS_DIR: artifactsDir, LOG_LEVEL: 'info' },
    });
  }, 60_000);

  afterEach(async () => {
    if (worker !== undefined) await stopWorkerProcess(worker);
    worker = undefined;
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  it('refuses PDF and feed URLs naming a private address in any spelling; the private service is never contacted', async () => {
    const private2 = await privateService('127.0.0.2');
    const privateV6 = await privateService('::1');
    const port = new URL(private2.url).port;
    const v6Port = new URL(privateV6.url).port;
    const urls = [
      `http://127.0.0.2:${port}/private.pdf`,
      `http://[::1]:${v6Port}/private.pdf`,
      `http://0x7f000002:${port}/private.pdf`, // hexadecimal
      `http://2130706434:${port}/private.pdf`, // decimal
      `http://0177.0.0.2:${port}/private.pdf`, // octal
      `http://127.2:${port}/private.pdf`, // shortened
      `http://[::ffff:127.0.0.2]:${port}/private.pdf`, // IPv4-mapped IPv6
    ];
    const jobs = client(ctx);
    for (const [index, url] of urls.entries()) {
      const pdf = await jobs.enqueue('pdf', { documentId: `doc-ssrf-${index}`, source: { kind: 'url', url } });
      const feed = await jobs.enqueue('xml-import', { importJobId: `imp-ssrf-${index}`, sourceName: 'probe', source: { kind: 'url', url } });
      for (const [type, id] of [['pdf', pdf.id], ['xml-import', feed.id]] as const) {
        const { reason, everything } = await failureOf(type, id);
        expect(reason, `${type} ${url}`).toMatch(/refused|is loopback/);
        expect(everything).not.toContain(PRIVATE_MARKER);
      }
    }
    const scrape = await jobs.enqueue('scrape', { sessionId: 'sess-ssrf', sourceUrl: `http://0x7f000002:${port}/` });
    expect((await failureOf('scrape', scrape.id)).reason).toMatch(/refused by the SSRF guard.*address 127\.0\.0\.2 is loopback/);
    expect(private2.requests).toEqual([]);
    expect(privateV6.requests).toEqual([]);
    expect(artifactFiles().filter((file) => file.bytes.includes(PRIVATE_MARKER) || file.bytes.equals(privatePdf))).toEqual([]);
  }, 180_000);

  it('refuses a redirect from the allowed host to a private one, for PDFs, feeds and crawled pages', async () => {
    const privateHost = await privateService('127.0.0.2');
    const allowed = await serve('127.0.0.1', (request, response) => {
      if (request.url === '/robots.txt') {
        response.writeHead(404).end();
        return;
      }
      // Every other path redirects to the private service, the way an open redirect would.
      response.writeHead(302, { location: `${privateHost.url}/private.pdf` });
      response.end();
    });
    const jobs = client(ctx);
    const pdf = await jobs.enqueue('pdf', { documentId: 'doc-redirect', source: { kind: 'url', url: `${allowed.url}/doc.pdf` } });
    const pdfFailure = await failureOf('pdf', pdf.id);
    expect(pdfFailure.reason).toMatch(/refused by the SSRF guard at the redirect to http:\/\/127\.0\.0\.2:\d+\/private\.pdf: address 127\.0\.0\.2 is loopback/);
    const feed = await jobs.enqueue('xml-import', { importJobId: 'imp-redirect', sourceName: 'probe', source: { kind: 'url', url: `${allowed.url}/feed.xml` } });
    expect((await failureOf('xml-import', feed.id)).reason).toMatch(/127\.0\.0\.2 is loopback/);
    const scrape = await jobs.enqueue('scrape', { sessionId: 'sess-redirect', sourceUrl: `${allowed.url}/` });
    expect((await failureOf('scrape', scrape.id)).reason).toMatch(/127\.0\.0\.2 is loopback/);
    expect(allowed.requests.map((request) => request.url)).toEqual(expect.arrayContaining(['/doc.pdf', '/feed.xml', '/']));
    expect(privateHost.requests).toEqual([]);
    expect(artifactFiles().filter((file) => file.bytes.includes(PRIVATE_MARKER) || file.bytes.equals(privatePdf))).toEqual([]);
  }, 120_000);

  it('says what kind of content a wrong answer was, never its bytes (a metadata-like answer stays secret)', async () => {
    const metadataLike = `{"Code":"Success","AccessKeyId":"${METADATA_SECRET}","Token":"${METADATA_SECRET}"}`;
    const server = await serve('127.0.0.1', (request, response) => {
      if (request.url === '/html') {
        response.writeHead(200, { 'content-type': 'text/html' });
        response.end(`<!doctype html><title>${METADATA_SECRET}</title>`);
        return;
      }
      if (request.url === '/feed') {
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.end(`ami-id\n${METADATA_SECRET}\n`);
        return;
      }
      if (request.url === '/tagged-feed') {
        response.writeHead(200, { 'content-type': 'application/xml' });
        response.end(`<products>\n<${METADATA_SECRET}><sku>1</sku>\n</products>`);
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(metadataLike);
    });
    const jobs = client(ctx);
    const json = await jobs.enqueue('pdf', { documentId: 'doc-json', source: { kind: 'url', url: `${server.url}/latest/meta-data/iam/security-credentials/role` } });
    const jsonFailure = await failureOf('pdf', json.id);
    expect(jsonFailure.reason).toMatch(/is JSON or JSON-like text \(Content-Type application\/json\), not a PDF/);
    const html = await jobs.enqueue('pdf', { documentId: 'doc-html', source: { kind: 'url', url: `${server.url}/html` } });
    const htmlFailure = await failureOf('pdf', html.id);
    expect(htmlFailure.reason).toMatch(/is HTML \(Content-Type text\/html\), not a PDF/);
    const feed = await jobs.enqueue('xml-import', { importJobId: 'imp-plain', sourceName: 'probe', source: { kind: 'url', url: `${server.url}/feed` } });
    const feedFailure = await failureOf('xml-import', feed.id);
    const tagged = await jobs.enqueue('xml-import', { importJobId: 'imp-tagged', sourceName: 'probe', source: { kind: 'url', url: `${server.url}/tagged-feed` } });
    const taggedFailure = await failureOf('xml-import', tagged.id);
    expect(taggedFailure.reason).toMatch(/malformed XML at line 3, column \d+: unexpected close tag/);
    for (const failure of [jsonFailure, htmlFailure, feedFailure, taggedFailure]) {
      expect(failure.everything).not.toContain(METADATA_SECRET);
      expect(failure.everything).not.toContain('AccessKeyId');
      expect(failure.everything).not.toContain('ami-id');
    }
  }, 120_000);
});

describe('IPv4 wrapped in IPv6 transition addresses (checked on the guard, never connected)', () => {
  // The worker's own guard configuration: 127.0.0.1 allowed, as SCRAPE_ALLOW=127.0.0.1 gives.
  const guard = new UrlGuard({ allow: ['127.0.0.1'] });

  it.each([
    ['6to4 of 127.0.0.1', 'http://[2002:7f00:1::]/', 'loopback'],
    ['6to4 of 127.0.0.2', 'http://[2002:7f00:2::1]/', 'loopback'],
    ['6to4 of the metadata service', 'http://[2002:a9fe:a9fe::]/latest/meta-data/', 'cloud-metadata'],
    ['6to4 of 10.0.0.1', 'http://[2002:a00:1::]/', 'private'],
    ['NAT64 of 127.0.0.2', 'http://[64:ff9b::7f00:2]/', 'loopback'],
    ['NAT64 of 192.168.0.1', 'http://[64:ff9b::c0a8:1]/', 'private'],
    ['NAT64 of the metadata service', 'http://[64:ff9b::169.254.169.254]/', 'cloud-metadata'],
    ['local-use NAT64 /96 of 10.0.0.1', 'http://[64:ff9b:1::a00:1]/', null],
    ['local-use NAT64 /48 of 127.0.0.1', 'http://[64:ff9b:1:7f00:0:100::]/', 'loopback'],
    ['Teredo, server 127.0.0.1', 'http://[2001:0:7f00:1::]/', 'loopback'],
    ['Teredo, client 10.0.0.1', 'http://[2001:0:808:808::f5ff:fffe]/', 'private'],
    ['Teredo, client 169.254.169.254', 'http://[2001:0:808:808::5601:5601]/', 'cloud-metadata'],
  ])('refuses %s', async (_name, url, kind) => {
    const refusal = guard.check(url);
    await expect(refusal).rejects.toMatchObject({ name: 'UrlRefusedError', reason: 'refused', retryable: false });
    if (kind !== null) await expect(refusal).rejects.toThrow(new RegExp(` is ${kind}\\b`));
  });

  it('lets the same mechanisms through when the IPv4 inside is public', () => {
    for (const address of ['2002:808:808::1', '64:ff9b::8.8.8.8', '2001:0:808:808::f7f7:f7f7']) expect(blockedRangeOf(address)).toBeNull();
  });
});

describe('no other outbound client in the code', () => {
  /**
   * The only places allowed to open outbound connections without the guarded client, each to an
   * endpoint the operator configured (never a URL from a payload). A new one fails this test: route
   * it through `guardedRequest`/`fetchBuffered`, or add it here with the reason it is not a payload URL.
   */
  const CONFIGURED_ENDPOINTS: Record<string, string> = {
    'packages/workers/src/jobs/shared/http-retry.ts': 'EMBEDDINGS_URL and MATERIALS_LLM_URL providers',
    'packages/workers/src/jobs/scrape/firecrawl-provider.ts': 'FIRECRAWL_URL; the payload URL is sent as data, checked by the guard first',
    'packages/monitor/src/alerts/sentry-transport.ts': 'SENTRY_DSN',
    'apps/cli/src/doctor/provider-checks.ts': "doctor's checks of FIRECRAWL_URL, MATERIALS_LLM_URL and EMBEDDINGS_URL",
    'packages/workers/src/jobs/shared/s3-blob-store.ts': 'STORAGE_S3_ENDPOINT; payloads choose only a key inside STORAGE_S3_BUCKET',
  };
  // A call of the global fetch (not a method named fetch, nor its declaration `fetch(request: …)`),
  // or an SDK client that opens its own connections (the AWS SDK's S3 client).
  const OUTBOUND_CALL = /(?<![.\w])fetch\((?![A-Za-z_]\w*\??\s*:)|\b(http|https)\.(request|get)\(|\b(net|tls)\.(connect|createConnection)\(|from 'undici'|\bnew WebSocket\(|from '@aws-sdk\//;

  function sources(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'testing' ? [] : sources(path);
      return /\.(ts|mts|js)$/.test(entry.name) && !entry.name.endsWith('testing.ts') ? [path] : [];
    });
  }

  it('every outbound call in packages/*/src and apps/*/src is the guarded client or a configured endpoint', () => {
    const repo = fileURLToPath(new URL('../../', import.meta.url));
    const roots = ['packages', 'apps'].flatMap((top) => readdirSync(join(repo, top)).map((name) => join(repo, top, name, 'src')));
    const offenders = roots
      .flatMap((root) => sources(root))
      .map((path) => path.slice(repo.length))
      .filter((path) => !(path in CONFIGURED_ENDPOINTS))
      .filter((path) => readFileSync(join(repo, path), 'utf8').split('\n').some((line) => !/^\s*(\/\/|\*)/.test(line) && OUTBOUND_CALL.test(line)));
    expect(offenders).toEqual([]);
    // The guarded client itself connects only through the address the guard pinned.
    expect(readFileSync(join(repo, 'packages/workers/src/jobs/shared/guarded-http.ts'), 'utf8')).toMatch(/lookup: pinnedLookup\(target\)/);
  });
});
