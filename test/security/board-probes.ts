/**
 * What the board's security probes share: the board in this process or as its real process (`kai-jobs-board`),
 * the list of every mutating route (read from the installed Bull Board, so a route a later
 * version adds is probed too), the spellings an attacker would try, and a reverse proxy
 * that appends `X-Forwarded-For` as nginx does.
 */
import { spawn } from 'node:child_process';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { testRedisEnv, type RedisTestContext } from '@kai-jobs/queue/testing';
import { startWorkerProcess, stopWorkerProcess, type WorkerProcess } from '../../packages/workers/test/fixtures/worker-process.js';
import { createMemoryLogger } from '@kai-jobs/queue';
import type { StartBoardOptionsInput } from '../../apps/board/src/index.js';
import { PASSWORD, startTestBoard, TOKEN, USER } from '../../apps/board/test/support.js';

const BOARD_BIN = fileURLToPath(new URL('../../apps/board/src/bin/board.ts', import.meta.url));

/** A running board, however started. */
export interface BoardUnderTest {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  readonly origin: string;
  /** Every answer's method, path and status (the board's `request` debug log). */
  requests(): { method: string; path: string; status: number }[];
  /** The messages it logged, in order. */
  messages(): string[];
}

/** A running `kai-jobs-board` process. */
export interface BoardProcess extends BoardUnderTest {
  readonly process: WorkerProcess;
}

/**
 * Starts the board's own entry point on 127.0.0.1 (a free port) with the test's Redis,
 * prefix and credentials, logging every request; stopped after the test. For what depends
 * on how the environment is read (BOARD_TRUST_PROXY); it takes seconds to start.
 */
export async function startBoardProcess(ctx: RedisTestContext, env: Record<string, string> = {}): Promise<BoardProcess> {
  const started = await startWorkerProcess({
    script: BOARD_BIN,
    readyMessage: 'board listening',
    prefix: ctx.prefix,
    workerId: 'board',
    env: {
      ...testRedisEnv(),
      BOARD_HOST: '127.0.0.1',
      BOARD_PORT: '0',
      BOARD_USERNAME: USER,
      BOARD_PASSWORD: PASSWORD,
      BOARD_TOKEN: TOKEN,
      LOG_LEVEL: 'debug',
      ...env,
    },
  });
  ctx.manage('board process', { close: () => stopWorkerProcess(started) });
  const listening = started.logs.find((line) => line['msg'] === 'board listening');
  return {
    origin: new URL(String(listening?.['url'])).origin,
    process: started,
    messages: () => started.logs.map((line) => String(line['msg'])),
    requests: () =>
      started.logs
        .filter((line) => line['msg'] === 'request')
        .map((line) => ({ method: String(line['method']), path: String(line['path']), status: Number(line['status']) })),
  };
}

/**
 * The board (`startBoard`, the function the entry point calls) in this process, listening
 * on 127.0.0.1 with the test's prefix and credentials, logging into memory.
 */
export async function startBoardInProcess(ctx: RedisTestContext, overrides: StartBoardOptionsInput = {}): Promise<BoardUnderTest> {
  const logger = createMemoryLogger();
  const board = await startTestBoard(ctx, { logger, ...overrides });
  return {
    origin: new URL(board.url).origin,
    messages: () => logger.lines.map((line) => line.message),
    requests: () =>
      logger.lines
        .filter((line) => line.message === 'request')
        .map((line) => ({ method: String(line.fields['method']), path: String(line.fields['path']), status: Number(line.fields['status']) })),
  };
}

/** Runs the board process with settings it must refuse; resolves with its exit code and what it logged. */
export async function refusedBoardProcess(ctx: RedisTestContext, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', BOARD_BIN], {
    env: { ...process.env, ...testRedisEnv(), KAI_PREFIX: ctx.prefix, BOARD_HOST: '127.0.0.1', BOARD_PORT: '0', BOARD_USERNAME: USER, BOARD_PASSWORD: PASSWORD, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  return { code, output };
}

/** One mutating route: its method and its Express pattern (`/api/queues/:queueName/pause`). */
export interface MutatingRoute {
  method: string;
  route: string;
}

const requireFromBoard = createRequire(new URL('../../apps/board/package.json', import.meta.url));

/**
 * Every mutating route the board serves: Bull Board's (read from the installed
 * `@bull-board/api`, whatever its version declares) and the enqueue API's.
 */
export function mutatingRoutes(): MutatingRoute[] {
  const { appRoutes } = requireFromBoard('@bull-board/api/dist/routes.js') as {
    appRoutes: { api: { method: string | string[]; route: string | string[] }[] };
  };
  const routes: MutatingRoute[] = [];
  for (const entry of appRoutes.api) {
    for (const method of [entry.method].flat()) {
      for (const route of [entry.route].flat()) {
        if (!['get', 'head', 'options'].includes(method.toLowerCase())) routes.push({ method: method.toUpperCase(), route });
      }
    }
  }
  routes.push({ method: 'POST', route: '/api/jobs/:type' });
  return routes;
}

/** Values for the route parameters: a real queue and job, so a route that got through would act. */
export interface RouteParams {
  queueName: string;
  jobId: string;
  [name: string]: string;
}

const DEFAULT_PARAMS: Record<string, string> = { queueStatus: 'failed', schedulerId: 'no-such-scheduler', type: 'pdf' };

/** Ways to spell a path that Express (or a decoder in front of it) may route to the same handler. */
export const SPELLINGS = ['lower', 'upper', 'mixed', 'percent-encoded', 'double-slash', 'upper-trailing-slash'] as const;
/** One of {@link SPELLINGS}. */
export type Spelling = (typeof SPELLINGS)[number];

function respell(segment: string, spelling: Spelling): string {
  switch (spelling) {
    case 'lower':
    case 'double-slash':
      return segment;
    case 'upper':
    case 'upper-trailing-slash':
      return segment.toUpperCase();
    case 'mixed':
      return [...segment].map((char, index) => (index % 2 === 0 ? char.toUpperCase() : char.toLowerCase())).join('');
    case 'percent-encoded':
      return [...segment].map((char) => (/[a-z]/i.test(char) ? `%${char.charCodeAt(0).toString(16).toUpperCase()}` : char)).join('');
  }
}

/**
 * The route's path in one spelling: its literal segments respelled, its parameters filled
 * in unchanged (a queue name is case-sensitive to Bull Board, so an attacker keeps it).
 */
export function spellRoute(route: string, params: RouteParams, spelling: Spelling): string {
  const segments = route
    .split('/')
    .filter((segment) => segment !== '')
    .map((segment) => {
      if (!segment.startsWith(':')) return respell(segment, spelling);
      const value = params[segment.slice(1)] ?? DEFAULT_PARAMS[segment.slice(1)];
      if (value === undefined) throw new Error(`no value for the parameter ${segment} of ${route}`);
      return encodeURIComponent(value);
    });
  const separator = spelling === 'double-slash' ? '//' : '/';
  return `${separator}${segments.join(separator)}${spelling === 'upper-trailing-slash' ? '/' : ''}`;
}

/** A reverse proxy on 127.0.0.1 in front of `target`, appending the client's address to `X-Forwarded-For`. */
export interface ForwardingProxy {
  readonly origin: string;
  close(): Promise<void>;
}

/**
 * Starts a reverse proxy that forwards every request to `target` and appends the address it
 * was connected from to `X-Forwarded-For` (nginx's `$proxy_add_x_forwarded_for`), so the
 * last entry is the only one the client did not write.
 */
export async function startForwardingProxy(target: string): Promise<ForwardingProxy> {
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    const forwarded = req.headers['x-forwarded-for'];
    const chain = [forwarded, req.socket.remoteAddress?.replace(/^::ffff:/, '')].flat().filter((part) => part !== undefined && part !== '');
    const headers: IncomingHttpHeaders = { ...req.headers, 'x-forwarded-for': chain.join(', ') };
    const outgoing = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, localAddress: '127.0.0.1' },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    outgoing.on('error', () => res.writeHead(502).end());
    req.pipe(outgoing);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A GET/POST from a chosen loopback source address (127.0.0.x), as a distinct client would
 * connect; Node's fetch cannot pick its source address, so this uses `http.request`.
 */
export function requestFrom(
  localAddress: string,
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const outgoing = request({ host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, headers, localAddress }, (answer) => {
      let body = '';
      answer.setEncoding('utf8');
      answer.on('data', (chunk: string) => (body += chunk));
      answer.on('end', () => resolve({ status: answer.statusCode ?? 0, headers: answer.headers, body }));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}
