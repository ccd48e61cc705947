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
