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
  /** Every problem found in the command line, each a sentence; one entry when there was one. */
  readonly problems: readonly string[];
  constructor(message: string, command: string | null = null, problems: readonly string[] = [message]) {
    super(CliErrorCode.Usage, message, { retryable: false });
    this.command = command;
    this.problems = problems;
  }

  /**
   * One error for every problem of a command line: the problem itself when there is one,
   * else a count and one line per problem — so a user fixes them all in one go.
   */
  static of(problems: readonly string[], command: string | null): UsageError {
    if (problems.length === 1) return new UsageError(problems[0] as string, command);
    const what = command === null ? 'the command line' : `"kai-jobs ${command}"`;
    return new UsageError(`${problems.length} problems with ${what}:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`, command, problems);
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
