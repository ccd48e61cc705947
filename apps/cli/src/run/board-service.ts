import type { Logger } from '@kai-jobs/queue';
import type { Environment } from '../config/cli-env.js';

/** A running board and how to log in to it. */
export interface BoardService {
  readonly url: string;
  /** How to log in, for the banner (a generated password is shown only here). */
  readonly login: { username: string | null; password: string | null; token: boolean; generated: boolean; authOff: boolean };
  close(): Promise<void>;
}

/** Placeholder until the board is merged. */
export async function startBoardService(_env: Environment, _logger: Logger, _options: { generatePassword: boolean }): Promise<BoardService | null> {
  return null;
}
