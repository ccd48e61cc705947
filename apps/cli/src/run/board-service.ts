import { randomBytes } from 'node:crypto';
import { AuthMode, boardOptionsFromEnv, startBoard, type StartBoardOptionsInput } from '@kai-jobs/board';
import type { Logger, StatusStore } from '@kai-jobs/queue';
import { CommandFailedError } from '../cli/errors.js';
import type { Environment } from '../config/cli-env.js';
import { monitorSettings } from '../config/monitor-settings.js';

/** How to log in to a running board, for the banner. */
export interface BoardLogin {
  /** The basic-auth user, or null (token only, or auth off). */
  username: string | null;
  /** The password — only when it was generated for this run (never echo a configured one). */
  password: string | null;
  /** True when a bearer token (BOARD_TOKEN) is accepted. */
  token: boolean;
  /** True when the password was generated for this run. */
  generated: boolean;
  /** True with BOARD_AUTH=off (loopback only). */
  authOff: boolean;
}

/** A running board and how to log in to it. */
export interface BoardService {
  readonly url: string;
  readonly port: number;
  readonly login: BoardLogin;
  close(): Promise<void>;
}

/** The user name of a generated login. */
export const GENERATED_USERNAME = 'admin';

/**
 * Starts the board the environment describes (BOARD_PORT, BOARD_HOST, BOARD_USERNAME, …, read
 * by the board's own `boardOptionsFromEnv`), with the monitor's thresholds so its "stuck right
 * now" agrees with the monitor. With `generatePassword` (the all-in-one `start`) and no
 * credentials configured, it generates a password for this run instead of refusing to start.
 */
export async function startBoardService(
  env: Environment,
  logger: Logger,
  options: { generatePassword: boolean; statusStore?: StatusStore },
): Promise<BoardService> {
  const { options: boardOptions } = boardOptionsFromEnv(env);
  const auth = { ...(boardOptions.auth ?? {}) };
  let generated = false;
  if (options.generatePassword && auth.mode !== AuthMode.Off && auth.username === undefined && auth.password === undefined && auth.token === undefined) {
    auth.username = GENERATED_USERNAME;
    auth.password = randomBytes(12).toString('base64url');
    generated = true;
  }
  const thresholds = Object.fromEntries(
    Object.entries(monitorSettings(env).types).map(([type, settings]) => [type, { heartbeatTimeoutMs: settings.heartbeatTimeoutMs, updateTimeoutMs: settings.updateTimeoutMs }]),
  ) as StartBoardOptionsInput['thresholds'];
  let running;
  try {
    running = await startBoard({
      ...boardOptions,
      auth,
      logger,
      ...(thresholds === undefined ? {} : { thresholds }),
      ...(options.statusStore === undefined ? {} : { statusStore: options.statusStore }),
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      const where = `${boardOptions.host ?? '127.0.0.1'}:${boardOptions.port ?? 3000}`;
      throw new CommandFailedError(`the board cannot listen on ${where}: the port is in use — set BOARD_PORT to a free port (0 picks one) or stop what uses it`, { cause: error });
    }
    throw error;
  }
  return {
    url: running.url,
    port: running.port,
    login: {
      username: auth.mode === AuthMode.Off ? null : (auth.username ?? null),
      password: generated ? (auth.password ?? null) : null,
      token: auth.mode !== AuthMode.Off && auth.token !== undefined,
      generated,
      authOff: auth.mode === AuthMode.Off,
    },
    close: () => running.close(),
  };
}
