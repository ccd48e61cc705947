import { DURATION_BUCKET_BOUNDS_MS } from '@kai-jobs/queue';

/**
 * Percentiles, both from the recorder's fixed log-scale histogram (processing times) and
 * from raw samples (update/heartbeat gaps). Pure functions over plain data.
 */

function checkQuantile(q: number): void {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be within [0, 1], got ${q}`);
}

/**
 * The `q`-quantile (0–1) of a histogram whose bucket `i` counts values in
 * `(bounds[i-1], bounds[i]]` (bucket 0 from 0, and one overflow bucket past the last
 * bound). Interpolates linearly inside the bucket holding the rank, as Prometheus'
 * `histogram_quantile` does; a rank in the overflow bucket returns the last bound (a
 * lower limit). Null when the histogram is empty.
 */
export function percentileFromHistogram(
  counts: readonly number[],
  q: number,
  bounds: readonly number[] = DURATION_BUCKET_BOUNDS_MS,
): number | null {
  checkQuantile(q);
  const total = counts.reduce((sum, count) => sum + count, 0);
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  for (let index = 0; index < counts.length; index += 1) {
    const count = counts[index] ?? 0;
    if (count > 0 && below + count >= rank) {
      if (index >= bounds.length) return bounds[bounds.length - 1] ?? null;
      const lower = index === 0 ? 0 : (bounds[index - 1] as number);
      const upper = bounds[index] as number;
      return lower + (upper - lower) * ((rank - below) / count);
    }
    below += count;
  }
  // Unreachable: rank ≤ total, so the last non-empty bucket always holds it.
  return null;
}

/**
 * The `q`-quantile (0–1) of `sortedAscending` by the nearest-rank method (the smallest
 * value with at least `q` of the values at or below it): always an observed value, so a
 * threshold compared with it means "this many jobs really had a gap this long".
 * Null for no values.
 */
export function percentileOfSorted(sortedAscending: readonly number[], q: number): number | null {
  checkQuantile(q);
  if (sortedAscending.length === 0) return null;
  const rank = Math.max(1, Math.ceil(q * sortedAscending.length));
  return sortedAscending[rank - 1] as number;
}
