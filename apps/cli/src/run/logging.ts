import { createLogger, type Logger } from '@kai-jobs/queue';
import type { OutputStream } from '../cli/command.js';
import { envValue, type Environment } from '../config/cli-env.js';
import { ConfigError } from '@kai-jobs/queue';

/** How log lines are written: JSON lines (machines, containers) or one readable line each (a terminal). */
export const LogFormat = {
  Json: 'json',
  Pretty: 'pretty',
} as const;
/** One of {@link LogFormat}. */
export type LogFormat = (typeof LogFormat)[keyof typeof LogFormat];

const LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
type Level = (typeof LEVELS)[number];

const PRETTY_SKIP = new Set(['level', 'time', 'msg', 'service', 'component']);

/** Renders one pino JSON line as `12:03:04 INFO  worker  message  key=value …`. */
export function prettyLogLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof entry['time'] === 'string' ? entry['time'].slice(11, 19) : '';
  const level = String(entry['level'] ?? 'info').toUpperCase().padEnd(5);
  const source = entry['component'] ?? entry['service'];
  const service = typeof source === 'string' ? source.replace(/^kai-/, '') : '';
  const fields = Object.entries(entry)
    .filter(([key, value]) => !PRETTY_SKIP.has(key) && value !== undefined && value !== null)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return `${time} ${level} ${service.padEnd(7)} ${String(entry['msg'] ?? '')}${fields ? `  ${fields}` : ''}`;
}

/** A pino destination writing each line to `stream`, JSON or pretty. */
function destination(stream: OutputStream, format: LogFormat): { write(line: string): void } {
  return {
    write(line: string) {
      stream.write(format === LogFormat.Json ? line : `${prettyLogLine(line.trimEnd())}\n`);
    },
  };
}

/** `LOG_LEVEL` (default info) and `LOG_FORMAT` (default pretty on a terminal, json otherwise). */
export function logSettings(env: Environment, stream: OutputStream, forceJson: boolean): { level: Level; format: LogFormat } {
  const level = (envValue(env, 'LOG_LEVEL') ?? 'info').toLowerCase();
  if (!(LEVELS as readonly string[]).includes(level)) throw new ConfigError(`LOG_LEVEL="${level}" is not valid; expected ${LEVELS.join(', ')}`);
  const format = envValue(env, 'LOG_FORMAT')?.toLowerCase();
  if (format !== undefined && format !== LogFormat.Json && format !== LogFormat.Pretty) {
    throw new ConfigError(`LOG_FORMAT="${format}" is not valid; expected json or pretty`);
  }
  const chosen = forceJson ? LogFormat.Json : ((format as LogFormat | undefined) ?? (stream.isTTY ? LogFormat.Pretty : LogFormat.Json));
  return { level: level as Level, format: chosen };
}

/**
 * The structured logger of a long-running command. Log lines go to stderr, so stdout keeps
 * only the command's own output (its ready line, or its one JSON document with `--json`).
 */
export function createCommandLogger(env: Environment, stream: OutputStream, service: string, forceJson: boolean): Logger {
  const { level, format } = logSettings(env, stream, forceJson);
  return createLogger({ level, base: { service }, destination: destination(stream, format) });
}
