import { maskRedisUrl } from '@kai-jobs/queue';
import type { CommandSpec } from '../cli/command.js';
import type { BoardService } from '../run/board-service.js';
import { ExitCode } from '../cli/exit-codes.js';
import { envValue, parseCliEnv } from '../config/cli-env.js';
import { sharedJobStore } from '../config/shared-store-set.js';
import { writeJson, writeLines } from '../output/format.js';
import { createCommandLogger } from '../run/logging.js';
import { requireRedis } from '../run/redis-probe.js';
import { untilStopped } from '../run/until-stopped.js';

/** `start`'s default `STALLED_INTERVAL_MS` (the workers' default is 30000). */
export const START_STALLED_INTERVAL_MS = '5000';

/** `kai-jobs start` — workers, monitor and board in one process. */
export const startCommand: CommandSpec = {
  name: 'start',
  summary: 'run everything in one process: workers of all three types, the monitor and the board',
  usage: 'start [--json]',
  description:
    'Runs the workers of all three job types, the monitor and the board (BOARD_PORT, default 3000, on 127.0.0.1 unless ' +
    'BOARD_HOST says otherwise) in one process against REDIS_URL — what "pnpm start" runs. Prints the board\'s URL and ' +
    'how to log in: without BOARD_USERNAME/BOARD_PASSWORD/BOARD_TOKEN it generates a password for this run (user ' +
    '"admin"). Ctrl-C, SIGINT, SIGTERM or SIGHUP stops everything gracefully and exits 0 (running jobs are handed back ' +
    'to the queue, the worker deregisters); a second signal at least 1 s after the first exits at once (128 + the signal\'s number). The scrape and XML workers refuse private addresses ' +
    '(SSRF guard): set SCRAPE_ALLOW=127.0.0.1 to crawl local sites (the demo needs it). Every worker and monitor ' +
    'variable applies; STALLED_INTERVAL_MS defaults to 5000 here, so the job of a worker that died is taken over seconds ' +
    'after its lock expires. Exit 1 when Redis is unreachable (with how to get one).',
  handlesSignals: true,
  positionals: [],
  options: {},
  examples: ['kai-jobs start', 'SCRAPE_ALLOW=127.0.0.1 pnpm start      # then "pnpm demo" in another terminal', 'BOARD_PORT=8080 BOARD_USERNAME=ops BOARD_PASSWORD=… kai-jobs start', 'REDIS_URL=redis://redis.internal:6379 kai-jobs start --json'],
  async run({ io, json }) {
    // One machine, one process: check for stalled jobs often, so the job of a worker that died
    // (the demo's) is handed back seconds after its lock expires, not after a minute.
    const env = { ...io.env, STALLED_INTERVAL_MS: envValue(io.env, 'STALLED_INTERVAL_MS') ?? START_STALLED_INTERVAL_MS };
    const config = parseCliEnv(env);
    await requireRedis(config.redis, 'pnpm start');
    const { startWorkerService } = await import('../run/worker-service.js');
    const { createMonitorService } = await import('../run/monitor-service.js');
    const { startBoardService } = await import('../run/board-service.js');
    const logger = createCommandLogger(env, io.stderr, 'kai-jobs', json);
    const stores = sharedJobStore(env, logger);
    const stops: (() => Promise<void>)[] = [];
    const stopAll = async (): Promise<void> => {
      for (const stop of stops.reverse()) await stop();
      await stores?.close();
      await logger.flush();
    };
    try {
      const workers = await startWorkerService(env, logger.child({ component: 'worker' }), stores);
      stops.push(() => workers.shutdown());
      const monitor = createMonitorService(env, logger.child({ component: 'monitor' }), stores);
      stops.push(() => monitor.close());
      await monitor.monitor.start();
      // Stopped first: no new requests while the workers and the monitor wind down.
      const board = await startBoardService(env, logger.child({ component: 'board' }), { generatePassword: true, ...(stores === null ? {} : { statusStore: stores }) });
      stops.push(() => board.close());
      const ready = {
        ready: true,
        pid: process.pid,
        redis: { url: maskRedisUrl(config.redis.url), prefix: config.redis.prefix },
        workerId: workers.runtime.workerId,
        types: workers.config.types,
        monitorId: monitor.monitor.monitorId,
        board: { url: board.url, ...board.login },
      };
      logger.info('kai-jobs ready', { workerId: ready.workerId, monitorId: ready.monitorId, board: board.url });
      if (json) writeJson(io.stdout, ready);
      else writeLines(io.stdout, banner(ready.types, board));
      await untilStopped(io.stopSignal);
      logger.info('stopping: the board, the monitor, then the workers (gracefully)', {});
    } finally {
      await stopAll();
    }
    return ExitCode.Ok;
  },
};

function banner(types: readonly string[], board: BoardService): string[] {
  const lines = [`kai-jobs is running: workers (${types.join(', ')}), the monitor and the board.`, `board ready: ${board.url}`];
  const { login } = board;
  if (login.authOff) lines.push('log in: no credentials needed (BOARD_AUTH=off, loopback only)');
  else if (login.generated) lines.push(`log in as: ${login.username} / ${login.password}   (generated for this run; set BOARD_USERNAME and BOARD_PASSWORD to choose)`);
  else if (login.username !== null) lines.push(`log in as: ${login.username} with BOARD_PASSWORD${login.token ? ', or send BOARD_TOKEN as a bearer token' : ''}`);
  else lines.push('log in: send BOARD_TOKEN as a bearer token (Authorization: Bearer …)');
  lines.push('try it: "pnpm demo" in another terminal (start with SCRAPE_ALLOW=127.0.0.1 for its scrape sample)', 'stop: Ctrl-C or SIGTERM (graceful: jobs are handed back, the worker deregisters; a second one a second later stops at once)');
  return lines;
}
