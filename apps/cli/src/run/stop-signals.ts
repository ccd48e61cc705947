import { constants } from 'node:os';
import { z } from 'zod';
import { parseOrThrow, silentLogger, systemClock, type Clock, type Logger } from '@kai-jobs/queue';

/** The signals that ask a long-running command to stop: Ctrl-C, `kill`, a closed terminal. */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** One of {@link STOP_SIGNALS}. */
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** Why a stop was requested: a signal, or the parent process (pnpm) going away. */
export const PARENT_EXITED = 'parent-exited';
/** What asked for the stop. */
export type StopSource = StopSignal | typeof PARENT_EXITED;

/** What the stop handling needs of a process; the real `process` by default, a fake in tests. */
export interface SignalSource {
  on(event: StopSignal, listener: () => void): unknown;
  off(event: StopSignal, listener: () => void): unknown;
  /** The parent's pid, read anew each time (Node's `process.ppid` is a live getter). */
  readonly ppid: number;
}

const custom = <T>(what: string, check: (value: unknown) => boolean = (value) => typeof value === 'object' && value !== null) =>
  z.custom<T>(check, { message: `expected ${what}` });

/** Options of {@link installStopSignals}. */
export const StopSignalsOptionsSchema = z
  .object({
    /** Aborted on the first stop request, with the {@link StopSource} as its reason. */
    controller: custom<AbortController>('an AbortController', (value) => value instanceof AbortController),
    /** Ends the process at once (a second signal): `process.exit` in the binary. */
    exit: custom<(code: number) => void>('a function', (value) => typeof value === 'function'),
    /**
     * A signal within this many ms of the first one is the same request delivered twice, not
     * a second one. Default 1000. A signal sent to a whole process group (`kill -TERM -<pgid>`,
     * systemd's stop, a closed terminal's SIGHUP) reaches this process directly and once more
     * through pnpm, which relays SIGTERM and SIGHUP to the script it started, a few ms apart.
     */
    repeatWindowMs: z.number().int().min(0).max(60_000).default(1000),
    /**
     * Also stop gracefully when the parent process goes away (pnpm killed, or a wrapper that
     * dies on a signal without passing it on): set when a package-manager script started the
     * command. Default false: a command started directly may be left running on purpose.
     */
    watchParent: z.boolean().default(false),
    /** How often the parent is checked (ms). Default 500. */
    parentCheckIntervalMs: z.number().int().min(10).max(60_000).default(500),
    /** Called once when the first stop is requested (the binary stops caring about broken stdio then). */
    onStop: custom<(source: StopSource) => void>('a function', (value) => typeof value === 'function').optional(),
    logger: custom<Logger>('a Logger').default(silentLogger),
    clock: custom<Clock>('a Clock').default(systemClock),
    signals: custom<SignalSource>('a process-like signal source').optional(),
  })
  .strict();
/** What callers pass to {@link installStopSignals}. */
export type StopSignalsOptions = z.input<typeof StopSignalsOptionsSchema>;

/** The exit status of a process ended by `signal`'s second delivery: 128 + its number (130, 143, 129). */
export function forcedExitCode(signal: StopSignal): number {
  return 128 + constants.signals[signal];
}

/**
 * Turns SIGINT, SIGTERM and SIGHUP into a graceful stop of a long-running command: the first
 * one aborts `controller` (the command shuts down and exits 0); a signal within
 * `repeatWindowMs` of it is the same request delivered twice and is ignored; any signal
 * after that exits at once with 128 + its number. With `watchParent`, the parent going away is a first request
 * too. Returns the function that removes the handlers and stops watching.
 */
export function installStopSignals(options: StopSignalsOptions): () => void {
  const { controller, exit, repeatWindowMs, watchParent, parentCheckIntervalMs, onStop, logger, clock, signals: given } =
    parseOrThrow(StopSignalsOptionsSchema, options, 'stop signal options');
  const source: SignalSource = given ?? process;
  let firstAt: number | undefined;
  let forceNoticeTimer: NodeJS.Timeout | undefined;

  const requestStop = (from: StopSource, detail: Record<string, unknown>): void => {
    firstAt = clock.now();
    onStop?.(from);
    logger.info(from === PARENT_EXITED ? 'the parent process is gone: stopping gracefully' : `${from}: stopping gracefully`, {
      ...detail,
      forceAfterMs: repeatWindowMs,
    });
    controller.abort(from);
    // Said once the window is over, so the operator (and a test) knows a second signal now
    // counts; a quick shutdown never prints it.
    forceNoticeTimer = setTimeout(() => logger.info('still stopping gracefully: a second signal (Ctrl-C) stops at once', {}), repeatWindowMs);
    forceNoticeTimer.unref();
  };

  const onSignal = (signal: StopSignal): void => {
    if (firstAt === undefined) {
      requestStop(signal, { signal });
      return;
    }
    const sinceFirstMs = clock.now() - firstAt;
    if (sinceFirstMs < repeatWindowMs) {
      logger.debug('the same stop request delivered again (process group and pnpm): ignored', { signal, sinceFirstMs });
      return;
    }
    const code = forcedExitCode(signal);
    logger.warn(`second signal (${signal}): stopping at once`, { signal, exitCode: code });
    exit(code);
  };

  const handlers = new Map<StopSignal, () => void>(STOP_SIGNALS.map((signal) => [signal, () => onSignal(signal)]));
  for (const [signal, handler] of handlers) source.on(signal, handler);

  let parentTimer: NodeJS.Timeout | undefined;
  if (watchParent) {
    const parent = source.ppid;
    parentTimer = setInterval(() => {
      const now = source.ppid;
      if (now === parent) return;
      clearInterval(parentTimer);
      if (firstAt === undefined) requestStop(PARENT_EXITED, { parentPid: parent, adoptedBy: now });
    }, parentCheckIntervalMs);
    parentTimer.unref();
  }

  return () => {
    for (const [signal, handler] of handlers) source.off(signal, handler);
    clearInterval(parentTimer);
    clearTimeout(forceNoticeTimer);
  };
}
