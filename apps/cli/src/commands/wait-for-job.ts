import { jobCatalog, JobStatus, systemClock, type Clock, type StatusRow, type StatusStore } from '@kai-jobs/queue';
import type { OutputStream } from '../cli/command.js';
import { progressLine, shouldPrintPlain, stageDoneLine, stagesFinished, type ProgressSnapshot } from '../output/progress-bar.js';

/** How waiting for a job ended. */
export type WaitOutcome =
  | { kind: 'finished'; row: StatusRow }
  | { kind: 'timeout'; row: StatusRow | null }
  | { kind: 'stopped'; row: StatusRow | null }
  | { kind: 'missing' };

/** Options of {@link waitForJob}. */
export interface WaitForJobOptions {
  statusStore: StatusStore;
  jobId: string;
  /** Where progress goes; null shows none (`--json`). */
  display: OutputStream | null;
  /** Give up after this long (ms); undefined waits until the job finishes. */
  timeoutMs?: number;
  /** Poll interval (ms). Default 250. */
  pollMs?: number;
  /** Stop waiting when aborted (Ctrl-C); the job goes on. */
  signal: AbortSignal;
  clock?: Clock;
}

const snapshotOf = (row: StatusRow): ProgressSnapshot => ({
  status: row.status,
  stage: row.currentStage,
  percent: row.progress,
  detail: row.progressDetail,
});

/**
 * Polls the job's status row until it completes or fails, showing its stage and a live
 * progress bar on a terminal (one line redrawn in place) or a line per stage change and per
 * 10 % otherwise. Each finished stage gets a `done <stage>` line, also one that started and
 * ended between two polls (an embeddings stage on a fast provider takes milliseconds).
 */
export async function waitForJob(options: WaitForJobOptions): Promise<WaitOutcome> {
  const clock = options.clock ?? systemClock;
  const pollMs = options.pollMs ?? 250;
  const deadline = options.timeoutMs === undefined ? Infinity : clock.now() + options.timeoutMs;
  const tty = options.display?.isTTY === true;
  let previous: ProgressSnapshot | null = null;
  let drawn = false;
  let finishedStages = 0;
  const show = (row: StatusRow): void => {
    const display = options.display;
    if (display === null) return;
    const snapshot = snapshotOf(row);
    const stages = jobCatalog[row.type].stages as readonly string[];
    const finished = stagesFinished(stages, row.status, row.currentStage);
    if (finished > finishedStages) {
      const lines = stages.slice(finishedStages, finished).map(stageDoneLine);
      display.write(`${tty && drawn ? '\r\x1b[2K' : ''}${lines.join('\n')}\n`);
      drawn = false;
      finishedStages = finished;
    }
    if (tty) {
      display.write(`\r\x1b[2K${progressLine(snapshot, display.columns ?? 100)}`);
      drawn = true;
    } else if (shouldPrintPlain(previous, snapshot)) {
      display.write(`${progressLine(snapshot, 200)}\n`);
    }
    previous = snapshot;
  };
  const endLine = (): void => {
    if (drawn) options.display?.write('\n');
  };
  for (;;) {
    const row = await options.statusStore.get(options.jobId);
    if (row === null) {
      endLine();
      return { kind: 'missing' };
    }
    show(row);
    if (row.status === JobStatus.Completed || row.status === JobStatus.Failed) {
      endLine();
      return { kind: 'finished', row };
    }
    if (clock.now() >= deadline) {
      endLine();
      return { kind: 'timeout', row };
    }
    try {
      await clock.sleep(Math.min(pollMs, Math.max(1, deadline - clock.now())), options.signal);
    } catch {
      endLine();
      return { kind: 'stopped', row };
    }
  }
}
