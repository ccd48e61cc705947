import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startUnresponsiveServer } from '@kai-jobs/monitor/testing';
import { useRedisTestContext } from '@kai-jobs/queue/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { checkProviders } from '../src/doctor/provider-checks.js';
import { kaiJobs, testEnv } from './support.js';

// doctor's checks of the external services (Firecrawl, the materials LLM, the embeddings API),
// against fake services on loopback that authenticate as the real ones do.
const ctx = useRedisTestContext(import.meta.url);
const GOOD_KEY = 'good-key-not-a-secret';

interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

interface FakeService {
  url: string;
  requests: SeenRequest[];
  server: Server;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise<void>((resolve) => server.close(() => resolve()));
});

/**
 * A fake provider: `authorized(headers)` decides 401 vs the route; `routes` maps a path to a status.
 * Anything else is 404, as the real APIs answer for an unknown model.
 */
async function fakeService(authorized: (headers: IncomingHttpHeaders) => boolean, routes: Record<string, number>, status401 = 401): Promise<FakeService> {
  const requests: SeenRequest[] = [];
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
    if (!authorized(req.headers)) {
      res.writeHead(status401, { 'content-type': 'application/json' }).end('{"error":"invalid api key"}');
      return;
    }
    const status = routes[req.url ?? ''] ?? 404;
    res.writeHead(status, { 'content-type': 'application/json' }).end(status === 200 ? '{"success":true,"data":{"remaining_credits":1000}}' : '{"error":"not found"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, server };
}

const bearer = (headers: IncomingHttpHeaders) => headers.authorization === `Bearer ${GOOD_KEY}`;
const anthropicKey = (headers: IncomingHttpHeaders) => headers['x-api-key'] === GOOD_KEY && headers['anthropic-version'] === '2023-06-01';

async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('doctor: external services', () => {
  it('not configured: one ok line each, and no request', async () => {
    const checks = await checkProviders({});
    expect(checks).toEqual([
      { name: 'firecrawl', status: 'ok', message: 'not configured (FIRECRAWL_URL unset)', fix: null },
      { name: 'llm', status: 'ok', message: 'not configured (MATERIALS_LLM_URL unset)', fix: null },
      { name: 'embeddings', status: 'ok', message: 'not configured (EMBEDDINGS_URL unset)', fix: null },
    ]);
  });

  it('reachable and the key accepted: one cheap authenticated request each (kai-jobs doctor --json)', async () => {
    const firecrawl = await fakeService(bearer, { '/v1/team/credit-usage': 200 });
    const llm = await fakeService(anthropicKey, { '/v1/models/claude-test': 200 });
    const embeddings = await fakeService(bearer, { '/v1/models/embed-test': 200 });
    const run = await kaiJobs(
      ['doctor', '--json'],
      testEnv(ctx.redisUrl, ctx.prefix, {
        FIRECRAWL_URL: `${firecrawl.url}/`,
        FIRECRAWL_API_KEY: GOOD_KEY,
        MATERIALS_LLM_URL: llm.url,
        MATERIALS_LLM_API_KEY: GOOD_KEY,
        MATERIALS_LLM_MODEL: 'claude-test',
        EMBEDDINGS_URL: `${embeddings.url}/v1`,
        EMBEDDINGS_API_KEY: GOOD_KEY,
        EMBEDDINGS_MODEL: 'embed-test',
      }),
    );
    const report = run.json<{ checks: { name: string; status: string; message: string }[] }>();
    const byName = new Map(report.checks.map((c) => [c.name, c]));
    expect(byName.get('firecrawl')).toMatchObject({ status: 'ok', message: `Firecrawl at ${firecrawl.url} accepted the key (GET /v1/team/credit-usage: HTTP 200)` });
    expect(byName.get('llm')).toMatchObject({ status: 'ok', message: expect.stringContaining('accepted the key (GET /v1/models/<model>: HTTP 200)') });
    expect(byName.get('embeddings')).toMatchObject({ status: 'ok', message: expect.stringContaining('accepted the key (GET /models/<model>: HTTP 200)') });
    for (const service of [firecrawl, llm, embeddings]) {
      expect(service.requests).toHaveLength(1);
      expect(service.requests[0]?.method).toBe('GET');
    }
    // The key is sent to the service, never printed.
    expect(run.stdout).not.toContain(GOOD_KEY);
  });

  it('401 and 403 are "key refused" naming the variable to set; a 404 names the model', async () => {
    const firecrawl = await fakeService(bearer, { '/v1/team/credit-usage': 200 });
    const llm = await fakeService(anthropicKey, { '/v1/models/claude-test': 200 }, 403);
    const embeddings = await fakeService(bearer, { '/v1/models/embed-test': 200 });
    const checks = await checkProviders({
      FIRECRAWL_URL: firecrawl.url,
      FIRECRAWL_API_KEY: 'wrong-key',
      MATERIALS_LLM_URL: llm.url,
      MATERIALS_LLM_API_KEY: 'wrong-key',
      MATERIALS_LLM_MODEL: 'claude-test',
      EMBEDDINGS_URL: `${embeddings.url}/v1`,
      EMBEDDINGS_API_KEY: GOOD_KEY,
      EMBEDDINGS_MODEL: 'no-such-model',
    });
    expect(checks[0]).toEqual({
      name: 'firecrawl',
      status: 'fail',
      message: `Firecrawl at ${firecrawl.url} answers, but the key was refused (HTTP 401)`,
      fix: 'set FIRECRAWL_API_KEY to a valid key',
    });
    expect(checks[1]).toMatchObject({ name: 'llm', status: 'fail', message: expect.stringContaining('the key was refused (HTTP 403)'), fix: 'set MATERIALS_LLM_API_KEY to a valid key' });
    expect(checks[2]).toMatchObject({ name: 'embeddings', status: 'fail', message: expect.stringContaining('has no model "no-such-model" (HTTP 404)'), fix: expect.stringContaining('EMBEDDINGS_MODEL') });
    expect(JSON.stringify(checks)).not.toContain('wrong-key');
  });

  it('unreachable, silent past the timeout, or partly configured: fail with what to check', async () => {
    const silent = await startUnresponsiveServer();
    try {
      const checks = await checkProviders(
        {
          FIRECRAWL_URL: `http://127.0.0.1:${await deadPort()}`,
          FIRECRAWL_API_KEY: GOOD_KEY,
          MATERIALS_LLM_URL: `http://127.0.0.1:${silent.port}`,
          MATERIALS_LLM_API_KEY: GOOD_KEY,
          MATERIALS_LLM_MODEL: 'claude-test',
          EMBEDDINGS_URL: 'http://127.0.0.1:1/v1',
        },
        500,
      );
      expect(checks[0]).toMatchObject({ status: 'fail', message: expect.stringMatching(/is unreachable: ECONNREFUSED$/), fix: 'check FIRECRAWL_URL and that this host can reach it' });
      expect(checks[1]).toMatchObject({ status: 'fail', message: expect.stringMatching(/is unreachable: no answer within 500 ms$/) });
      expect(silent.connections()).toBe(1);
      expect(checks[2]).toEqual({
        name: 'embeddings',
        status: 'fail',
        message: 'partly configured: EMBEDDINGS_API_KEY, EMBEDDINGS_MODEL missing (the workers refuse to start)',
        fix: 'set all of EMBEDDINGS_URL, EMBEDDINGS_API_KEY, EMBEDDINGS_MODEL, or none',
      });
    } finally {
      await silent.close();
    }
  });
});
