import { pino, type DestinationStream, type LevelWithSilent } from 'pino';
import { scrubSecrets, scrubString } from './scrub.js';

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

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  /** Minimum level written. Default `info`. */
  level?: LevelWithSilent;
  /** Fields on every line (e.g. `{ service: 'worker' }`). */
  base?: LogFields;
  /** Where lines go; default stdout. Tests pass a stream to read lines back. */
  destination?: DestinationStream;
}

/**
 * A pino-backed JSON logger. Every message, field and child binding goes through the one
 * scrubbing of secrets ({@link scrubSecrets}) before it is written: values under secret
 * names at any depth, and signed-URL parameters, URL credentials, auth headers and JWTs
 * inside any string — the same rules as Sentry events, so a log line never shows what an
 * alert hides.
 */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const instance = pino(
    {
      level: options.level ?? 'info',
      // No pino base or pino children: the wrapper merges every scope itself, so a key bound
      // twice (a child re-binding `workerId`, a line repeating `component`) is written once.
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination,
  );
  return wrapPino(instance, scrubSecrets(options.base ?? {}));
}

/** Keys pino writes itself; a field of that name is renamed so the line keeps one of each. */
const RESERVED_KEYS = new Set(['level', 'time', 'msg']);

function lineObject(bindings: LogFields, fields: LogFields | undefined): LogFields {
  const merged: LogFields = { ...bindings, ...scrubSecrets(fields ?? {}) };
  for (const key of RESERVED_KEYS) {
    if (key in merged) {
      merged[`field_${key}`] = merged[key];
      delete merged[key];
    }
  }
  return merged;
}

/**
 * `bindings` are the scope fields of this logger and its parents, already scrubbed and
 * merged (innermost value wins). Every line is written from the root pino instance with one
 * merged object, so no key appears twice in a line — strict JSON parsers reject duplicates,
 * and lenient ones keep whichever came last.
 */
function wrapPino(instance: pino.Logger, bindings: LogFields): Logger {
  return {
    debug: (message, fields) => {
      if (instance.isLevelEnabled('debug')) instance.debug(lineObject(bindings, fields), scrubString(message));
    },
    info: (message, fields) => {
      if (instance.isLevelEnabled('info')) instance.info(lineObject(bindings, fields), scrubString(message));
    },
    warn: (message, fields) => {
      if (instance.isLevelEnabled('warn')) instance.warn(lineObject(bindings, fields), scrubString(message));
    },
    error: (message, fields) => {
      if (instance.isLevelEnabled('error')) instance.error(lineObject(bindings, fields), scrubString(message));
    },
    child: (more) => wrapPino(instance, { ...bindings, ...scrubSecrets(more) }),
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
