/** Pure helpers of the soak's report: slopes, an ASCII chart, key families. */

/** Least-squares slope of `points` (y per unit of x); 0 with fewer than two points. */
export function slope(points: readonly { x: number; y: number }[]): number {
  if (points.length < 2) return 0;
  const n = points.length;
  const meanX = points.reduce((sum, p) => sum + p.x, 0) / n;
  const meanY = points.reduce((sum, p) => sum + p.y, 0) / n;
  let numerator = 0;
  let denominator = 0;
  for (const p of points) {
    numerator += (p.x - meanX) * (p.y - meanY);
    denominator += (p.x - meanX) ** 2;
  }
  return denominator === 0 ? 0 : numerator / denominator;
}

/** One line of an {@link asciiChart}. */
export interface ChartSeries {
  label: string;
  /** The character the series is drawn with. */
  mark: string;
  /** One value per column; null leaves the column empty. */
  values: readonly (number | null)[];
  unit: string;
}

/**
 * Each series on its own strip of `height` rows, scaled from 0 to its maximum (so a flat
 * curve looks flat, not like noise blown up to the full height), with the x axis in minutes.
 */
export function asciiChart(series: readonly ChartSeries[], minutes: readonly number[], height = 8): string {
  const width = minutes.length;
  const lines: string[] = [];
  for (const s of series) {
    const present = s.values.filter((v): v is number => v !== null);
    const max = present.length === 0 ? 1 : Math.max(...present);
    const top = niceCeil(max);
    lines.push(`${s.label} (${s.unit}, 0–${formatAxis(top)})`);
    for (let row = height - 1; row >= 0; row--) {
      const low = (top * row) / height;
      const label = row === height - 1 ? formatAxis(top) : row === 0 ? '0' : '';
      let line = `${label.padStart(8)} |`;
      for (let col = 0; col < width; col++) {
        const v = s.values[col];
        line += v !== null && v !== undefined && v > low ? s.mark : ' ';
      }
      lines.push(line);
    }
    lines.push('');
  }
  let axis = `${''.padStart(8)} +${'-'.repeat(width)}`;
  lines.push(axis);
  axis = `${'min'.padStart(8)}  `;
  let col = 0;
  while (col < width) {
    const label = String(Math.round(minutes[col] as number));
    axis += label.padEnd(10, ' ');
    col += 10;
  }
  lines.push(axis.trimEnd());
  return lines.join('\n');
}

function niceCeil(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function formatAxis(value: number): string {
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/**
 * The family of a key: ids, numbers and minute stamps replaced by placeholders, so
 * `soak:{pdf-processing}:status:<uuid>` and its siblings count as one family.
 */
export function keyFamily(key: string): string {
  return key
    .replace(UUID, '<id>')
    .replace(/(soak-[a-z]+)-\d+/g, '$1-<n>')
    .replace(/:\d+(?=:|$)/g, ':<n>')
    .replace(/-(w|m)\d+-\d+/g, '-<worker>');
}
