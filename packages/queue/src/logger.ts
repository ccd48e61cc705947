import { pino, type DestinationStream, type LevelWithSilent } from 'pino';

/** Structured fields attached to a log line or a child logger. */
export type LogFields = Record<string, unknown>;

/**
 * The structured logger every package takes as an option. `child` adds scope fields
 * (`queue`, `jobId`, `workerId`, `stage`) to every line it writes.
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(bindings: LogFields): Logger;
  /** Writes buffered lines out; called on shutdown. */
  flush(): Promise<void>;
}

/**
 * Field names whose values are replaced by `[redacted]` wherever they appear in the
 * first three levels of a log line: payloads can carry credentials for sources.
 */
export const REDACTED_FIELD_NAMES = [
  'password',
  'passwd',
  'secret',
  'token',
  'accessToken',
  'refreshToken',
  'apiKey',
  'api_key',
  'authorization',
  'Authorization',
  'cookie',
  'serviceRoleKey',
  'dsn',
] as const;

function redactionPaths(): string[] {
  const paths: string[] = [];
  for (const name of REDACTED_FIELD_NAMES) {
    paths.push(name, `*.${name}`, `*.*.${name}`, `*.*.*.${name}`);
  }
  return paths;
}

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  /** Minimum level written. Default `info`. */
  level?: LevelWithSilent;
  /** Fields on every line (e.g. `{ service: 'worker' }`). */
  base?: LogFields;
  /** Where lines go; default stdout. Tests pass a stream to read lines back. */
  destination?: DestinationStream;
}

/** A pino-backed JSON logger with redaction of secrets (see {@link REDACTED_FIELD_NAMES}). */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const instance = pino(
    {
      level: options.level ?? 'info',
      base: options.base ?? {},
      redact: { paths: redactionPaths(), censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination,
  );
  return wrapPino(instance);
}

function wrapPino(instance: pino.Logger): Logger {
  return {
    debug: (message, fields) => instance.debug(fields ?? {}, message),
    info: (message, fields) => instance.info(fields ?? {}, message),
    warn: (message, fields) => instance.warn(fields ?? {}, message),
    error: (message, fields) => instance.error(fields ?? {}, message),
    child: (bindings) => wrapPino(instance.child(bindings)),
    flush: () =>
      new Promise<void>((resolve) => {
        instance.flush(() => resolve());
      }),
  };
}

/** A logger that discards everything; the default where none is given. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
  flush: () => Promise.resolve(),
};

/** One line captured by {@link createMemoryLogger}. */
export interface CapturedLogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields: LogFields;
}

/** A logger that keeps its lines in memory, for tests that assert on logging. */
export function createMemoryLogger(bindings: LogFields = {}, lines: CapturedLogLine[] = []): Logger & {
  lines: CapturedLogLine[];
} {
  const write =
    (level: CapturedLogLine['level']) =>
    (message: string, fields?: LogFields): void => {
      lines.push({ level, message, fields: { ...bindings, ...fields } });
    };
  return {
    lines,
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (more) => createMemoryLogger({ ...bindings, ...more }, lines),
    flush: () => Promise.resolve(),
  };
}
