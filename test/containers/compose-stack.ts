/**
 * The compose stack of `pnpm test:containers`: docker-compose.yml as users get it plus
 * test/containers/docker-compose.test.yml (host networking and spare ports), under a project
 * name of its own, on the engine DOCKER_HOST names. Commands are run with docker and
 * docker-compose (the Debian packages), as a user would.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';

const execFileAsync = promisify(execFile);

/** The repository's root, where docker-compose.yml is. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The users' compose file and the test-only override, in the order docker-compose merges them. */
export const COMPOSE_FILES = ['docker-compose.yml', 'test/containers/docker-compose.test.yml'];

/** A free TCP port on 127.0.0.1 (closed again before it is returned). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/** One container of the stack, as `docker inspect` describes it. */
export interface ContainerInfo {
  id: string;
  name: string;
  service: string;
  running: boolean;
  restartCount: number;
  exitCode: number;
  user: string;
  readOnly: boolean;
}

/** A running stack and the commands the tests use on it. */
export interface ComposeStack {
  readonly project: string;
  readonly redisUrl: string;
  readonly boardUrl: string;
  readonly prefix: string;
  readonly credentials: { username: string; password: string };
  /** docker-compose with the two files and the stack's environment. */
  compose(args: readonly string[], timeoutMs?: number): Promise<string>;
  /** docker, on the same engine. */
  docker(args: readonly string[], timeoutMs?: number): Promise<string>;
  /** The containers of a service (running or not), oldest first. */
  containers(service: string): Promise<ContainerInfo[]>;
  /** The worker id a worker container logged when it (last) started (its `worker runtime started` line). */
  workerIdOf(containerId: string): Promise<string | null>;
  down(): Promise<void>;
}

/** Starts the stack with `workers` worker replicas (and the file's monitors and board); resolves once Redis is healthy. */
export async function startStack(options: { workers: number; env?: Record<string, string> }): Promise<ComposeStack> {
  const project = `kaitest${randomBytes(3).toString('hex')}`;
  const [redisPort, boardPort] = [await freePort(), await freePort()];
  const credentials = { username: 'ops', password: randomBytes(12).toString('hex') };
  const prefix = `kct-${randomBytes(3).toString('hex')}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KAI_TEST_REDIS_PORT: String(redisPort),
    KAI_TEST_BOARD_PORT: String(boardPort),
    KAI_PREFIX: prefix,
    BOARD_USERNAME: credentials.username,
    BOARD_PASSWORD: credentials.password,
    ...options.env,
  };
  const run = async (command: string, args: readonly string[], timeoutMs = 120_000): Promise<string> => {
    try {
      const { stdout } = await execFileAsync(command, args, { cwd: ROOT, env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
      return stdout;
    } catch (error) {
      const failed = error as { stderr?: string; message: string };
      throw new Error(`${command} ${args.join(' ')} failed: ${failed.stderr ?? failed.message}`, { cause: error });
    }
  };
  const stackFile = join(mkdtempSync(join(tmpdir(), 'kai-compose-')), 'docker-compose.yml');
  writeFileSync(stackFile, mergedStackFile(env));
  const compose = (args: readonly string[], timeoutMs?: number) => run('docker-compose', ['-p', project, '--project-directory', ROOT, '-f', stackFile, ...args], timeoutMs);
  const docker = (args: readonly string[], timeoutMs?: number) => run('docker', args, timeoutMs);
  const stack: ComposeStack = {
    project,
    redisUrl: `redis://127.0.0.1:${redisPort}`,
    boardUrl: `http://127.0.0.1:${boardPort}/`,
    prefix,
    credentials,
    compose,
    docker,
    async containers(service) {
      const ids = (await docker(['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`, '--filter', `label=com.docker.compose.service=${service}`])).split('\n').filter(Boolean);
      if (ids.length === 0) return [];
      const inspected = JSON.parse(await docker(['inspect', ...ids])) as {
        Id: string;
        Name: string;
        Created: string;
        RestartCount: number;
        State: { Running: boolean; ExitCode: number };
        Config: { User: string; Labels: Record<string, string> };
        HostConfig: { ReadonlyRootfs: boolean };
      }[];
      return inspected
        .sort((a, b) => a.Created.localeCompare(b.Created))
        .map((entry) => ({
          id: entry.Id,
          name: entry.Name.replace(/^\//, ''),
          service: entry.Config.Labels['com.docker.compose.service'] ?? '',
          running: entry.State.Running,
          restartCount: entry.RestartCount,
          exitCode: entry.State.ExitCode,
          user: entry.Config.User,
          readOnly: entry.HostConfig.ReadonlyRootfs,
        }));
    },
    async workerIdOf(containerId) {
      const { stdout, stderr } = await execFileAsync('docker', ['logs', containerId], { env, maxBuffer: 64 * 1024 * 1024 });
      // The latest start: a container restarted by its policy logs a new worker id.
      const ids = [...(stdout + stderr).matchAll(/"workerId":"([^"]+)"[^\n]*"msg":"worker runtime started"/g)].map((match) => match[1] as string);
      return ids.at(-1) ?? null;
    },
    async down() {
      await compose(['down', '-v', '--remove-orphans', '-t', '5'], 180_000);
    },
  };
  try {
    await compose(['up', '-d', '--no-build', '--scale', `worker=${options.workers}`, '--scale', 'monitor=2'], 300_000);
  } catch (error) {
    await stack.down().catch(() => undefined);
    throw error;
  }
  return stack;
}

/**
 * The two files merged as docker-compose merges them (`docker-compose -f … -f … config`), minus
 * the published ports of the services the override puts on the host network: docker-compose 1.x
 * (Debian's) refuses port bindings there and cannot drop a list entry in an override (Compose
 * v2's `!reset`). With host networking a published port means nothing anyway.
 */
export function mergedStackFile(env: NodeJS.ProcessEnv): string {
  const merged = execFileSync('docker-compose', [...COMPOSE_FILES.flatMap((file) => ['-f', file]), 'config'], { cwd: ROOT, env, encoding: 'utf8' });
  const file = parse(merged) as { services: Record<string, { network_mode?: string; ports?: unknown }> };
  for (const service of Object.values(file.services)) {
    if (service.network_mode === 'host') delete service.ports;
  }
  // JSON, which is YAML too: docker-compose's YAML 1.1 parser would read a plain `yes` as true.
  return JSON.stringify(file, null, 2);
}
