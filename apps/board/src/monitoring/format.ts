/** Formatting of times, durations and rates for the monitoring page (UTC, unambiguous). */

/** `2026-03-01 10:04:05 UTC`. */
export function formatTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** `10:04` (UTC), for chart axes. */
export function formatClock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 16);
}

/** `850 ms`, `12.5 s`, `4 min 10 s`, `2 h 5 min`, `3 d 4 h`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  const abs = Math.abs(ms);
  const sign = ms < 0 ? '-' : '';
  if (abs < 1000) return `${sign}${Math.round(abs)} ms`;
  if (abs < 60_000) return `${sign}${(abs / 1000).toFixed(abs < 10_000 ? 1 : 0)} s`;
  if (abs < 3_600_000) {
    const minutes = Math.floor(abs / 60_000);
    const seconds = Math.floor((abs % 60_000) / 1000);
    return `${sign}${minutes} min${seconds > 0 ? ` ${seconds} s` : ''}`;
  }
  if (abs < 86_400_000) {
    const hours = Math.floor(abs / 3_600_000);
    const minutes = Math.floor((abs % 3_600_000) / 60_000);
    return `${sign}${hours} h${minutes > 0 ? ` ${minutes} min` : ''}`;
  }
  const days = Math.floor(abs / 86_400_000);
  const hours = Math.floor((abs % 86_400_000) / 3_600_000);
  return `${sign}${days} d${hours > 0 ? ` ${hours} h` : ''}`;
}

/** `12.5 %`; `—` for null. */
export function formatPercent(ratio: number | null): string {
  if (ratio === null || !Number.isFinite(ratio)) return '—';
  const percent = ratio * 100;
  return `${percent >= 10 || percent === 0 ? percent.toFixed(0) : percent.toFixed(1)} %`;
}

/** A count or rate with at most two decimals (`3`, `0.25`). */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return '—';
  return Number.isInteger(value) ? String(value) : value.toFixed(value >= 10 ? 1 : 2);
}

/** `duration` or `—` for null. */
export function formatOptionalDuration(ms: number | null): string {
  return ms === null ? '—' : formatDuration(ms);
}

/** A look-back window: whole hours up to three days as `24 h`, otherwise as a duration. */
export function formatWindow(ms: number): string {
  return ms % 3_600_000 === 0 && ms <= 72 * 3_600_000 ? `${ms / 3_600_000} h` : formatDuration(ms);
}

/** Headroom above which the exact figure says nothing more: the threshold is far looser than any job needs. */
export const HEADROOM_CAP = 100;

/**
 * A threshold's headroom (threshold ÷ p99 of the observed gaps): `0.85×` (below 1 the
 * threshold would flag normal jobs), `2.5×`, `35×`, and `> 100×` past {@link HEADROOM_CAP} —
 * a p99 of a few ms against a minutes-long threshold gives five-digit ratios whose digits
 * are noise. `—` for null.
 */
export function formatHeadroom(ratio: number | null): string {
  if (ratio === null || !Number.isFinite(ratio) || ratio < 0) return '—';
  if (ratio > HEADROOM_CAP) return `> ${HEADROOM_CAP}×`;
  if (ratio < 1) return `${ratio.toFixed(2)}×`;
  if (ratio < 10) return `${(Math.round(ratio * 10) / 10).toString()}×`;
  return `${Math.round(ratio)}×`;
}
