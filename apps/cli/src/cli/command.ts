import type { ExitCode } from './exit-codes.js';
import type { ParsedArgs } from './args.js';

/** Something the CLI writes to: a process stream, or a buffer in tests. */
export interface OutputStream {
  write(chunk: string): unknown;
  /** True on a terminal: progress bars and colours only then. */
  isTTY?: boolean;
  /** Terminal width, when known. */
  columns?: number;
}

/**
 * Everything a command may touch outside itself. The binary passes the process's streams,
 * environment and a signal aborted on SIGTERM/SIGINT; tests pass buffers and their own.
 */
export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
  /** The environment the command reads its configuration from. */
  env: Record<string, string | undefined>;
  /** Aborted when the process is asked to stop (long-running commands shut down gracefully). */
  stopSignal: AbortSignal;
  /** The working directory relative paths are resolved against. */
  cwd: string;
  /**
   * Called with an error that ends a command with exit 1 (not a usage or configuration
   * mistake), before the exit code is returned: the binary reports it to Sentry.
   */
  reportFailure?: (error: Error, command: string) => Promise<void>;
}

/**
 * What a string flag's value must be. Declared on the flag so that every bad value of a
 * command line is found before the command runs, and reported together.
 */
export type OptionValueRule =
  | { kind: 'int'; min?: number; max?: number }
  | { kind: 'number'; min?: number; max?: number }
  | { kind: 'choice'; choices: readonly string[] };

/** One flag of a command. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  /** One-letter alias (`-h`). */
  short?: string;
  /** May be given more than once (values collected in order). */
  multiple?: boolean;
  /** Placeholder shown in help: `--priority <n>`. */
  valueName?: string;
  /** One line shown in help. */
  description: string;
  /** For string flags: the value's kind and range, checked with every other flag before the command runs. */
  value?: OptionValueRule;
}

/** One positional argument of a command. */
export interface PositionalSpec {
  name: string;
  required: boolean;
  description: string;
}

/** What a command gets when it runs. */
export interface CommandContext {
  io: CliIo;
  /** `--json`: print exactly one JSON document on stdout and nothing else there. */
  json: boolean;
}

/** A `kai-jobs` command: its help text and how it runs. */
export interface CommandSpec {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Synopsis after `kai-jobs`, e.g. `status <id> [--json]`. */
  usage: string;
  /** A paragraph for `--help`. */
  description: string;
  positionals: readonly PositionalSpec[];
  /** Flags besides the ones every command has (`--json`, `--help`). */
  options: Readonly<Record<string, OptionSpec>>;
  /** Complete command lines shown under "Examples". */
  examples: readonly string[];
  /**
   * True for commands that stop gracefully on SIGTERM/SIGINT (they watch `io.stopSignal`);
   * the binary then turns the first signal into that abort, and a second one exits at once.
   */
  handlesSignals?: boolean;
  run(context: CommandContext, args: ParsedArgs): Promise<ExitCode>;
}
