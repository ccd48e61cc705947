/**
 * The test prerequisites' decision: present, install (root with apt-get), or stop at once with
 * the one command — never skip. Hosts are described, not real, so every branch runs here; the
 * script that acts on the decision is run for real against this machine at the end.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  CHROMIUM_PREREQUISITE,
  chromiumPath,
  currentHost,
  DEFAULT_CHROMIUM_PATH,
  findExecutable,
  planPrerequisite,
  REDIS_SERVER_PREREQUISITE,
  type Host,
} from './prerequisites.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function host(files: readonly string[], options: { isRoot?: boolean; env?: Record<string, string> } = {}): Host {
  return {
    env: { PATH: '/usr/local/bin:/usr/bin:/bin', ...options.env },
    isRoot: options.isRoot ?? false,
    isExecutable: (path) => files.includes(path),
  };
}

describe('test prerequisites', () => {
  it('reads Chromium from CHROMIUM_PATH, else Debian’s path', () => {
    expect(chromiumPath({})).toBe('/usr/bin/chromium');
    expect(chromiumPath({ CHROMIUM_PATH: '' })).toBe(DEFAULT_CHROMIUM_PATH);
    expect(chromiumPath({ CHROMIUM_PATH: '/opt/chrome/chrome' })).toBe('/opt/chrome/chrome');
  });

  it('finds an executable by absolute path or on PATH', () => {
    const machine = host(['/usr/bin/redis-cli', '/opt/chromium']);
    expect(findExecutable('redis-cli', machine)).toBe('/usr/bin/redis-cli');
    expect(findExecutable('/opt/chromium', machine)).toBe('/opt/chromium');
    expect(findExecutable('redis-server', machine)).toBeUndefined();
  });

  it('present: nothing to do', () => {
    expect(planPrerequisite(CHROMIUM_PREREQUISITE, host(['/usr/bin/chromium']))).toEqual({ kind: 'present', paths: ['/usr/bin/chromium'] });
    expect(planPrerequisite(REDIS_SERVER_PREREQUISITE, host(['/usr/bin/redis-server', '/usr/bin/redis-cli']))).toEqual({
      kind: 'present',
      paths: ['/usr/bin/redis-server', '/usr/bin/redis-cli'],
    });
  });

  it('missing, as root with apt-get: install the Debian package, announced in one line', () => {
    const plan = planPrerequisite(CHROMIUM_PREREQUISITE, host(['/usr/bin/apt-get'], { isRoot: true }));
    expect(plan).toMatchObject({ kind: 'install', aptPackages: ['chromium'], command: 'apt-get update && apt-get install -y chromium' });
    if (plan.kind !== 'install') throw new Error('unreachable');
    expect(plan.announcement).not.toContain('\n');
    expect(plan.announcement).toContain('/usr/bin/chromium');
    expect(plan.announcement).toContain('apt-get update && apt-get install -y chromium');
    // The same under CI: CI goes the newcomer's way.
    expect(planPrerequisite(CHROMIUM_PREREQUISITE, host(['/usr/bin/apt-get'], { isRoot: true, env: { CI: 'true' } })).kind).toBe('install');
    expect(planPrerequisite(REDIS_SERVER_PREREQUISITE, host(['/usr/bin/apt-get', '/usr/bin/redis-cli'], { isRoot: true }))).toMatchObject({
      kind: 'install',
      aptPackages: ['redis-server'],
    });
  });

  it('missing, not root: stop with the one sudo command that installs it', () => {
    const plan = planPrerequisite(CHROMIUM_PREREQUISITE, host(['/usr/bin/apt-get'], { env: { CI: 'true' } }));
    expect(plan.kind).toBe('missing');
    if (plan.kind !== 'missing') throw new Error('unreachable');
    expect(plan.message).toContain("Chromium is missing (/usr/bin/chromium not found): the board's browser test");
    expect(plan.message).toContain('\n  sudo apt-get update && sudo apt-get install -y chromium\n');
  });

  it('missing, without apt-get: stop and say to install it and where to point CHROMIUM_PATH', () => {
    const plan = planPrerequisite(CHROMIUM_PREREQUISITE, host([], { isRoot: true }));
    expect(plan).toMatchObject({ kind: 'missing' });
    if (plan.kind !== 'missing') throw new Error('unreachable');
    expect(plan.message).toContain("install Chromium with your system's package manager, then set CHROMIUM_PATH to its binary");
  });

  it('a CHROMIUM_PATH that points at nothing: stop, even as root, since apt would not put Chromium there', () => {
    const plan = planPrerequisite(CHROMIUM_PREREQUISITE, host(['/usr/bin/apt-get', '/usr/bin/chromium'], { isRoot: true, env: { CHROMIUM_PATH: '/opt/none' } }));
    expect(plan).toMatchObject({ kind: 'missing' });
    if (plan.kind !== 'missing') throw new Error('unreachable');
    expect(plan.message).toContain('CHROMIUM_PATH is set to /opt/none; unset it');
  });

  it('the script passes for what is there, and refuses an unknown name or a missing path at once', { timeout: 30_000 }, () => {
    const run = (args: string[], env: Record<string, string> = {}) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'scripts/ensure-test-prerequisites.ts', ...args], {
        cwd: ROOT,
        env: { ...process.env, ...env },
        encoding: 'utf8',
      });
    // Any executable stands for Chromium here: the script checks that it is there, not what it is.
    expect(currentHost().isExecutable(process.execPath)).toBe(true);
    const present = run(['chromium'], { CHROMIUM_PATH: process.execPath });
    expect(present.status, present.stderr).toBe(0);
    expect(present.stdout).toBe('');

    const unknown = run(['firefox']);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('unknown prerequisite firefox; known: chromium, redis-server');

    const elsewhere = run(['chromium'], { CHROMIUM_PATH: '/nonexistent/chromium' });
    expect(elsewhere.status).toBe(1);
    expect(elsewhere.stderr).toContain('CHROMIUM_PATH is set to /nonexistent/chromium');
  });
});
