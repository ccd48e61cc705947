import { formatClock, formatTime } from './format.js';
import { html, type SafeHtml } from './html.js';

/**
 * Inline SVG charts, rendered on the server: no script, no front-end build. Every label
 * goes through {@link html}, so values from Redis cannot inject markup. Each data point
 * carries `data-value` and a `<title>` (the browser's tooltip).
 */

const WIDTH = 360;
const HEIGHT = 150;
const PAD_RIGHT = 10;
const PAD_TOP = 10;
const PAD_BOTTOM = 22;
const PLOT_H = HEIGHT - PAD_TOP - PAD_BOTTOM;
/** Font size of the axis labels (px, as `svg .axis` in the style sheet). */
const AXIS_FONT_PX = 10;
/** Gap between a y-axis label and the plot (px). */
const AXIS_LABEL_GAP = 4;
/** Narrowest and widest left margin (px): the plot keeps at least two thirds of the width. */
const MIN_PAD_LEFT = 24;
const MAX_PAD_LEFT = 120;

/**
 * Width of `text` at the axis font, estimated from character classes (the server cannot
 * measure text): digits and most letters ≈ 0.56 em, narrow ones (`1 i l . : ,` and
 * spaces) ≈ 0.3 em, wide ones (`m w M W %` and `—`) ≈ 0.85 em. Errs on the wide side so
 * a label is never clipped.
 */
export function estimateTextWidth(text: string, fontPx = AXIS_FONT_PX): number {
  let em = 0;
  for (const char of text) {
    if (/[1il.:, ·|!']/.test(char)) em += 0.3;
    else if (/[mwMW%—×]/.test(char)) em += 0.85;
    else em += 0.58;
  }
  return em * fontPx;
}

/** The left margin that fits the widest of `labels` right-aligned before the plot (px). */
export function leftMarginFor(labels: readonly string[]): number {
  const widest = Math.max(0, ...labels.map((label) => estimateTextWidth(label)));
  return Math.min(MAX_PAD_LEFT, Math.max(MIN_PAD_LEFT, Math.ceil(widest + AXIS_LABEL_GAP + 4)));
}

/** Colours of the series, in order (readable on white, distinct for common colour blindness). */
export const SERIES_COLORS = ['#2563eb', '#d97706', '#059669', '#dc2626', '#7c3aed', '#0891b2'] as const;

/**
 * One line (or the bars) of a time chart; null is a bucket without data. A line is drawn
 * through the buckets that have data, dashed across the empty ones in between, so a
 * sparse series still reads as a line; give zeros instead of nulls where "nothing
 * happened" is itself the value (counts, an error rate with no failures).
 */
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

/**
 * The SVG paths of one line: `solid` joins neighbouring buckets that both have data;
 * `bridges` joins, across empty buckets, a value to the next one (drawn dashed).
 */
export function linePaths(
  values: readonly (number | null)[],
  x: (index: number) => number,
  y: (value: number) => number,
): { solid: string; bridges: string } {
  let solid = '';
  let bridges = '';
  let previous: number | null = null;
  values.forEach((value, index) => {
    if (value === null || !Number.isFinite(value)) return;
    const point = `${round(x(index))} ${round(y(value))}`;
    if (previous === null) {
      solid += `M${point} `;
    } else {
      const from = `${round(x(previous))} ${round(y(values[previous] as number))}`;
      if (previous === index - 1) {
        solid += `L${point} `;
      } else {
        bridges += `M${from} L${point} `;
        solid += `M${point} `;
      }
    }
    previous = index;
  });
  return { solid: solid.trim(), bridges: bridges.trim() };
}

/** A line or bar chart of values per time bucket, with a labelled y axis and UTC times. */
export function timeChart(input: TimeChartInput): SafeHtml {
  const points = Math.max(0, ...input.series.map((s) => s.values.length));
  const all = input.series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  if (points === 0 || all.length === 0) return emptyFigure(input);
  const yMax = input.yMax ?? niceCeiling(Math.max(...all));
  const yLabels = [0, 0.5, 1].map((fraction) => input.format(yMax * fraction));
  // The margin follows the widest y label ("1 min 15 s" needs twice what "50 %" does), so none is clipped.
  const padLeft = leftMarginFor(yLabels);
  const plotW = WIDTH - padLeft - PAD_RIGHT;
  const slot = plotW / points;
  const x = (index: number): number => padLeft + (index + 0.5) * slot;
  const y = (value: number): number => PAD_TOP + PLOT_H - (Math.min(value, yMax) / yMax) * PLOT_H;
  const bucketTitle = (index: number, name: string, value: number): string =>
    `${name} ${formatTime(input.startMs + index * input.bucketMs)}: ${input.format(value)}`;

  const grid = [0, 0.5, 1].map(
    (fraction, index) => html`<line x1="${padLeft}" x2="${WIDTH - PAD_RIGHT}" y1="${round(y(yMax * fraction))}" y2="${round(y(yMax * fraction))}" class="grid"/>
    <text x="${padLeft - AXIS_LABEL_GAP}" y="${round(y(yMax * fraction) + 3)}" text-anchor="end" class="axis">${yLabels[index]}</text>`,
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
        const left = padLeft + index * slot + slot * 0.1 + sIndex * barW;
        return [
          html`<rect x="${round(left)}" y="${round(top)}" width="${round(barW)}" height="${round(PAD_TOP + PLOT_H - top)}" fill="${SERIES_COLORS[sIndex % SERIES_COLORS.length]}" class="point" data-series="${s.name}" data-value="${value}"><title>${bucketTitle(index, s.name, value)}</title></rect>`,
        ];
      }),
    );
  } else {
    marks = input.series.flatMap((s, sIndex) => {
      const color = SERIES_COLORS[sIndex % SERIES_COLORS.length] as string;
      const { solid, bridges } = linePaths(s.values, x, y);
      const dots = s.values.flatMap((value, index) =>
        value === null || !Number.isFinite(value)
          ? []
          : [
              html`<circle cx="${round(x(index))}" cy="${round(y(value))}" r="2.5" fill="${color}" class="point" data-series="${s.name}" data-value="${value}"><title>${bucketTitle(index, s.name, value)}</title></circle>`,
            ],
      );
      return [
        html`<path d="${solid}" stroke="${color}" class="line"/>`,
        bridges === '' ? html`` : html`<path d="${bridges}" stroke="${color}" class="bridge"/>`,
        ...dots,
      ];
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
