/**
 * The container files, checked without Docker: docker-compose.yml is resolved as
 * `docker compose config` resolves it (./compose/compose-file.ts: interpolation, the Compose
 * Specification's JSON schema, references), then held to what the README promises; the
 * Dockerfile is read as text.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/index.js';
import { loadComposeFile, type ComposeFile, type ComposeService } from './compose/compose-file.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');
/** The services built from this repository's image. */
const KAI_SERVICES = ['worker', 'monitor', 'board'] as const;
const SECRETS = ['SENTRY_DSN', 'SUPABASE_SERVICE_ROLE_KEY', 'BOARD_PASSWORD', 'BOARD_TOKEN', 'EMBEDDINGS_API_KEY', 'MATERIALS_LLM_API_KEY', 'FIRECRAWL_API_KEY'];

/** The file as Compose resolves it in an empty environment (no shell variables, no .env). */
function resolved(env: Record<string, string> = {}): ComposeFile {
  return loadComposeFile(COMPOSE_FILE, env);
}

function service(file: ComposeFile, name: string): ComposeService {
  const found = file.services[name];
  if (found === undefined) throw new Error(`docker-compose.yml has no service "${name}"`);
  return found;
}

/** The value after `flag` in a command list (`--appendonly yes` → `yes`). */
function flag(command: ComposeService['command'], name: string): string | undefined {
  const args = typeof command === 'string' ? command.split(/\s+/) : (command ?? []);
  const at = args.indexOf(name);
  return at === -1 ? undefined : args[at + 1];
}

describe('containers', () => {
  it('docker-compose.yml is a valid Compose file with the four services, and Compose has nothing to warn about', () => {
    const file = resolved();
    expect(Object.keys(file.services).sort()).toEqual(['board', 'monitor', 'redis', 'worker']);
    // No variable without a default, no obsolete `version:`.
    expect(file.warnings).toEqual([]);
  });

  it('Redis keeps its data: AOF fsynced every second, no eviction, a named volume, a healthcheck, published on loopback only', () => {
    const redis = service(resolved(), 'redis');
    expect(redis.command?.[0]).toBe('redis-server');
    expect(flag(redis.command, '--appendonly')).toBe('yes');
    expect(flag(redis.command, '--appendfsync')).toBe('everysec');
    expect(flag(redis.command, '--maxmemory-policy')).toBe('noeviction');
    expect(redis.volumes).toEqual([{ type: 'volume', source: 'redis-data', target: '/data', readOnly: false }]);
    expect(redis.healthcheck?.test).toEqual(['CMD', 'redis-cli', 'ping']);
    expect(redis.ports).toEqual([{ target: 6379, published: '6379', hostIp: '127.0.0.1', protocol: 'tcp' }]);
  });

  it('3 workers sharing the artifacts volume, with a stop grace longer than their shutdown grace; 2 monitors; the board on 3000', () => {
    const file = resolved();
    const worker = service(file, 'worker');
    expect(worker.replicas).toBe(3);
    expect(worker.init).toBe(true);
    expect(worker.environment['SHUTDOWN_GRACE_MS']).toBe('30000');
    expect(worker.stopGracePeriodMs).toBe(45_000);
    expect(worker.stopGracePeriodMs).toBeGreaterThan(Number(worker.environment['SHUTDOWN_GRACE_MS']));
    expect(worker.volumes).toEqual([
      { type: 'volume', source: 'artifacts', target: '/data/artifacts', readOnly: false },
      // `file` sources are off without FILE_ROOT: the uploads volume, read-only, is the one root.
      { type: 'volume', source: 'uploads', target: '/data/uploads', readOnly: true },
    ]);
    expect(worker.environment['ARTIFACTS_DIR']).toBe('/data/artifacts');
    expect(worker.environment['FILE_ROOT']).toBe('/data/uploads');

    const monitor = service(file, 'monitor');
    expect(monitor.replicas).toBe(2);
    expect(monitor.environment['SENTRY_DSN']).toBe('');

    const board = service(file, 'board');
    expect(board.replicas).toBe(1);
    expect(board.ports).toEqual([{ target: 3000, published: '3000', hostIp: undefined, protocol: 'tcp' }]);
    expect(board.environment['BOARD_PORT']).toBe('3000');
    expect(board.healthcheck?.test[0]).toBe('CMD');
    // On BOARD_PORT (3000 here): the check follows the port the board listens on.
    expect(board.healthcheck?.test.join(' ')).toContain("fetch('http://127.0.0.1:' + (process.env.BOARD_PORT || 3000) + '/healthz')");
  });

  it('the kai-jobs services run a kai-jobs command from the one image, once Redis is healthy', () => {
    const file = resolved();
    const commands = COMMANDS.map((command) => command.name);
    for (const name of KAI_SERVICES) {
      const kai = service(file, name);
      expect(kai.build).toEqual({ context: '.', dockerfile: 'Dockerfile' });
      expect(existsSync(join(ROOT, kai.build?.context ?? '', kai.build?.dockerfile ?? ''))).toBe(true);
      expect(kai.image).toBe('kai-jobs:local');
      expect(kai.command).toEqual([name]);
      expect(commands).toContain(name);
      expect(kai.dependsOn).toEqual({ redis: { condition: 'service_healthy', required: true, restart: false } });
      expect(kai.environment['REDIS_URL']).toBe('redis://redis:6379');
    }
  });

  it('secrets pass through from the environment and default to empty, never to a value', () => {
    const withoutSecrets = resolved();
    const withSecrets = resolved(Object.fromEntries(SECRETS.map((name) => [name, `value-of-${name}`])));
    let seen = 0;
    for (const name of Object.keys(withoutSecrets.services)) {
      for (const secret of SECRETS) {
        const empty = service(withoutSecrets, name).environment[secret];
        if (empty === undefined) continue;
        seen++;
        expect(empty, `${name}.${secret}`).toBe('');
        expect(service(withSecrets, name).environment[secret], `${name}.${secret}`).toBe(`value-of-${secret}`);
      }
    }
    expect(seen).toBeGreaterThanOrEqual(SECRETS.length);
  });

  it('variables resolve as Compose resolves them: a set value wins, an empty one falls back to its :- default', () => {
    const file = resolved({ SHUTDOWN_GRACE_MS: '5000', KAI_PREFIX: '', LOG_LEVEL: 'debug' });
    const worker = service(file, 'worker');
    expect(worker.environment['SHUTDOWN_GRACE_MS']).toBe('5000');
    expect(worker.environment['KAI_PREFIX']).toBe('kai');
    expect(service(file, 'board').environment['LOG_LEVEL']).toBe('debug');
  });

  it('the Dockerfile is multi-stage on node:22-slim, runs the compiled code as a non-root user, with exec-form commands', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    // pnpm, build (all dependencies, `node scripts/build.mjs`), prod-deps (--prod), runtime.
    expect(dockerfile.match(/^FROM .+ AS (\S+)$/gm)?.map((line) => line.split(' AS ')[1])).toEqual(['pnpm', 'build', 'prod-deps', 'runtime']);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:22-slim$/m);
    expect(dockerfile).toMatch(/npm install -g pnpm@12\.4\.2/);
    expect(dockerfile).toMatch(/^RUN node scripts\/build\.mjs --clean$/m);
    expect(dockerfile).toMatch(/pnpm install --frozen-lockfile --prod\b/);
    expect(dockerfile).toMatch(/^USER node$/m);
    // Plain node on the compiled binary: no tsx in the image.
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "apps\/cli\/dist\/bin\/kai-jobs\.js"\]$/m);
    expect(dockerfile.split('\n').filter((line) => !line.startsWith('#')).join('\n')).not.toContain('tsx');
    expect(dockerfile).toMatch(/^CMD \["start"\]$/m);
    // Every workspace package's manifest is copied before the install, or the lockfile would not match.
    const workspace = ['packages', 'apps'].flatMap((group) =>
      readdirSync(join(ROOT, group)).filter((name) => existsSync(join(ROOT, group, name, 'package.json'))).map((name) => `${group}/${name}`),
    );
    expect(workspace.length).toBeGreaterThanOrEqual(6);
    for (const dir of workspace) expect(dockerfile).toContain(`COPY ${dir}/package.json ${dir}/`);
    // Every file the dependency stage copies exists, or `docker build` stops there.
    for (const match of dockerfile.matchAll(/^COPY (?!--from)(?:--\S+ )*(.+) \S+$/gm)) {
      for (const source of (match[1] as string).split(' ')) {
        if (source !== '.') expect(existsSync(join(ROOT, source)), `COPY ${source}`).toBe(true);
      }
    }
  });
});
