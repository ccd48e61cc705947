import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { toError } from '@kai-jobs/queue';
import { createBoardApp, type BoardApp } from './board-app.js';
import { AuthMode, parseStartBoardOptions, type StartBoardOptionsInput } from './config.js';

/** A running board. */
export interface RunningBoard {
  /** `http://<host>:<port><basePath>/` — where the board answers. */
  readonly url: string;
  /** The port actually bound (useful with `port: 0`). */
  readonly port: number;
  readonly board: BoardApp;
  /** Stops accepting connections, lets running requests finish (up to `shutdownGraceMs`), closes Redis. */
  close(): Promise<void>;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Creates the board and listens on `host:port` (default 127.0.0.1:3000). Throws
 * `ConfigError` before listening when the options are unsafe (no credentials; auth off
 * off loopback). An unreachable Redis does not stop it: it starts, logs a warning, and
 * `/readyz` answers 503 until Redis is back.
 */
export async function startBoard(input: StartBoardOptionsInput = {}): Promise<RunningBoard> {
  const options = parseStartBoardOptions(input);
  const { port: requestedPort, shutdownGraceMs, ...appOptions } = options;
  const board = createBoardApp(appOptions);
  const { logger } = board.options;
  const server = createServer(board.app);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(requestedPort, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await board.close();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const url = `http://${urlHost(options.host)}:${port}${options.basePath}/`;
  try {
    await board.ready();
  } catch (error) {
    logger.warn('Redis is not reachable yet; the board is up and /readyz answers 503 until it is', {
      error: toError(error).message,
    });
  }
  logger.info('board listening', {
    url,
    auth: options.auth.mode === AuthMode.Off ? 'off (loopback only)' : 'on',
    readOnly: options.readOnly,
  });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const cut = setTimeout(() => server.closeAllConnections(), shutdownGraceMs);
      cut.unref();
      await closed;
      clearTimeout(cut);
      await board.close();
      logger.info('board stopped');
    })();
    return closing;
  };
  return { url, port, board, close };
}
