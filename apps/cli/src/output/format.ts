import type { OutputStream } from '../cli/command.js';

/**
 * Writes `value` as one JSON document, newline-terminated: indented for a person on a
 * terminal, one line when piped (`jq`, a log collector, a script reading line by line).
 */
export function writeJson(stream: OutputStream, value: unknown): void {
  stream.write(`${stream.isTTY === true ? JSON.stringify(value, null, 2) : JSON.stringify(value)}\n`);
}

/** A percentage as people read it: `41%` (the row keeps two decimals: 41.11). */
export function formatPercent(percent: number): string {
  return `${Number.isFinite(percent) ? Math.round(percent) : 0}%`;
}

/** `key=value` pairs on one line (nested values as compact JSON); `-` when empty. */
export function inlineFields(value: object | null | undefined): string {
  const entries = Object.entries(value ?? {}).filter(([, item]) => item !== null && item !== undefined);
  if (entries.length === 0) return '-';
  return entries.map(([key, item]) => `${key}=${typeof item === 'string' ? item : JSON.stringify(item)}`).join(' ');
}

/**
 * A value laid out for reading: `key: value` lines, nested objects indented under their key,
 * arrays of scalars on one line, arrays of objects as `- ` items. Strings are shown bare.
 */
export function formatReadable(value: unknown, indent = ''): string[] {
  const scalar = (item: unknown): string => (typeof item === 'string' ? item : item === undefined ? 'null' : JSON.stringify(item));
  const isObject = (item: unknown): item is Record<string, unknown> => item !== null && typeof item === 'object' && !Array.isArray(item);
  if (Array.isArray(value)) {
    if (value.length === 0) return [`${indent}[]`];
    if (value.every((item) => !isObject(item) && !Array.isArray(item))) return [`${indent}${value.map(scalar).join(', ')}`];
    return value.flatMap((item) => {
      const [first = '', ...rest] = formatReadable(item, `${indent}  `);
      return [`${indent}- ${first.slice(indent.length + 2)}`, ...rest];
    });
  }
  if (!isObject(value)) return [`${indent}${scalar(value)}`];
  const entries = Object.entries(value);
  if (entries.length === 0) return [`${indent}{}`];
  return entries.flatMap(([key, item]) => {
    if (isObject(item) && Object.keys(item).length > 0) return [`${indent}${key}:`, ...formatReadable(item, `${indent}  `)];
    if (Array.isArray(item) && item.some((element) => isObject(element) || Array.isArray(element))) return [`${indent}${key}:`, ...formatReadable(item, `${indent}  `)];
    return [`${indent}${key}: ${formatReadable(item)[0] ?? ''}`];
  });
}

/**
 * Lines showing `value` under `label`: a readable `key: value` layout on a terminal, one
 * JSON line when piped (so `grep` and scripts get the whole value on the labelled line).
 */
export function formatLabelledValue(stream: OutputStream, label: string, value: unknown): string[] {
  if (stream.isTTY !== true) return [`${label}: ${JSON.stringify(value ?? null)}`];
  const isObject = value !== null && typeof value === 'object';
  return isObject ? [`${label}:`, ...formatReadable(value, '  ')] : [`${label}: ${formatReadable(value)[0] ?? ''}`];
}

/** Writes lines. */
export function writeLines(stream: OutputStream, lines: readonly string[]): void {
  if (lines.length > 0) stream.write(`${lines.join('\n')}\n`);
}

/** A plain-text table: columns padded to the widest cell, a header row and a rule. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)];
}

/** `1 h 5 min`, `42 s`, `850 ms`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  const abs = Math.abs(ms);
  if (abs < 1000) return `${Math.round(ms)} ms`;
  if (abs < 60_000) return `${(ms / 1000).toFixed(abs < 10_000 ? 1 : 0)} s`;
  if (abs < 3_600_000) {
    const minutes = Math.floor(abs / 60_000);
    const seconds = Math.round((abs % 60_000) / 1000);
    return `${ms < 0 ? '-' : ''}${minutes} min${seconds > 0 ? ` ${seconds} s` : ''}`;
  }
  const hours = Math.floor(abs / 3_600_000);
  const minutes = Math.round((abs % 3_600_000) / 60_000);
  return `${ms < 0 ? '-' : ''}${hours} h${minutes > 0 ? ` ${minutes} min` : ''}`;
}

/** An ISO time (UTC, seconds) or `-`. */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `value` or `-` for null/undefined/empty. */
export function orDash(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  return String(value);
}
