import type { CommandSpec } from '../cli/command.js';
import { ExitCode } from '../cli/exit-codes.js';
import { sharedJobStore } from '../config/shared-store-set.js';
import { writeJson, writeLines } from '../output/format.js';
import { createCommandLogger } from '../run/logging.js';
import { untilStopped } from '../run/until-stopped.js';

/** `kai-jobs board` — the board alone. */
export const boardCommand: CommandSpec = {
  name: 'board',
  summary: 'run the board (Bull Board, monitoring page, /metrics, enqueue API) until SIGTERM',
  usage: 'board [--json]',
  description:
    'Serves the board on BOARD_HOST:BOARD_PORT (default 127.0.0.1:3000): Bull Board over the job queues and job-monitor, ' +
    'the monitoring page, /metrics, /healthz, /readyz and the HTTP enqueue API. Authentication is on: it needs ' +
    'BOARD_USERNAME and BOARD_PASSWORD (basic auth) or BOARD_TOKEN (bearer), and refuses to start without them unless ' +
    'BOARD_AUTH=off on a loopback address. BOARD_READ_ONLY=true hides every mutation. Exit 2 on an unsafe or invalid ' +
    'configuration.',
  handlesSignals: true,
  positionals: [],
  options: {},
  examples: ['BOARD_USERNAME=ops BOARD_PASSWORD=… kai-jobs board', 'BOARD_TOKEN=… BOARD_HOST=0.0.0.0 BOARD_READ_ONLY=true kai-jobs board', 'BOARD_AUTH=off kai-jobs board --json'],
  async run({ io, json }) {
    const { startBoardService } = await import('../run/board-service.js');
    const logger = createCommandLogger(io.env, io.stderr, 'kai-board', json);
    const stores = sharedJobStore(io.env, logger);
    try {
      const board = await startBoardService(io.env, logger, { generatePassword: false, ...(stores === null ? {} : { statusStore: stores }) });
      const ready = { ready: true, url: board.url, port: board.port, auth: board.login.authOff ? 'off' : 'on' };
      if (json) writeJson(io.stdout, ready);
      else writeLines(io.stdout, [`board ready: ${board.url} (authentication ${ready.auth}; Ctrl-C stops it)`]);
      await untilStopped(io.stopSignal);
      await board.close();
      return ExitCode.Ok;
    } finally {
      await stores?.close();
      await logger.flush();
    }
  },
};
