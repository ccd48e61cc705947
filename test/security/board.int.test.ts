/**
 * The board as an attacker meets it: listening on 127.0.0.1 (started by `startBoard`, as its
 * entry point does, and as the real `kai-jobs-board` process where the environment is what
 * is probed), against the real Redis, probed over HTTP and from a real Chromium page on
 * another loopback origin (127.0.0.2).
 *
 * - every mutating route (Bull Board's, read from the installed version, and the enqueue
 *   API) in every spelling Express could route: refused when read-only, refused from
 *   another origin, refused with a non-JSON body; add-job and edit-data refused always;
 * - CSRF: a page on another origin makes the logged-in operator's browser post forms and
 *   fetches with credentials — no job is added;
 * - the board's pages and the monitoring page ask no host but the board, with a CSP on
 *   every answer and no violation;
 * - X-Forwarded-For cannot pick the failure limiter's key, behind a proxy or without one;
 * - deep and huge JSON: 400 and 413, the process lives on;
 * - `options.drill` is refused from the HTTP API and from `kai-jobs enqueue`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bullPrefix, createJobClient, JOB_TYPES, jobCatalog, RedisJobStore, type JobClient } from '@kai-jobs/queue';
import { useRedisTestContext, waitFor } from '@kai-jobs/queue/testing';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOARD_CSP, MONITORING_CSP } from '../../apps/board/src/index.js';
import { AUTH, basicAuth, launchChromium, PASSWORD, pdfPayload, USER, type Browser, type BrowserContext, type Page } from '../../apps/board/test/support.js';
import { kaiJobs, tempDir, testEnv } from '../../apps/cli/test/support.js';
import {
  mutatingRoutes,
  refusedBoardProcess,
  requestFrom,
  spellRoute,
  SPELLINGS,
  startBoardInProcess,
  startBoardProcess,
  startForwardingProxy,
  type BoardUnderTest,
  type RouteParams,
} from './board-probes.js';

const BROWSER_TEST_MS = 120_000;

/** Page script (run before the page's own): records every CSP violation the page reports. */
const CSP_RECORDER = `window.cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => window.cspViolations.push(event.violatedDirective + ' ' + event.blockedURI));`;
/** Page expression: the families of the font faces loaded, once loading settled. */
const LOADED_FONT_FAMILIES = `document.fonts.ready.then(() => [...document.fonts].filter((face) => face.status === 'loaded').map((face) => face.family.replace(/"/g, '')))`;

/** The CSP violations `page` reported so far. */
function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate('window.cspViolations') as Promise<string[]>;
}
/** The attacker's origin: another loopback address, so another site to the browser. */
const ATTACKER_HOST = '127.0.0.2';

describe('the board under attack', () => {
  const ctx = useRedisTestContext(import.meta.url);

  function jobClient(): JobClient {
    return ctx.manage('job client', createJobClient({ redis: ctx.redisOptions }));
  }

  function queue(name: string): Queue {
    return ctx.manage('queue', new Queue(name, { connection: ctx.redis, prefix: bullPrefix(ctx.prefix, name) }));
  }

  /** Everything a mutation that got through would have changed: jobs, their data, paused queues. */
  async function boardState(jobId: string): Promise<Record<string, unknown>> {
    const state: Record<string, unknown> = {};
    for (const name of [...JOB_TYPES.map((type) => jobCatalog[type].queueName), 'job-monitor']) {
      const q = queue(name);
      state[name] = { counts: await q.getJobCounts(), paused: await q.isPaused() };
    }
    const job = await queue('pdf-processing').getJob(jobId);
    state['job'] = { data: job?.data, state: await job?.getState(), priority: job?.opts.priority, delay: job?.opts.delay };
    return state;
  }

  /** A waiting PDF job the probes aim at. */
  async function target(): Promise<{ params: RouteParams; before: Record<string, unknown> }> {
    const { id } = await jobClient().enqueue('pdf', pdfPayload('doc-target'));
    return { params: { queueName: 'pdf-processing', jobId: id }, before: await boardState(id) };
  }

  /** Sends one probe; the answer's status and parsed body. */
  async function probe(
    board: BoardUnderTest,
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: string,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    // A string URL keeps doubled slashes exactly as written.
    const response = await fetch(`${board.origin}${path}`, { method, headers: { ...AUTH, ...headers }, ...(body === undefined ? {} : { body }) });
    const text = await response.text();
    try {
      return { status: response.status, body: JSON.parse(text) as Record<string, unknown> };
    } catch {
      return { status: response.status, body: { text: text.slice(0, 200) } };
    }
  }

  const JSON_BODY = { 'content-type': 'application/json' };

  it('every mutating route, in every spelling, is refused on a read-only board', { timeout: 60_000 }, async () => {
    const { params, before } = await target();
    const board = await startBoardInProcess(ctx, { readOnly: true });
    const routes = mutatingRoutes();
    // Bull Board 9.10 has 23 mutating routes; the enqueue API one.
    expect(routes.length).toBeGreaterThanOrEqual(24);
    const wrong: string[] = [];
    for (const { method, route } of routes) {
      for (const spelling of SPELLINGS) {
        const path = spellRoute(route, params, spelling);
        const answer = await probe(board, method, path, JSON_BODY, route === '/api/jobs/:type' ? JSON.stringify(pdfPayload('doc-x')) : '{}');
        if (answer.status !== 403 || answer.body['error'] !== 'read-only') wrong.push(`${method} ${path} → ${answer.status} ${JSON.stringify(answer.body)}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(await boardState(params.jobId)).toEqual(before);
  });

  it('adding a job and editing its data through Bull Board are refused in every spelling on a writable board', { timeout: 60_000 }, async () => {
    const { params, before } = await target();
    const board = await startBoardInProcess(ctx);
    const wrong: string[] = [];
    const answers = new Map<number, number>();
    for (const { method, route } of mutatingRoutes().filter((r) => /\/(add|update-data)$/.test(r.route))) {
      for (const spelling of SPELLINGS) {
        const path = spellRoute(route, params, spelling);
        const body = route.endsWith('/add') ? { name: 'pdf', data: pdfPayload('doc-smuggled'), options: {} } : { data: { documentId: 'doc-rewritten' } };
        const answer = await probe(board, method, path, JSON_BODY, JSON.stringify(body));
        answers.set(answer.status, (answers.get(answer.status) ?? 0) + 1);
        // Refused by the guard (403) — never done, never a 500.
        if (answer.status !== 403 || answer.body['error'] !== 'unsupported') wrong.push(`${method} ${path} → ${answer.status} ${JSON.stringify(answer.body)}`);
      }
    }
    expect(wrong).toEqual([]);
    expect([...answers.keys()]).toEqual([403]);
    expect(await boardState(params.jobId)).toEqual(before);
  });

  it('every mutating route, in every spelling, is refused from another origin or with a non-JSON body', { timeout: 90_000 }, async () => {
    const { params, before } = await target();
    const board = await startBoardInProcess(ctx);
    const attacker = `http://${ATTACKER_HOST}:8080`;
    const crossOrigin: Record<string, string>[] = [
      { origin: attacker, 'sec-fetch-site': 'cross-site' },
      { origin: attacker },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site', origin: 'http://127.0.0.1:1' },
      { origin: 'null' },
    ];
    const nonJson: [string, string][] = [
      ['application/x-www-form-urlencoded', 'name=pdf&data=%7B%7D'],
      ['text/plain', JSON.stringify(pdfPayload('doc-text'))],
      ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--\r\n'],
    ];
    const wrong: string[] = [];
    let probes = 0;
    for (const { method, route } of mutatingRoutes()) {
      for (const spelling of SPELLINGS) {
        const path = spellRoute(route, params, spelling);
        for (const headers of crossOrigin) {
          const answer = await probe(board, method, path, { ...JSON_BODY, ...headers }, JSON.stringify(pdfPayload('doc-csrf')));
          probes += 1;
          if (answer.status !== 403 || answer.body['error'] !== 'cross-origin request refused') {
            wrong.push(`${method} ${path} ${JSON.stringify(headers)} → ${answer.status} ${JSON.stringify(answer.body)}`);
          }
        }
        for (const [contentType, body] of nonJson) {
          const answer = await probe(board, method, path, { 'content-type': contentType }, body);
          probes += 1;
          if (answer.status !== 415) wrong.push(`${method} ${path} ${contentType} → ${answer.status} ${JSON.stringify(answer.body)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(probes).toBe(mutatingRoutes().length * SPELLINGS.length * (crossOrigin.length + nonJson.length));
    expect(await boardState(params.jobId)).toEqual(before);

    // Control: the same routes work from the board's own origin, from a browser or not.
    const own = { origin: board.origin, 'sec-fetch-site': 'same-origin' };
    expect((await probe(board, 'PUT', '/api/queues/pdf-processing/pause', own)).status).toBe(200);
    expect(await queue('pdf-processing').isPaused()).toBe(true);
    expect((await probe(board, 'PUT', '/API/QUEUES/pdf-processing/RESUME', {})).status).toBe(200);
    expect(await queue('pdf-processing').isPaused()).toBe(false);
    const enqueued = await probe(board, 'POST', '/api/jobs/pdf', { ...JSON_BODY, ...own }, JSON.stringify(pdfPayload('doc-own')));
    expect(enqueued.status).toBe(201);
  });

  it('X-Forwarded-For cannot pick the failure-limit key: behind one proxy (hop count or its address) and without trust', { timeout: 120_000 }, async () => {
    // Distinct clients are distinct loopback source addresses.
    const ATTACKER = '127.0.0.3';
    const VICTIM = '127.0.0.4';
    const wrongPassword = { authorization: basicAuth(USER, 'guess') };
    const rightPassword = { authorization: basicAuth(USER, PASSWORD) };
    // In-process boards get back a token an hour after a failure, so a slow machine cannot
    // blur the count; the process keeps the default (one per 6 s — the probes take well under that).
    const SLOW_REFILL = { username: USER, password: PASSWORD, failureRefillMs: 3_600_000 };

    // BOARD_TRUST_PROXY as an operator sets it (the real process reads it), and as an address list.
    const behindProxy: [string, BoardUnderTest][] = [
      ['BOARD_TRUST_PROXY=1', await startBoardProcess(ctx, { BOARD_TRUST_PROXY: '1' })],
      ['trustProxy: [127.0.0.1]', await startBoardInProcess(ctx, { trustProxy: ['127.0.0.1'], auth: SLOW_REFILL })],
    ];
    for (const [trust, board] of behindProxy) {
      const proxy = ctx.manage('proxy', await startForwardingProxy(board.origin));
      const statuses: number[] = [];
      const startedAt = Date.now();
      for (let attempt = 0; attempt < 14; attempt += 1) {
        // A fresh made-up chain each time, and sometimes the victim's own address.
        const spoofed = attempt % 2 === 0 ? `203.0.113.${attempt}, 198.51.100.${attempt}` : VICTIM;
        statuses.push((await requestFrom(ATTACKER, `${proxy.origin}/api/queues`, { ...wrongPassword, 'x-forwarded-for': spoofed })).status);
      }
      // 10 failures (the default burst), then 429 whatever the header says.
      const attackerAgain = await requestFrom(ATTACKER, `${proxy.origin}/api/queues`, { ...rightPassword, 'x-forwarded-for': '192.0.2.1' });
      const tookMs = Date.now() - startedAt;
      expect(statuses, `${trust}, ${tookMs} ms`).toEqual([...new Array(10).fill(401), 429, 429, 429, 429]);
      expect(attackerAgain.status, `${trust}, ${tookMs} ms`).toBe(429);
      // The victim, whose address the attacker sent, is not locked out.
      expect((await requestFrom(VICTIM, `${proxy.origin}/api/queues`, rightPassword)).status, trust).toBe(200);
      await proxy.close();
    }

    // No proxy trusted (the default): the header is ignored altogether.
    const direct = await startBoardInProcess(ctx, { auth: SLOW_REFILL });
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 12; attempt += 1) {
      statuses.push((await requestFrom(ATTACKER, `${direct.origin}/api/queues`, { ...wrongPassword, 'x-forwarded-for': `203.0.113.${attempt}` })).status);
    }
    expect(statuses).toEqual([...new Array(10).fill(401), 429, 429]);
    expect((await requestFrom(VICTIM, `${direct.origin}/api/queues`, { ...rightPassword, 'x-forwarded-for': ATTACKER })).status).toBe(200);

    // `true` (believe every entry) is refused at start, saying why and what to set.
    const refused = await refusedBoardProcess(ctx, { BOARD_TRUST_PROXY: 'true' });
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/BOARD_TRUST_PROXY=true is refused: it believes every X-Forwarded-For entry/);
    expect(refused.output).toMatch(/BOARD_TRUST_PROXY=1 behind one reverse proxy/);
  });

  it('deep JSON answers 400 and a huge body 413 on every body-taking route; the board answers on', async () => {
    const board = await startBoardInProcess(ctx);
    const deep = `{"documentId":"d","source":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    for (const [method, path] of [
      ['POST', '/api/jobs/pdf'],
      ['PUT', '/api/queues/pdf-processing/concurrency'],
      ['PATCH', '/api/queues/job-monitor/job-schedulers/kai-monitor'],
    ] as const) {
      const answer = await probe(board, method, path, JSON_BODY, deep);
      expect(answer, `${method} ${path}`).toEqual({
        status: 400,
        body: { error: 'JSON too deep', message: 'the JSON body nests deeper than 64 levels of arrays and objects' },
      });
      const huge = await probe(board, method, path, JSON_BODY, JSON.stringify({ pad: 'x'.repeat(3 * 1024 * 1024) }));
      expect(huge.status, `${method} ${path}`).toBe(413);
    }
    expect((await fetch(`${board.origin}/healthz`)).status).toBe(200);
    expect(board.requests().filter((line) => line.status >= 500)).toEqual([]);
  });

  it('options.drill is refused from the HTTP API and from kai-jobs enqueue, naming the field', async () => {
    const board = await startBoardInProcess(ctx);
    const hanging = { ...pdfPayload('doc-hang'), options: { drill: { hangOnceInStage: 'text_extracted' } } };
    const answer = await probe(board, 'POST', '/api/jobs/pdf', JSON_BODY, JSON.stringify(hanging));
    expect(answer.status).toBe(400);
    expect(answer.body['issues']).toEqual([expect.objectContaining({ path: 'payload.options.drill' })]);

    const file = join(tempDir('kai-security-'), 'payload.json');
    writeFileSync(file, JSON.stringify(hanging));
    const cli = await kaiJobs(['enqueue', 'pdf', '--file', file, '--json'], testEnv(ctx.redisUrl, ctx.prefix));
    expect(cli.code).toBe(2);
    expect(`${cli.stdout}${cli.stderr}`).toMatch(/payload\.options\.drill: not accepted in a public payload/);
    // Nothing was enqueued: no BullMQ job, no status row.
    expect(await queue('pdf-processing').count()).toBe(0);
    expect(await new RedisJobStore({ connection: ctx.redis, prefix: ctx.prefix }).list({ type: 'pdf', status: 'pending' })).toEqual([]);
  });

  describe('in Chromium', () => {
    let browser: Browser;

    beforeAll(async () => {
      browser = await launchChromium();
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
    });

    /** A browser context of the operator: the board's credentials answer its challenges. */
    async function operatorContext(): Promise<BrowserContext> {
      const context = await browser.newContext({ httpCredentials: { username: USER, password: PASSWORD } });
      return ctx.manage('browser context', context);
    }

    /** A site on the attacker's origin (127.0.0.2) serving `pages` by path; its base URL. */
    async function attackerSite(pages: Record<string, string>): Promise<string> {
      const server: Server = createServer((req, res) => {
        const html = pages[req.url ?? ''];
        if (html === undefined) res.writeHead(404).end();
        else res.writeHead(200, { 'content-type': 'text/html' }).end(html);
      });
      await new Promise<void>((resolve) => server.listen(0, ATTACKER_HOST, resolve));
      ctx.manage('attacker site', {
        close: () =>
          new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
          }),
      });
      return `http://${ATTACKER_HOST}:${(server.address() as AddressInfo).port}/`;
    }

    it('CSRF: form posts and credentialed fetches from another origin add no job', { timeout: BROWSER_TEST_MS }, async () => {
      const { params, before } = await target();
      const board = await startBoardInProcess(ctx);
      const payload = JSON.stringify(pdfPayload('doc-csrf'));
      const attr = (value: string): string => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
      /** A page that posts a form to the board as soon as it loads (a top-level navigation, as a link in a mail would). */
      const formPage = (action: string, enctype: string, fields: [string, string][]): string =>
        `<!doctype html><body><form method="POST" action="${attr(`${board.origin}${action}`)}" enctype="${enctype}">` +
        fields.map(([name, value]) => `<input type="hidden" name="${attr(name)}" value="${attr(value)}">`).join('') +
        '</form><script>document.forms[0].submit()</script></body>';
      // text/plain forms are the classic way to post a JSON-looking body cross-site.
      const pages: Record<string, string> = {
        '/text-plain': formPage('/api/jobs/pdf', 'text/plain', [[`${payload.slice(0, -1)},"pad":"`, '"}']]),
        '/urlencoded': formPage('/api/queues/pdf-processing/add', 'application/x-www-form-urlencoded', [['name', 'pdf'], ['data', payload]]),
        '/multipart-upper': formPage('/API/QUEUES/pdf-processing/ADD', 'multipart/form-data', [['name', 'pdf'], ['data', payload]]),
        '/fetch': `<!doctype html><body><script>
  const board = ${JSON.stringify(board.origin)};
  const body = ${JSON.stringify(payload)};
  window.results = Promise.allSettled([
    fetch(board + '/api/jobs/pdf', { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'text/plain' }, body }),
    fetch(board + '/api/jobs/pdf', { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json' }, body }),
    fetch(board + '/api/queues/pdf-processing/pause', { method: 'PUT', credentials: 'include' }),
  ]).then((all) => all.map((r) => r.status));
</script></body>`,
      };
      const site = await attackerSite(pages);

      const context = await operatorContext();
      const page = await context.newPage();
      // The operator is logged in: the board's page loaded with credentials.
      expect((await page.goto(`${board.origin}/`))?.status()).toBe(200);

      for (const path of ['/text-plain', '/urlencoded', '/multipart-upper']) {
        // The browser answers the board's challenge with the operator's credentials, so the
        // board's last word on the forged post is its own refusal, not a 401.
        const answered = page.waitForResponse((response) => response.request().method() === 'POST' && response.status() !== 401);
        await page.goto(`${site}${path.slice(1)}`);
        const response = await answered;
        expect(response.url().startsWith(board.origin), path).toBe(true);
        expect(response.status(), path).toBe(403);
        expect(await response.json(), path).toMatchObject({ error: 'cross-origin request refused' });
      }
      const enqueueAttempts = (): number => board.requests().filter((line) => line.method === 'POST' && line.path === '/api/jobs/pdf').length;
      const beforeFetch = enqueueAttempts();
      await page.goto(`${site}fetch`);
      // The no-cors fetch is sent (its answer is opaque); the others need a CORS preflight the board never grants.
      expect(await page.evaluate('window.results')).toEqual(['fulfilled', 'rejected', 'rejected']);
      await waitFor(() => enqueueAttempts() > beforeFetch, { message: 'the forged fetch did not reach the board' });
      const mutations = board.requests().filter((line) => !['GET', 'HEAD', 'OPTIONS'].includes(line.method));
      // Every forged change that reached the board was refused (401 without credentials, 403 with them); none was done.
      expect(mutations.filter((line) => line.status !== 401 && line.status !== 403)).toEqual([]);
      expect(mutations.map((line) => line.path)).toEqual(expect.arrayContaining(['/api/jobs/pdf', '/api/queues/pdf-processing/add', '/API/QUEUES/pdf-processing/ADD']));
      expect(board.messages().filter((message) => message === 'cross-origin change refused').length).toBeGreaterThanOrEqual(3);
      expect(await boardState(params.jobId)).toEqual(before);

      // Control: the board's own page can still change things (Bull Board's buttons, the API).
      await page.goto(`${board.origin}/`);
      const own = await page.evaluate(async (body) => {
        const pause = await fetch('api/queues/pdf-processing/pause', { method: 'PUT' });
        const resume = await fetch('api/queues/pdf-processing/resume', { method: 'PUT' });
        const add = await fetch('api/jobs/pdf', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        return [pause.status, resume.status, add.status];
      }, JSON.stringify(pdfPayload('doc-own')));
      expect(own).toEqual([200, 200, 201]);
    });

    /** Loads `url` in `page` and records what it asked for and what the CSP refused. */
    async function visit(context: BrowserContext, url: string, ready: (page: Page) => Promise<void>) {
      const requested: { url: string; status: number | null; csp: string | null }[] = [];
      const page = await context.newPage();
      await page.addInitScript(CSP_RECORDER);
      const consoleCsp: string[] = [];
      page.on('console', (message) => {
        if (/Content Security Policy/i.test(message.text())) consoleCsp.push(message.text());
      });
      page.on('response', (response) => {
        requested.push({ url: response.url(), status: response.status(), csp: response.headers()['content-security-policy'] ?? null });
      });
      page.on('requestfailed', (request) => requested.push({ url: request.url(), status: null, csp: null }));
      await page.goto(url);
      await ready(page);
      await page.waitForLoadState('networkidle');
      const violations = await cspViolations(page);
      return { page, requested, violations, consoleCsp };
    }

    it("the board's pages and the monitoring page ask no host but the board, with a CSP and no violation", { timeout: BROWSER_TEST_MS }, async () => {
      const { params } = await target();
      const board = await startBoardInProcess(ctx);
      const context = await operatorContext();
      const pages = [
        { url: `${board.origin}/`, csp: BOARD_CSP, ready: (page: Page) => page.getByText('PDF processing').first().waitFor() },
        { url: `${board.origin}/queue/pdf-processing?status=waiting`, csp: BOARD_CSP, ready: (page: Page) => page.getByText(params.jobId).first().waitFor() },
        { url: `${board.origin}/queue/pdf-processing/${params.jobId}`, csp: BOARD_CSP, ready: (page: Page) => page.getByText('doc-target').first().waitFor() },
        { url: `${board.origin}/monitoring`, csp: MONITORING_CSP, ready: (page: Page) => page.locator('#monitor-health').waitFor() },
      ];
      for (const { url, csp, ready } of pages) {
        const { page, requested, violations, consoleCsp } = await visit(context, url, ready);
        expect(requested.length, url).toBeGreaterThan(0);
        const elsewhere = requested.filter((request) => new URL(request.url).origin !== board.origin && !request.url.startsWith('data:'));
        expect(elsewhere, url).toEqual([]);
        expect(requested.filter((request) => request.status === null || request.status >= 400), url).toEqual([]);
        // Every answer carries a CSP naming no other host.
        expect(requested.filter((request) => request.csp === null), url).toEqual([]);
        expect(requested.find((request) => request.url === url)?.csp, url).toBe(csp);
        expect(violations, url).toEqual([]);
        expect(consoleCsp, url).toEqual([]);
        if (csp === BOARD_CSP) {
          // The fonts Bull Board wants come from the board, and are in use.
          expect(requested.some((request) => request.url === `${board.origin}/fonts/fonts.css`), url).toBe(true);
          expect(requested.some((request) => /\/fonts\/ibm-plex-sans\/files\/ibm-plex-sans-latin-\d00-normal\.woff2$/.test(request.url)), url).toBe(true);
          const loaded = await page.evaluate(LOADED_FONT_FAMILIES);
          expect(loaded, url).toContain('IBM Plex Sans');
        }
        await page.close();
      }
      expect(BOARD_CSP).not.toMatch(/https?:|\*/);

      // Control: the recorder does see a violation and a request to another host.
      const { page, violations } = await visit(context, `${board.origin}/`, (p) => p.getByText('PDF processing').first().waitFor());
      expect(violations).toEqual([]);
      await page.evaluate(`document.body.append(Object.assign(document.createElement('img'), { src: 'http://${ATTACKER_HOST}:9/pixel.png' }))`);
      await expect.poll(() => cspViolations(page)).toEqual([
        `img-src http://${ATTACKER_HOST}:9/pixel.png`,
      ]);
    });
  });
});
