import { readFileSync } from 'node:fs';
import { hasErrorCode, isKaiJobsError, QueueErrorCode, toError, type FieldIssue } from '@kai-jobs/queue';
import { parseCommandArgs } from './args.js';
import type { CliIo, CommandSpec } from './command.js';
import { CliErrorCode, UsageError } from './errors.js';
import { ExitCode } from './exit-codes.js';
import { commandHelp, mainHelp } from './help.js';
import { closestMatch } from './suggest.js';
import { writeJson } from '../output/format.js';

/** The CLI's version (from its package.json). */
export function cliVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}

/** How an error ends the command: its exit code and what to tell the user. */
interface ErrorReport {
  exitCode: ExitCode;
  message: string;
  hint: string | null;
}

function describeError(error: Error, command: string | null): ErrorReport {
  if (error instanceof UsageError || hasErrorCode(error, CliErrorCode.Usage)) {
    const target = (error as UsageError).command ?? command;
    return { exitCode: ExitCode.Usage, message: error.message, hint: `Run "kai-jobs ${target === null ? '' : `${target} `}--help" for usage.` };
  }
  if (hasErrorCode(error, QueueErrorCode.Validation)) {
    return { exitCode: ExitCode.Usage, message: error.message, hint: command === null ? null : `Run "kai-jobs ${command} --help" for the flags.` };
  }
  if (hasErrorCode(error, QueueErrorCode.Config)) {
    return { exitCode: ExitCode.Usage, message: error.message, hint: 'Fix the environment variable named above (see the README\'s configuration table).' };
  }
  if (hasErrorCode(error, QueueErrorCode.RedisUnreachable)) {
    return {
      exitCode: ExitCode.Failed,
      message: error.message,
      hint: 'Start Redis with "docker compose up -d redis" (from the repository) or a local "redis-server", or point REDIS_URL at yours.',
    };
  }
  return { exitCode: ExitCode.Failed, message: error.message, hint: null };
}

function reportError(io: CliIo, json: boolean, error: Error, command: string | null): ExitCode {
  const report = describeError(error, command);
  if (json) {
    const issues = (error as { issues?: readonly FieldIssue[] }).issues;
    writeJson(io.stdout, {
      error: {
        name: error.name,
        code: isKaiJobsError(error) ? error.code : null,
        message: report.message,
        ...(issues === undefined ? {} : { issues }),
        ...(error instanceof UsageError && error.problems.length > 1 ? { problems: error.problems } : {}),
        ...(report.hint === null ? {} : { hint: report.hint }),
      },
      exitCode: report.exitCode,
    });
  } else {
    io.stderr.write(`kai-jobs: ${report.message}\n${report.hint === null ? '' : `${report.hint}\n`}`);
  }
  return report.exitCode;
}

/**
 * Runs one `kai-jobs` command line (`argv` without the program name) and returns its exit
 * code. Never calls `process.exit` and never throws: every error becomes a message (or a
 * JSON document with `--json`) and an exit code.
 */
export async function runCli(commands: readonly CommandSpec[], argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const [first, ...rest] = argv;
  const json = argv.includes('--json');
  if (first === undefined) {
    io.stderr.write(mainHelp(commands));
    return ExitCode.Usage;
  }
  if (first === '--help' || first === '-h') {
    io.stdout.write(mainHelp(commands));
    return ExitCode.Ok;
  }
  if (first === '--version' || first === '-v') {
    if (json) writeJson(io.stdout, { version: cliVersion() });
    else io.stdout.write(`${cliVersion()}\n`);
    return ExitCode.Ok;
  }
  if (first === 'help') {
    const target = commands.find((command) => command.name === rest[0]);
    if (rest[0] !== undefined && target === undefined) return reportError(io, json, unknownCommand(commands, rest[0]), null);
    io.stdout.write(target === undefined ? mainHelp(commands) : commandHelp(target));
    return ExitCode.Ok;
  }
  const spec = commands.find((command) => command.name === first);
  if (spec === undefined) return reportError(io, json, unknownCommand(commands, first), null);
  try {
    const args = parseCommandArgs(spec, rest);
    if (args.flag('help')) {
      io.stdout.write(commandHelp(spec));
      return ExitCode.Ok;
    }
    return await spec.run({ io, json: args.flag('json') }, args);
  } catch (caught) {
    const error = toError(caught);
    if (io.reportFailure !== undefined && describeError(error, spec.name).exitCode === ExitCode.Failed) {
      await io.reportFailure(error, spec.name).catch(() => undefined);
    }
    return reportError(io, json, error, spec.name);
  }
}

function unknownCommand(commands: readonly CommandSpec[], name: string): UsageError {
  const meant = closestMatch(name, commands.map((command) => command.name));
  const known = name.startsWith('-') ? `unknown option ${name}` : `unknown command "${name}"`;
  return new UsageError(`${known}${meant === undefined ? '' : ` — did you mean "${meant}"?`}`);
}
