import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSentryReceiver, startUnresponsiveServer } from '@kai-jobs/monitor/testing';
import { startSupabaseTestStack, useRedisTestContext, type SupabaseTestStack } from '@kai-jobs/queue/testing';
import { kaiJobs, testEnv } from './support.js';

const ctx = useRedisTestContext(import.meta.url);
const env = (extra: Record<string, string> = {}) => testEnv(ctx.redisUrl, ctx.prefix, extra);

interface Report {
  ok: boolean;
  counts: Record<string, number>;
  checks: { name: string; status: string; message: string; fix: string | null }[];
}
const checkOf = (report: Report, name: string) => report.checks.find((check) => check.name === name);

let stack: SupabaseTestStack;
beforeAll(async () => {
  stack = await startSupabaseTestStack();
});
afterAll(async () => {
  await stack?.close();
});

describe('kai-jobs doctor', () => {
  it('one line per check; with nothing running the missing monitor fails and the idle queues warn', async () => {
    const run = await kaiJobs(['doctor', '--json'], env());
    expect(run.code).toBe(1);
    const report = run.json<Report>();
    expect(report.ok).toBe(false);
    expect(checkOf(report, 'monitor')).toEqual({ name: 'monitor', status: 'fail', message: 'the monitor has never ticked', fix: expect.stringContaining('kai-jobs monitor') });
    expect(checkOf(report, 'workers:pdf-processing')).toMatchObject({ status: 'warn', message: 'no worker online (nothing waiting yet)' });
    // The local Redis shows client names, so fast failover can see workers die.
    expect(checkOf(report, 'failover')).toMatchObject({ status: 'ok', message: expect.stringMatching(/^the client list shows connection names/) });
    expect(report.counts['fail']).toBe(1);
    // A waiting job and no worker: that queue fails.
    await kaiJobs(['enqueue', 'pdf', '--url', 'https://cdn.example/a.pdf'], env());
    const waiting = (await kaiJobs(['doctor', '--json'], env())).json<Report>();
    expect(checkOf(waiting, 'workers:pdf-processing')).toMatchObject({ status: 'fail', message: 'no worker online and 1 job waiting', fix: expect.stringContaining('kai-jobs worker') });
    const text = await kaiJobs(['doctor'], env());
    expect(text.stdout).toMatch(/^fail {2}monitor +the monitor has never ticked\n +→ start one: /m);
    expect(text.stdout).toMatch(/\d+ ok, \d+ warn, 2 fail\n$/);
  });

  it('sends a test event to Sentry and says ok when it is accepted', async () => {
    const receiver = await startSentryReceiver();
    try {
      const report = (await kaiJobs(['doctor', '--json'], env({ SENTRY_DSN: receiver.dsn }))).json<Report>();
      expect(checkOf(report, 'sentry')).toMatchObject({ status: 'ok', message: expect.stringMatching(/^test event [0-9a-f]{32} accepted by Sentry \(HTTP 200;/), fix: null });
      const [event] = await receiver.waitForEvents(1);
      expect(event).toMatchObject({ message: 'kai-jobs doctor: test event (alerts reach Sentry)', tags: { source: 'kai-jobs-doctor' }, level: 'info' });
    } finally {
      await receiver.close();
    }
  });

  it('fails the Sentry check when Sentry does not answer, or the DSN is malformed (without echoing it)', async () => {
    const silent = await startUnresponsiveServer();
    try {
      const report = (await kaiJobs(['doctor', '--json'], env({ SENTRY_DSN: silent.dsn }))).json<Report>();
      expect(checkOf(report, 'sentry')).toMatchObject({ status: 'fail', message: 'Sentry did not accept the test event within 5000 ms (no answer)', fix: expect.stringContaining('SENTRY_DSN') });
      expect(silent.connections()).toBeGreaterThan(0);
    } finally {
      await silent.close();
    }
    // Sentry answers, but refuses: a wrong key or project.
    const refusing = createServer((_request, response) => response.writeHead(403).end('{"detail":"invalid key"}'));
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    try {
      const port = (refusing.address() as AddressInfo).port;
      const report = (await kaiJobs(['doctor', '--json'], env({ SENTRY_DSN: `http://wrongkey@127.0.0.1:${port}/7` }))).json<Report>();
      expect(checkOf(report, 'sentry')).toMatchObject({ status: 'fail', message: 'Sentry refused the test event (HTTP 403)' });
    } finally {
      await new Promise<void>((resolve) => refusing.close(() => resolve()));
    }
    const bad = (await kaiJobs(['doctor', '--json'], env({ SENTRY_DSN: 'not-a-dsn-secret123' }))).json<Report>();
    expect(checkOf(bad, 'sentry')).toMatchObject({ status: 'fail', message: expect.stringContaining('the Sentry DSN is not valid') });
    expect(JSON.stringify(bad)).not.toContain('secret123');
  }, 30_000);

  it('checks Supabase when STATUS_STORE=supabase: ok with the migrations, fail without them or when unreachable', async () => {
    const schema = await stack.createSchema('doctor');
    const supabase = { STATUS_STORE: 'supabase', SUPABASE_URL: stack.url, SUPABASE_SERVICE_ROLE_KEY: stack.serviceRoleKey };
    const ok = (await kaiJobs(['doctor', '--json'], env({ ...supabase, SUPABASE_SCHEMA: schema }))).json<Report>();
    expect(checkOf(ok, 'supabase')).toMatchObject({ status: 'ok', message: expect.stringContaining('migrations applied') });
    const unmigrated = (await kaiJobs(['doctor', '--json'], env({ ...supabase, SUPABASE_SCHEMA: 'public' }))).json<Report>();
    expect(checkOf(unmigrated, 'supabase')).toMatchObject({
      status: 'fail',
      message: expect.stringContaining('answers but the kai-jobs functions are missing from the schema'),
      fix: 'apply the migrations: "supabase db push" (see supabase/README.md)',
    });
    const down = (await kaiJobs(['doctor', '--json'], env({ ...supabase, SUPABASE_URL: 'http://127.0.0.1:1' }))).json<Report>();
    expect(checkOf(down, 'supabase')).toMatchObject({ status: 'fail', message: expect.stringContaining('http://127.0.0.1:1 (schema public) is unreachable') });
    await stack.dropSchema(schema);
  }, 30_000);

  it('without Redis: the Redis check fails with how to get one; the checks that need it are not run', async () => {
    const run = await kaiJobs(['doctor', '--json'], env({ REDIS_URL: 'redis://127.0.0.1:1' }));
    expect(run.code).toBe(1);
    const report = run.json<Report>();
    expect(checkOf(report, 'redis')).toMatchObject({ status: 'fail', message: expect.stringContaining('unreachable at redis://127.0.0.1:1'), fix: expect.stringContaining('docker compose up -d redis') });
    for (const name of ['maxmemory-policy', 'persistence', 'workers', 'monitor', 'failover']) expect(checkOf(report, name)).toMatchObject({ status: 'warn', message: 'not checked: Redis is unreachable' });
  }, 30_000);
});
