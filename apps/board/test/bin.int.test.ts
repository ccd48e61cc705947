import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { testRedisEnv, useRedisTestContext, waitFor } from '@kai-jobs/queue/testing';
import { describe, expect, it } from 'vitest';
import { AUTH, PASSWORD, USER } from './support.js';

const APP_DIR = fileURLToPath(new URL('..', import.meta.url));
const BIN = fileURLToPath(new URL('../src/bin/board.ts', import.meta.url));

interface RunningBin {
  child: ChildProcess;
  /** Parsed JSON log lines written so far. */
  lines: Record<string, unknown>[];
  /** Non-JSON output (there should be none). */
  other: string[];
  exit: Promise<number | null>;
}

function runBin(env: Record<string, string>): RunningBin {
  const child = spawn(process.execPath, ['--import', 'tsx', BIN], {
    cwd: APP_DIR,
    // Only what the board needs: no credentials leak in from the developer's shell.
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const running: RunningBin = { child, lines: [], other: [], exit: new Promise((resolve) => child.once('exit', (code) => resolve(code))) };
  let buffered = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      try {
        running.lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        running.other.push(line);
      }
      newline = buffered.indexOf('\n');
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => running.other.push(chunk.toString('utf8')));
  return running;
}

describe('kai-jobs-board (the bin)', () => {
  const ctx = useRedisTestContext(import.meta.url);

  it('reads the environment, logs JSON, serves, and stops on SIGTERM with exit 0', { timeout: 60_000 }, async () => {
    const bin = runBin({
      ...testRedisEnv(),
      KAI_PREFIX: ctx.prefix,
      BOARD_HOST: '127.0.0.1',
      BOARD_PORT: '0',
      BOARD_USERNAME: USER,
      BOARD_PASSWORD: PASSWORD,
      BOARD_READ_ONLY: 'true',
    });
    try {
      await waitFor(() => bin.lines.some((line) => line['msg'] === 'board listening'), {
        timeoutMs: 30_000,
        message: `the board did not start: ${JSON.stringify(bin.lines)} ${bin.other.join('')}`,
      });
      const listening = bin.lines.find((line) => line['msg'] === 'board listening') as Record<string, unknown>;
      expect(listening).toMatchObject({ level: 'info', service: 'board', auth: 'on', readOnly: true });
      const url = String(listening['url']);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect((await fetch(new URL('healthz', url))).status).toBe(200);
      expect((await fetch(new URL('api/queues', url))).status).toBe(401);
      const refused = await fetch(new URL('api/jobs/pdf', url), { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: '{}' });
      expect(refused.status).toBe(403);
      // The password never appears in the log.
      expect(JSON.stringify(bin.lines)).not.toContain(PASSWORD);

      bin.child.kill('SIGTERM');
      expect(await bin.exit).toBe(0);
      expect(bin.lines.map((line) => line['msg'])).toEqual(expect.arrayContaining(['signal received: shutting down gracefully', 'board stopped']));
      expect(bin.other.join('')).toBe('');
    } finally {
      if (bin.child.exitCode === null) bin.child.kill('SIGKILL');
    }
  });

  it('refuses to start without credentials: exit 1 and a log line naming the variables', { timeout: 60_000 }, async () => {
    const bin = runBin({ ...testRedisEnv(), KAI_PREFIX: ctx.prefix, BOARD_PORT: '0' });
    expect(await bin.exit).toBe(1);
    const refusal = bin.lines.find((line) => line['level'] === 'error');
    expect(refusal).toMatchObject({ msg: 'board not started: configuration refused', code: 'CONFIG' });
    expect(String(refusal?.['error'])).toMatch(/BOARD_USERNAME and BOARD_PASSWORD .*BOARD_TOKEN/);
  });
});
