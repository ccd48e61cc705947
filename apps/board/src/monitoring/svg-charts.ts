import { formatClock, formatTime } from './format.js';
import { html, type SafeHtml } from './html.js';

/**
 * Inline SVG charts, rendered on the server: no script, no front-end build. Every label
 * goes through {@link html}, so values from Redis cannot inject markup. Each data point
 * carries `data-value` and a `<title>` (the browser's tooltip).
 */

const WIDTH = 360;
const HEIGHT = 150;
const PAD_LEFT = 52;
const PAD_RIGHT = 10;
const PAD_TOP = 10;
const PAD_BOTTOM = 22;
const PLOT_W = WIDTH - PAD_LEFT - PAD_RIGHT;
const PLOT_H = HEIGHT - PAD_TOP - PAD_BOTTOM;

/** Colours of the series, in order (readable on white, distinct for common colour blindness). */
export const SERIES_COLORS = ['#2563eb', '#d97706', '#059669', '#dc2626', '#7c3aed', '#0891b2'] as const;

/** One line (or the bars) of a time chart; null is a gap (no data in that bucket). */
export interface ChartSeries {
  name: string;
  values: readonly (number | null)[];
}

/** A chart over time buckets. */
export interface TimeChartInput {
  /** `data-chart` of the figure (stable, for tests and styling). */
  id: string;
  title: string;
  /** Start of the first bucket (ms since the epoch) and the bucket length (ms). */
  startMs: number;
  bucketMs: number;
  kind: 'line' | 'bar';
  series: readonly ChartSeries[];
  /** Formats a value for the axis and tooltips. */
  format: (value: number) => string;
  /** Fixed top of the axis (1 for rates); default: rounded up from the data. */
  yMax?: number;
  /** Shown instead of the plot when no series has a value. */
  emptyText: string;
}

/** A horizontal bar chart of labelled values (failures by stage, failovers per worker). */
export interface BarListInput {
  id: string;
  title: string;
  entries: readonly { label: string; value: number }[];
  /** Bars shown; the rest are summed into "other". Default 8. */
  maxBars?: number;
  emptyText: string;
}

/** 1, 2, 2.5, 5 × 10ⁿ at or above `value` (axis tops that read well). */
export function niceCeiling(value: number): number {
  if (!(value > 0)) return 1;
  const exponent = Math.floor(Math.log10(value));
  const base = 10 ** exponent;
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (value <= step * base + 1e-9) return step * base;
  }
  return 10 * base;
}

function round(value: number): string {
  return (Math.round(value * 10) / 10).toString();
}

function emptyFigure(input: { id: string; title: string; emptyText: string }): SafeHtml {
  return html`<figure class="chart" data-chart="${input.id}" data-empty="true">
  <figcaption>${input.title}</figcaption>
  <svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${input.title}: ${input.emptyText}">
    <title>${input.title}: ${input.emptyText}</title>
    <rect x="0.5" y="0.5" width="${WIDTH - 1}" height="${HEIGHT - 1}" class="frame"/>
    <text x="${WIDTH / 2}" y="${HEIGHT / 2}" text-anchor="middle" class="empty">${input.emptyText}</text>
  </svg>
</figure>`;
}

function legend(series: readonly ChartSeries[]): SafeHtml {
  if (series.length < 2) return html``;
  return html`<span class="legend">${series.map(
    (s, index) => html`<span class="key"><i style="background:${SERIES_COLORS[index % SERIES_COLORS.length]}"></i>${s.name}</span>`,
  )}</span>`;
}

/** A line or bar chart of values per time bucket, with a labelled y axis and UTC times. */
export function timeChart(input: TimeChartInput): SafeHtml {
  const points = Math.max(0, ...input.series.map((s) => s.values.length));
  const all = input.series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  if (points === 0 || all.length === 0) return emptyFigure(input);
  const yMax = input.yMax ?? niceCeiling(Math.max(...all));
  const slot = PLOT_W / points;
  const x = (index: number): number => PAD_LEFT + (index + 0.5) * slot;
  const y = (value: number): number => PAD_TOP + PLOT_H - (Math.min(value, yMax) / yMax) * PLOT_H;
  const bucketTitle = (index: number, name: string, value: number): string =>
    `${name} ${formatTime(input.startMs + index * input.bucketMs)}: ${input.format(value)}`;

  const grid = [0, 0.5, 1].map(
    (fraction) => html`<line x1="${PAD_LEFT}" x2="${WIDTH - PAD_RIGHT}" y1="${round(y(yMax * fraction))}" y2="${round(y(yMax * fraction))}" class="grid"/>
    <text x="${PAD_LEFT - 4}" y="${round(y(yMax * fraction) + 3)}" text-anchor="end" class="axis">${input.format(yMax * fraction)}</text>`,
  );
  const ticks = [...new Set([0, Math.floor((points - 1) / 2), points - 1])].map(
    (index) => html`<text x="${round(x(index))}" y="${HEIGHT - 6}" text-anchor="middle" class="axis">${formatClock(input.startMs + index * input.bucketMs)}</text>`,
  );

  let marks: SafeHtml[];
  if (input.kind === 'bar') {
    const barW = Math.max(1, (slot * 0.8) / input.series.length);
    marks = input.series.flatMap((s, sIndex) =>
      s.values.flatMap((value, index) => {
        if (value === null || !Number.isFinite(value)) return [];
        const top = y(value);
        const left = PAD_LEFT + index * slot + slot * 0.1 + sIndex * barW;
        return [
          html`<rect x="${round(left)}" y="${round(top)}" width="${round(barW)}" height="${round(PAD_TOP + PLOT_H - top)}" fill="${SERIES_COLORS[sIndex % SERIES_COLORS.length]}" class="point" data-series="${s.name}" data-value="${value}"><title>${bucketTitle(index, s.name, value)}</title></rect>`,
        ];
      }),
    );
  } else {
    marks = input.series.flatMap((s, sIndex) => {
      const color = SERIES_COLORS[sIndex % SERIES_COLORS.length] as string;
      let path = '';
      let penDown = false;
      s.values.forEach((value, index) => {
        if (value === null || !Number.isFinite(value)) {
          penDown = false;
          return;
        }
        path += `${penDown ? 'L' : 'M'}${round(x(index))} ${round(y(value))} `;
        penDown = true;
      });
      const dots = s.values.flatMap((value, index) =>
        value === null || !Number.isFinite(value)
          ? []
          : [
              html`<circle cx="${round(x(index))}" cy="${round(y(value))}" r="2.5" fill="${color}" class="point" data-series="${s.name}" data-value="${value}"><title>${bucketTitle(index, s.name, value)}</title></circle>`,
            ],
      );
      return [html`<path d="${path.trim()}" stroke="${color}" class="line"/>`, ...dots];
    });
  }

  return html`<figure class="chart" data-chart="${input.id}">
  <figcaption>${input.title} ${legend(input.series)}</figcaption>
  <svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${input.title}">
    <title>${input.title}</title>
    ${grid}
    ${ticks}
    ${marks}
  </svg>
</figure>`;
}

/** Horizontal bars, largest first; labels are cut to fit and shown whole in the tooltip. */
export function barList(input: BarListInput): SafeHtml {
  const positive = input.entries.filter((entry) => entry.value > 0).sort((a, b) => b.value - a.value || a.label.localeCompare(b.label));
  if (positive.length === 0) return emptyFigure(input);
  const maxBars = input.maxBars ?? 8;
  const shown = positive.slice(0, maxBars);
  const rest = positive.slice(maxBars).reduce((sum, entry) => sum + entry.value, 0);
  const rows = rest > 0 ? [...shown, { label: `other (${positive.length - maxBars})`, value: rest }] : shown;
  const rowH = 20;
  const labelW = 130;
  const height = rows.length * rowH + 8;
  const max = Math.max(...rows.map((row) => row.value));
  const barSpace = WIDTH - labelW - 46;
  const bars = rows.map((row, index) => {
    const top = 4 + index * rowH;
    const w = Math.max(1, (row.value / max) * barSpace);
    const label = row.label.length > 20 ? `${row.label.slice(0, 19)}…` : row.label;
    return html`<g class="bar" data-label="${row.label}" data-value="${row.value}">
      <title>${row.label}: ${row.value}</title>
      <text x="${labelW - 6}" y="${top + 13}" text-anchor="end" class="label">${label}</text>
      <rect x="${labelW}" y="${top + 3}" width="${round(w)}" height="${rowH - 6}" fill="${SERIES_COLORS[0]}"/>
      <text x="${round(labelW + w + 4)}" y="${top + 13}" class="value">${row.value}</text>
    </g>`;
  });
  return html`<figure class="chart" data-chart="${input.id}">
  <figcaption>${input.title}</figcaption>
  <svg viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="${input.title}">
    <title>${input.title}</title>
    ${bars}
  </svg>
</figure>`;
}
