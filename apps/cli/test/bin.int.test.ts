import { describe, expect, it } from 'vitest';
import { useRedisTestContext } from '@kai-jobs/queue/testing';
import { spawnCli, testEnv } from './support.js';

const ctx = useRedisTestContext(import.meta.url);

describe('the kai-jobs binary', () => {
  it('start: workers, monitor and board in one process; prints the URL and a generated login; SIGTERM stops it with exit 0', async () => {
    const cli = spawnCli(['start'], testEnv(ctx.redisUrl, ctx.prefix, { BOARD_PORT: '0', LOG_LEVEL: 'info' }));
    try {
      const [, url] = await cli.waitForStdout(/board ready: (http:\/\/127\.0\.0\.1:\d+\/)\n/);
      const [, username, password] = await cli.waitForStdout(/log in as: (\S+) \/ (\S+) {3}\(generated for this run/);
      expect(username).toBe('admin');
      expect(password).toMatch(/^[A-Za-z0-9_-]{16}$/);
      expect(cli.stdout()).toContain('kai-jobs is running: workers (pdf, scrape, xml-import), the monitor and the board.');
      expect((await fetch(new URL('healthz', url))).status).toBe(200);
      expect((await fetch(new URL('readyz', url))).status).toBe(200);
      expect((await fetch(url as string)).status).toBe(401);
      const authorized = await fetch(url as string, { headers: { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` } });
      expect(authorized.status).toBe(200);
      // Logs are JSON lines on stderr; the ready line names all three parts.
      expect(cli.stderr()).toMatch(/"msg":"kai-jobs ready"/);
      cli.child.kill('SIGTERM');
      expect(await cli.exited).toBe(0);
      expect(cli.stderr()).toMatch(/"msg":"board stopped"/);
    } finally {
      await cli.kill();
    }
  }, 90_000);

  it('start without Redis: exit 1 and a message naming the URL and the two ways to get one', async () => {
    const cli = spawnCli(['start'], testEnv('redis://127.0.0.1:1', ctx.prefix));
    expect(await cli.exited).toBe(1);
    const message = cli.stderr();
    expect(message).toContain('no Redis answers at redis://127.0.0.1:1');
    expect(message).toContain('docker compose up -d redis');
    expect(message).toContain('redis-server');
    expect(message).toContain('REDIS_URL');
  }, 30_000);

  it('bad usage exits 2 with a suggestion; --json puts the error on stdout', async () => {
    const typo = spawnCli(['lisst'], testEnv(ctx.redisUrl, ctx.prefix));
    expect(await typo.exited).toBe(2);
    expect(typo.stderr()).toBe('kai-jobs: unknown command "lisst" — did you mean "list"?\nRun "kai-jobs --help" for usage.\n');
    const flag = spawnCli(['enqueue', 'pdf', '--wiat', '--json'], testEnv(ctx.redisUrl, ctx.prefix));
    expect(await flag.exited).toBe(2);
    expect(JSON.parse(flag.stdout())).toMatchObject({ error: { code: 'USAGE', message: 'unknown flag --wiat for "kai-jobs enqueue" — did you mean --wait?' }, exitCode: 2 });
  }, 30_000);
});
