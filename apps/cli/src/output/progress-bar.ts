/** What the progress display shows of a job. */
export interface ProgressSnapshot {
  status: string;
  stage: string | null;
  percent: number;
  detail: string | null;
}

/** `[##########----------]  50%` of `width` cells. */
export function progressBar(percent: number, width = 24): string {
  const clamped = Math.max(0, Math.min(100, percent));
  const filled = Math.round((clamped / 100) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${clamped.toFixed(0).padStart(3)}%`;
}

/** One line describing a snapshot: `processing  text_extracted  [###---]  40%  page 4/10`. */
export function progressLine(snapshot: ProgressSnapshot, columns = 100): string {
  const line = `${snapshot.status.padEnd(10)} ${(snapshot.stage ?? '-').padEnd(20)} ${progressBar(snapshot.percent)}  ${snapshot.detail ?? ''}`.trimEnd();
  return line.length > columns - 1 ? `${line.slice(0, columns - 2)}…` : line;
}

/**
 * Decides when a plain (non-TTY) display prints a new line: when the status or stage
 * changes, or the percentage crosses another step of `stepPercent` — so a log file gets a
 * readable trail rather than a line per poll.
 */
export function shouldPrintPlain(previous: ProgressSnapshot | null, next: ProgressSnapshot, stepPercent = 10): boolean {
  if (previous === null) return true;
  if (previous.status !== next.status || previous.stage !== next.stage) return true;
  return Math.floor(next.percent / stepPercent) > Math.floor(previous.percent / stepPercent);
}

/** The line a display prints once for each stage a job has finished: `done       text_extracted`. */
export function stageDoneLine(stage: string): string {
  return `${'done'.padEnd(10)} ${stage}`;
}

/**
 * How many of `stages` (in run order) a job has finished, judged from its row: every stage
 * when it completed, else the ones before its current stage. A fast stage can start and end
 * between two polls; this still counts it, so a display never skips a stage.
 */
export function stagesFinished(stages: readonly string[], status: string, stage: string | null): number {
  if (status === 'completed') return stages.length;
  const index = stage === null ? -1 : stages.indexOf(stage);
  return Math.max(0, index);
}
