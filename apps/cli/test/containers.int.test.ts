import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
// Installed by .ci/run (Debian package docker-compose, listed in .ci/apt-packages).
const COMPOSE = process.env['DOCKER_COMPOSE'] ?? 'docker-compose';
// Interpolation must not depend on this machine's environment (a set SENTRY_DSN, BOARD_PORT…).
const cleanEnv = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp' };

async function compose(...args: string[]): Promise<string> {
  const { stdout } = await run(COMPOSE, ['-f', 'docker-compose.yml', ...args], { cwd: ROOT, env: cleanEnv });
  return stdout;
}

describe('containers', () => {
  it('docker-compose accepts docker-compose.yml (config -q) with the four services', async () => {
    await expect(compose('config', '-q')).resolves.toBe('');
    expect((await compose('config', '--services')).trim().split('\n').sort()).toEqual(['board', 'monitor', 'redis', 'worker']);
  });

  it('the resolved file has AOF and noeviction, 3 workers with a grace longer than the shutdown grace, 2 monitors, the board on 3000', async () => {
    const config = await compose('config');
    const service = (name: string): string => {
      const start = config.indexOf(`\n  ${name}:\n`);
      const next = config.slice(start + 1).search(/\n {2}[a-z-]+:\n|\n[a-z]/);
      return config.slice(start, next === -1 ? undefined : start + 1 + next);
    };
    expect(service('redis')).toMatch(/- --appendonly\n\s+- 'yes'|- --appendonly\n\s+- "yes"/);
    expect(service('redis')).toMatch(/- --appendfsync\n\s+- everysec/);
    expect(service('redis')).toMatch(/- --maxmemory-policy\n\s+- noeviction/);
    expect(service('redis')).toMatch(/healthcheck:/);
    expect(service('redis')).toMatch(/redis-data:\/data/);
    const worker = service('worker');
    expect(worker).toMatch(/replicas: 3/);
    expect(worker).toMatch(/init: true/);
    expect(worker).toMatch(/stop_grace_period: 45s/);
    expect(worker).toMatch(/SHUTDOWN_GRACE_MS: '30000'/);
    expect(worker).toMatch(/artifacts:\/data\/artifacts/);
    expect(service('monitor')).toMatch(/replicas: 2/);
    expect(service('monitor')).toMatch(/SENTRY_DSN: ''/);
    expect(service('board')).toMatch(/published: 3000\n\s+target: 3000/);
    // Secrets pass through from the environment and default to empty, never to a value.
    for (const secret of ['SENTRY_DSN', 'SUPABASE_SERVICE_ROLE_KEY', 'BOARD_PASSWORD', 'BOARD_TOKEN', 'EMBEDDINGS_API_KEY']) {
      for (const match of config.matchAll(new RegExp(`${secret}: (.*)`, 'g'))) expect(match[1]).toBe("''");
    }
  });

  it('the Dockerfile is multi-stage on node:22-slim, runs as a non-root user, with exec-form commands', () => {
    const dockerfile = readFileSync(new URL('../../../Dockerfile', import.meta.url), 'utf8');
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:22-slim$/m);
    expect(dockerfile).toMatch(/npm install -g pnpm@12\.4\.2/);
    expect(dockerfile).toMatch(/pnpm install --frozen-lockfile --prod=false/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "--import", "tsx", "apps\/cli\/src\/bin\/kai-jobs\.ts"\]$/m);
    expect(dockerfile).toMatch(/^CMD \["start"\]$/m);
    // Every workspace package's manifest is copied before the install, or the lockfile would not match.
    const workspace = ['packages', 'apps'].flatMap((group) =>
      readdirSync(join(ROOT, group)).filter((name) => existsSync(join(ROOT, group, name, 'package.json'))).map((name) => `${group}/${name}`),
    );
    expect(workspace.length).toBeGreaterThanOrEqual(6);
    for (const dir of workspace) expect(dockerfile).toContain(`COPY ${dir}/package.json ${dir}/`);
  });
});
