import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMemoryLogger } from '@kai-jobs/queue';
import { forcedExitCode, installStopSignals, PARENT_EXITED, type SignalSource, type StopSignal } from '../src/run/stop-signals.js';

/** A process as far as the stop handling sees it: signals to emit and a parent pid to change. */
class FakeProcess extends EventEmitter implements SignalSource {
  ppid = 4242;
  send(signal: StopSignal): void {
    this.emit(signal);
  }
}

function setUp(options: { watchParent?: boolean } = {}) {
  const signals = new FakeProcess();
  const controller = new AbortController();
  const exits: number[] = [];
  const logger = createMemoryLogger();
  const stops: string[] = [];
  const dispose = installStopSignals({
    controller,
    exit: (code) => exits.push(code),
    signals,
    logger,
    onStop: (source) => stops.push(source),
    watchParent: options.watchParent ?? false,
  });
  return { signals, controller, exits, logger, stops, dispose };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('installStopSignals', () => {
  it.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)('the first %s asks for a graceful stop and exits nothing', (signal) => {
    const { signals, controller, exits, logger, stops, dispose } = setUp();
    signals.send(signal);
    expect(controller.signal.aborted).toBe(true);
    expect(controller.signal.reason).toBe(signal);
    expect(exits).toEqual([]);
    expect(stops).toEqual([signal]);
    expect(logger.lines).toContainEqual(expect.objectContaining({ level: 'info', message: `${signal}: stopping gracefully`, fields: expect.objectContaining({ signal }) }));
    dispose();
  });

  it('a signal within 1 s of the first is the same request delivered twice (group and pnpm): ignored', () => {
    const { signals, exits, logger, stops, dispose } = setUp();
    signals.send('SIGTERM');
    vi.advanceTimersByTime(5);
    signals.send('SIGTERM');
    vi.advanceTimersByTime(900);
    signals.send('SIGHUP');
    expect(exits).toEqual([]);
    expect(stops).toEqual(['SIGTERM']);
    expect(logger.lines.filter((line) => line.message.startsWith('the same stop request'))).toHaveLength(2);
    dispose();
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)('a second %s after the window exits at once with %i', (signal, code) => {
    const { signals, exits, logger, dispose } = setUp();
    signals.send('SIGINT');
    vi.advanceTimersByTime(1000);
    expect(logger.lines.map((line) => line.message)).toContain('still stopping gracefully: a second signal (Ctrl-C) stops at once');
    signals.send(signal);
    expect(exits).toEqual([code]);
    expect(forcedExitCode(signal)).toBe(code);
    dispose();
  });

  it('a quick shutdown never says "still stopping"', () => {
    const { signals, logger, dispose } = setUp();
    signals.send('SIGINT');
    vi.advanceTimersByTime(500);
    dispose();
    vi.advanceTimersByTime(5000);
    expect(logger.lines.map((line) => line.message)).not.toContain('still stopping gracefully: a second signal (Ctrl-C) stops at once');
  });

  it('watching the parent: its exit is a graceful stop request; a signal a second later forces', () => {
    const { signals, controller, exits, logger, dispose } = setUp({ watchParent: true });
    vi.advanceTimersByTime(2000);
    expect(controller.signal.aborted).toBe(false);
    signals.ppid = 1;
    vi.advanceTimersByTime(500);
    expect(controller.signal.aborted).toBe(true);
    expect(controller.signal.reason).toBe(PARENT_EXITED);
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ message: 'the parent process is gone: stopping gracefully', fields: expect.objectContaining({ parentPid: 4242, adoptedBy: 1 }) }),
    );
    vi.advanceTimersByTime(1000);
    signals.send('SIGTERM');
    expect(exits).toEqual([143]);
    dispose();
  });

  it('not watching the parent (a command started directly): a new parent changes nothing', () => {
    const { signals, controller, dispose } = setUp();
    signals.ppid = 1;
    vi.advanceTimersByTime(5000);
    expect(controller.signal.aborted).toBe(false);
    dispose();
  });

  it('dispose removes the handlers', () => {
    const { signals, controller, dispose } = setUp({ watchParent: true });
    dispose();
    expect(signals.listenerCount('SIGINT') + signals.listenerCount('SIGTERM') + signals.listenerCount('SIGHUP')).toBe(0);
    signals.ppid = 1;
    vi.advanceTimersByTime(5000);
    expect(controller.signal.aborted).toBe(false);
  });

  it('rejects bad options, naming them', () => {
    expect(() => installStopSignals({ controller: new AbortController(), exit: () => undefined, repeatWindowMs: -1 })).toThrow(/repeatWindowMs/);
  });
});
