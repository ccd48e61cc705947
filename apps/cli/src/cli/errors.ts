import { KaiJobsError } from '@kai-jobs/queue';

/** Stable codes of the CLI's own errors. */
export const CliErrorCode = {
  Usage: 'USAGE',
  CommandFailed: 'COMMAND_FAILED',
} as const;
/** One of {@link CliErrorCode}. */
export type CliErrorCode = (typeof CliErrorCode)[keyof typeof CliErrorCode];

/**
 * The command line is wrong: an unknown command or flag, a missing argument, a value of the
 * wrong kind. Exit code 2; the message says what was wrong and, where possible, what was meant.
 */
export class UsageError extends KaiJobsError {
  override name = 'UsageError' as const;
  /** The command whose usage to show (`kai-jobs <command> --help`), when known. */
  readonly command: string | null;
  constructor(message: string, command: string | null = null) {
    super(CliErrorCode.Usage, message, { retryable: false });
    this.command = command;
  }
}

/**
 * The command ran and its outcome is a failure that is already explained (a job that
 * failed, a drill that did not pass). Exit code 1.
 */
export class CommandFailedError extends KaiJobsError {
  override name = 'CommandFailedError' as const;
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(CliErrorCode.CommandFailed, message, { retryable: false, ...options });
  }
}
