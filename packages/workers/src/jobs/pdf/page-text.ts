import bidiFactory from 'bidi-js';
import { z } from 'zod';
import { fromJsonLines, toJsonLines } from '../shared/artifact-io.js';

/** How a page's lines were put in order (see {@link PageTextQuality}). */
export const ReadingOrder = {
  /** By position: top to bottom, left to right within a line (right to left for RTL lines). */
  Position: 'position',
  /** By position, with at least one block of columns read column by column. */
  Columns: 'columns',
  /** Content-stream order: the page's text is mostly rotated or vertical, so positions do not give lines. */
  Stream: 'stream',
} as const;
/** One of {@link ReadingOrder}. */
export type ReadingOrder = (typeof ReadingOrder)[keyof typeof ReadingOrder];

/** Dominant scripts a page is classified as. */
const SCRIPTS = ['latin', 'arabic', 'hebrew', 'greek', 'cyrillic', 'cjk', 'other', 'none'] as const;

/** Quality figures of one page's text: what a reader of the text can trust it for. */
export const PageTextQualitySchema = z.object({
  /** Characters of the page's text (UTF-16 code units, as `text.length`). */
  characters: z.number().int().nonnegative(),
  /** Glyphs whose font maps them to no Unicode and whose name maps to none either: left out of the text. */
  droppedGlyphs: z.number().int().nonnegative(),
  /** Glyphs without a Unicode mapping whose text was recovered from their glyph names. */
  recoveredGlyphs: z.number().int().nonnegative(),
  /** The script most of the page's letters are in (`none`: no letters). */
  script: z.enum(SCRIPTS),
  /** Lines put in logical order by the bidirectional algorithm (lines with right-to-left text). */
  rightToLeftLines: z.number().int().nonnegative(),
  /** How the lines were ordered. */
  order: z.enum([ReadingOrder.Position, ReadingOrder.Columns, ReadingOrder.Stream]),
  /** Most columns side by side found in a block of the page (1: none). */
  columns: z.number().int().positive(),
  /** Words hyphenated at a line end that were joined (hyphen removed, or kept for a compound). */
  hyphenationsJoined: z.number().int().nonnegative(),
});
/** Quality figures of one page's text. */
export type PageTextQuality = z.infer<typeof PageTextQualitySchema>;

/** The text of one page, as stored in the `pages.jsonl` artifact of `text_extracted`. */
export const PageTextSchema = z.object({
  /** 1-based page number. */
  page: z.number().int().positive(),
  /**
   * Lines in reading order separated by `\n`, paragraphs by a blank line; cells of one visual
   * row that a wide gap separates (table columns) are joined by `\t` on their line.
   */
  text: z.string(),
  /** The page's quality figures; absent in artifacts written before they were recorded. */
  quality: PageTextQualitySchema.optional(),
});
/** The text of one page. */
export type PageText = z.infer<typeof PageTextSchema>;

/** The part of a pdf.js text item this module reads. */
export interface TextRun {
  str: string;
  /** pdf.js's transform matrix; [4], [5] are x and y of the baseline start. */
  transform: number[];
  /** Advance width in page units (estimated from the height when absent). */
  width?: number;
  height: number;
  hasEOL: boolean;
  /** pdf.js's direction of the item (it has already put each item's own characters in logical order). */
  dir?: string;
  /** pdf.js's id of the item's font (for {@link GlyphResolver}). */
  fontName?: string;
}

/**
 * What to do with a character pdf.js could not map to Unicode (a control character, a private
 * use code point, U+FFFD, or any character of a font known to have no Unicode mapping): the
 * text recovered from its glyph name, `null` to drop it, or `undefined` to keep it as is.
 */
export type GlyphResolver = (fontName: string | undefined, char: string) => string | null | undefined;

/** Characters that never belong in extracted text: C0/C1 controls, private use, non-characters, U+FFFD. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const UNMAPPED_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uE000-\uF8FF\uFFFD\uFFFE\uFFFF]|[\uDB80-\uDBFF][\uDC00-\uDFFF]/u;
const UNMAPPED_CHARS = new RegExp(UNMAPPED_CHAR.source, 'gu');
/** Strong right-to-left letters (Hebrew, Arabic, Syriac, Thaana, NKo, and their presentation forms). */
const RTL_CHAR = /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]/u;
const RTL_CHARS = /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]/gu;
const LTR_CHARS = /[A-Za-z\u00C0-\u024F\u0370-\u03FF\u0400-\u04FF]/gu;

/**
 * A vertical gap larger than this many line heights starts a new paragraph. 1.5 separates
 * ordinary line spacing (1.0–1.3) from the blank line most layouts put between paragraphs.
 */
const PARAGRAPH_GAP_LINES = 1.5;
/** A horizontal gap wider than this many average character widths separates cells (`\t`). */
const CELL_GAP_CHARS = 2;
/** A gap wider than this fraction of the font size between two items of one cell is a word space. */
const WORD_GAP_EM = 0.15;
/** Baselines closer than this fraction of the font size are one line (superscripts included). */
const SAME_LINE_EM = 0.45;
/** A column block is broken by a vertical gap of more than this many line heights. */
const COLUMN_BREAK_LINES = 2.5;
/** Lines of text on each side of a gutter needed to read a block as columns. */
const MIN_COLUMN_LINES = 3;
/** A column's width at least, in average character widths (narrower ones are table columns). */
const MIN_COLUMN_CHARS = 20;
/** A column's lines fill at least this fraction of its width on average (prose does; table cells do not). */
const MIN_COLUMN_FILL = 0.55;
/** A column's lines, and the cells of its lines, are at least this many characters long on average. */
const MIN_COLUMN_LINE_CHARS = 15;
/**
 * Column search is quadratic in the lines of a page (each line may start a block that extends
 * over the rest) and linear in a line's gaps: beyond these a page is read by position only, and
 * only a line's widest gaps are tried as gutters. Real pages have well under 200 lines.
 */
const MAX_COLUMN_SEARCH_LINES = 1_000;
const MAX_GUTTER_CANDIDATES = 4;

interface Fragment {
  text: string;
  x0: number;
  x1: number;
  y: number;
  size: number;
  charWidth: number;
  dir: string;
  rtl: boolean;
  /** Whether pdf.js saw right-to-left letters in the item (and so reordered it); not when they all came from glyph names. */
  reorderedByPdfjs: boolean;
}

interface Cell {
  x0: number;
  x1: number;
  fragments: Fragment[];
}

interface Line {
  y: number;
  size: number;
  cells: Cell[];
}

/** bidi-js, built at first use: building it decodes its Unicode tables, which pages without right-to-left text never need. */
let bidi: ReturnType<typeof bidiFactory> | undefined;

/** The bidirectional algorithm's reordering of `text` with base direction `direction`. */
function reorder(text: string, direction: 'ltr' | 'rtl'): string {
  bidi ??= bidiFactory();
  return bidi.getReorderedString(text, bidi.getEmbeddingLevels(text, direction));
}

/** Characters of `text` matching `pattern` (a global, one-character class); no array of matches is built. */
const count = (text: string, pattern: RegExp): number => text.length - text.replace(pattern, '').length;

/**
 * A fragment's characters in visual order (left to right as drawn). pdf.js has put each item
 * in logical order with its own bidi pass; applying the algorithm again restores the drawn
 * order for the common cases (right-to-left letters, numbers and Latin words inside them).
 * Letters recovered from glyph names were unmapped codes when pdf.js ordered the item, so an
 * item with no other right-to-left letters is still in drawn order.
 */
function visualText(fragment: Fragment): string {
  return fragment.rtl && fragment.reorderedByPdfjs ? reorder(fragment.text, fragment.dir === 'rtl' ? 'rtl' : 'ltr') : fragment.text;
}

/** Items as fragments, with unmapped characters recovered or dropped (counted in `tally`). */
function fragmentsOf(items: readonly (TextRun | { type: string })[], resolve: GlyphResolver | undefined, tally: { dropped: number; recovered: number }): { fragments: Fragment[]; rotated: number } {
  const fragments: Fragment[] = [];
  let rotated = 0;
  for (const item of items) {
    if (!('str' in item) || item.str === '') continue;
    let text = '';
    // Fast path: nothing to resolve and nothing to drop (most items of most pages).
    if (resolve === undefined && !UNMAPPED_CHAR.test(item.str)) text = item.str;
    else for (const char of item.str) {
      const decision = resolve?.(item.fontName, char);
      if (decision === null) tally.dropped++;
      else if (decision !== undefined) {
        tally.recovered++;
        text += decision;
      } else if (UNMAPPED_CHAR.test(char)) tally.dropped++;
      else text += char;
    }
    text = text.replace(UNMAPPED_CHARS, '').replace(/[\t\n\r]/g, ' ');
    if (text.trim() === '') continue;
    const [a = 1, b = 0, c = 0, d = 1, x = 0, y = 0] = item.transform;
    if (Math.abs(b) > 1e-3 || Math.abs(c) > 1e-3 || a < 0 || d < 0) rotated++;
    const size = Math.abs(item.height) || Math.hypot(c, d) || 1;
    const width = item.width ?? text.length * size * 0.5;
    fragments.push({ text, x0: x, x1: x + width, y, size, charWidth: Math.max(width / Math.max(1, [...text].length), size * 0.2), dir: item.dir ?? 'ltr', rtl: RTL_CHAR.test(text), reorderedByPdfjs: RTL_CHAR.test(item.str) });
  }
  return { fragments, rotated };
}

/** Groups fragments into lines (top to bottom) and each line into cells (left to right). */
function linesOf(fragments: readonly Fragment[]): Line[] {
  const sorted = [...fragments].sort((p, q) => q.y - p.y || p.x0 - q.x0);
  const groups: Fragment[][] = [];
  let current: Fragment[] = [];
  let lineY = 0;
  let lineSize = 0;
  for (const fragment of sorted) {
    if (current.length > 0 && Math.abs(lineY - fragment.y) <= SAME_LINE_EM * Math.max(lineSize, fragment.size)) {
      current.push(fragment);
      lineSize = Math.max(lineSize, fragment.size);
      continue;
    }
    if (current.length > 0) groups.push(current);
    current = [fragment];
    lineY = fragment.y;
    lineSize = fragment.size;
  }
  if (current.length > 0) groups.push(current);
  return groups.map((group) => {
    const byX = group.sort((p, q) => p.x0 - q.x0);
    const cells: Cell[] = [];
    for (const fragment of byX) {
      const last = cells.at(-1);
      // The same text drawn again a hair to the side is fake bold (or a shadow): read it once.
      const previous = last?.fragments.at(-1);
      if (previous !== undefined && previous.text === fragment.text && Math.abs(previous.x0 - fragment.x0) < 0.2 * fragment.size) continue;
      const gapLimit = CELL_GAP_CHARS * Math.max(fragment.charWidth, last?.fragments.at(-1)?.charWidth ?? 0);
      if (last !== undefined && fragment.x0 - last.x1 <= gapLimit) {
        last.fragments.push(fragment);
        last.x1 = Math.max(last.x1, fragment.x1);
      } else cells.push({ x0: fragment.x0, x1: fragment.x1, fragments: [fragment] });
    }
    // Baseline of the line: that of its largest fragment (a superscript mark does not move it).
    const main = group.reduce((p, q) => (q.size > p.size ? q : p));
    return { y: main.y, size: main.size, cells };
  });
}

/** Whether most strong letters of `text` are right-to-left. */
const isRtlText = (text: string): boolean => count(text, RTL_CHARS) > count(text, LTR_CHARS);

/** A cell's text in logical order. */
function cellText(cell: Cell): { text: string; rtl: boolean } {
  let visual = '';
  let previous: Fragment | undefined;
  for (const fragment of cell.fragments) {
    const piece = visualText(fragment);
    if (previous !== undefined) {
      const gap = fragment.x0 - previous.x1;
      if (gap > WORD_GAP_EM * Math.max(previous.size, fragment.size) && !/\s$/.test(visual) && !/^\s/.test(piece)) visual += ' ';
    }
    visual += piece;
    previous = fragment;
  }
  visual = visual.replace(/\s+/g, ' ').trim();
  if (!RTL_CHAR.test(visual)) return { text: visual, rtl: false };
  const rtl = isRtlText(visual);
  return { text: reorder(visual, rtl ? 'rtl' : 'ltr'), rtl };
}

/** A line's text: cells in reading order joined by `\t` (right to left when the line is right-to-left). */
function lineText(line: Line, stats: { rtlLines: number }): string {
  const cells = line.cells.map(cellText).filter((cell) => cell.text !== '');
  if (cells.some((cell) => cell.rtl || RTL_CHAR.test(cell.text))) stats.rtlLines++;
  const rtlLine = cells.filter((cell) => cell.rtl).length * 2 > cells.length;
  return (rtlLine ? cells.reverse() : cells).map((cell) => cell.text).join('\t');
}

/** The free horizontal interval of `line` that overlaps [a, b] most, intersected with it; null if none. */
function narrowGutter(line: Line, a: number, b: number): [number, number] | null {
  let left = a;
  let right = b;
  for (const cell of line.cells) {
    if (cell.x1 <= left || cell.x0 >= right) continue;
    // The cell overlaps the gutter: keep the wider remaining side.
    if (cell.x0 - left >= right - cell.x1) right = Math.min(right, cell.x0);
    else left = Math.max(left, cell.x1);
  }
  return right > left ? [left, right] : null;
}

/** Average character width over lines. */
function averageCharWidth(lines: readonly Line[]): number {
  const fragments = lines.flatMap((line) => line.cells.flatMap((cell) => cell.fragments));
  return fragments.reduce((sum, fragment) => sum + fragment.charWidth, 0) / Math.max(1, fragments.length) || 5;
}

/** Whether the cells of one side of a candidate gutter read as a column of prose. */
function isProseColumn(sides: readonly Cell[][], charWidth: number): boolean {
  const lines = sides.filter((cells) => cells.length > 0);
  if (lines.length < MIN_COLUMN_LINES) return false;
  const x0 = Math.min(...lines.map((cells) => (cells[0] as Cell).x0));
  const x1 = Math.max(...lines.map((cells) => (cells.at(-1) as Cell).x1));
  const width = x1 - x0;
  if (width < MIN_COLUMN_CHARS * charWidth) return false;
  // A prose line's cells are long (a line of words, or whole lines of columns further in); a
  // side made of short cells separated by wide gaps ("Calacatta Oro", "60x120 cm") is a group
  // of table columns, not a column of text.
  const cells = lines.flat();
  const charsPerCell = cells.reduce((n, cell) => n + cell.fragments.reduce((m, f) => m + f.text.length, 0), 0) / cells.length;
  if (charsPerCell < MIN_COLUMN_LINE_CHARS) return false;
  const fill = lines.reduce((sum, cells) => sum + ((cells.at(-1) as Cell).x1 - (cells[0] as Cell).x0) / width, 0) / lines.length;
  const chars = lines.reduce((sum, cells) => sum + cells.reduce((n, cell) => n + cell.fragments.reduce((m, f) => m + f.text.length, 0), 0), 0) / lines.length;
  return fill >= MIN_COLUMN_FILL && chars >= MIN_COLUMN_LINE_CHARS;
}

/** A block of lines read as two columns split at `gutter`. */
interface ColumnBlock {
  start: number;
  end: number;
  gutter: number;
}

/**
 * Gutter candidates at line `start`: the gaps between its cells, and the gap between it and the
 * next line when one lies wholly left of the other (columns whose baselines do not line up
 * give no line with text on both sides, only such alternating lines).
 */
function gutterCandidates(lines: readonly Line[], start: number): [number, number][] {
  const first = lines[start] as Line;
  const gaps = first.cells.slice(1).map((cell, index): [number, number] => [(first.cells[index] as Cell).x1, cell.x0]);
  const next = lines[start + 1];
  if (next !== undefined) {
    const [a0, a1] = [(first.cells[0] as Cell).x0, (first.cells.at(-1) as Cell).x1];
    const [b0, b1] = [(next.cells[0] as Cell).x0, (next.cells.at(-1) as Cell).x1];
    if (a1 < b0) gaps.push([a1, b0]);
    else if (b1 < a0) gaps.push([b1, a0]);
  }
  return gaps.sort((p, q) => q[1] - q[0] - (p[1] - p[0])).slice(0, MAX_GUTTER_CANDIDATES);
}

/** The longest column block starting at line `start`, or null. */
function columnBlockAt(lines: readonly Line[], start: number, charWidth: number): ColumnBlock | null {
  let best: ColumnBlock | null = null;
  for (const gap of gutterCandidates(lines, start)) {
    let gutter: [number, number] = gap;
    if (gutter[1] - gutter[0] < CELL_GAP_CHARS * charWidth) continue;
    let end = start + 1;
    while (end < lines.length) {
      const line = lines[end] as Line;
      const previous = lines[end - 1] as Line;
      if (previous.y - line.y > COLUMN_BREAK_LINES * Math.max(previous.size, line.size)) break;
      const narrowed: [number, number] | null = narrowGutter(line, gutter[0], gutter[1]);
      if (narrowed === null || narrowed[1] - narrowed[0] < CELL_GAP_CHARS * charWidth) break;
      gutter = narrowed;
      end++;
    }
    const middle = (gutter[0] + gutter[1]) / 2;
    const block = lines.slice(start, end);
    const left = block.map((line) => line.cells.filter((cell) => cell.x1 <= middle));
    const right = block.map((line) => line.cells.filter((cell) => cell.x0 >= middle));
    // Each side must be a column of prose (at least three lines of it): a table's columns are not.
    if (!isProseColumn(left, charWidth) || !isProseColumn(right, charWidth)) continue;
    if (best === null || end - start > best.end - best.start) best = { start, end, gutter: middle };
  }
  return best;
}

/** Output lines of a layout: text, or a paragraph break (`null`). */
type OutLine = string | null;

/**
 * Lines in reading order: top to bottom, with blocks of columns read column by column (left
 * first, right first on a right-to-left page), recursively so three columns work too.
 */
function layout(lines: readonly Line[], stats: { rtlLines: number; columns: number }, depth = 0): OutLine[] {
  const out: OutLine[] = [];
  const charWidth = averageCharWidth(lines);
  let previous: Line | null = null;
  let index = 0;
  while (index < lines.length) {
    const block = depth < 3 && lines.length <= MAX_COLUMN_SEARCH_LINES ? columnBlockAt(lines, index, charWidth) : null;
    if (block !== null) {
      const part = lines.slice(block.start, block.end);
      const side = (keep: (cell: Cell) => boolean): Line[] =>
        part.map((line) => ({ ...line, cells: line.cells.filter(keep) })).filter((line) => line.cells.length > 0);
      const leftLines = side((cell) => cell.x1 <= block.gutter);
      const rightLines = side((cell) => cell.x0 >= block.gutter);
      const rtlPage = part.reduce((sum, line) => sum + (line.cells.some((cell) => cell.fragments.some((f) => f.rtl)) ? 1 : -1), 0) > 0;
      const columnStats = { rtlLines: 0, columns: 1 };
      const first = layout(rtlPage ? rightLines : leftLines, columnStats, depth + 1);
      const firstColumns = columnStats.columns;
      columnStats.columns = 1;
      const second = layout(rtlPage ? leftLines : rightLines, columnStats, depth + 1);
      stats.columns = Math.max(stats.columns, firstColumns + columnStats.columns);
      stats.rtlLines += columnStats.rtlLines;
      if (out.length > 0) out.push(null);
      out.push(...first, null, ...second);
      previous = null;
      index = block.end;
      continue;
    }
    const line = lines[index] as Line;
    const text = lineText(line, stats);
    if (text !== '') {
      if (previous !== null) {
        const gap = previous.y - line.y;
        const height = Math.max(previous.size, line.size, 1);
        if (gap > PARAGRAPH_GAP_LINES * height || gap < -height) out.push(null);
      } else if (out.length > 0 && out.at(-1) !== null) out.push(null);
      out.push(text);
      previous = line;
    }
    index++;
  }
  return out;
}

const HYPHENATED_END = /(\p{L}+)([-\u2010\u00AD])$/u;
const CONTINUATION = /^(\p{Ll}\p{L}*)([\s\S]*)$/u;

/**
 * Joins words hyphenated at line ends. A soft hyphen (U+00AD) marks a hyphenation point and is
 * always removed. A hard hyphen is removed when the joined word is a word of the page (it
 * occurs elsewhere on the page, unhyphenated); otherwise the word is kept whole with its
 * hyphen ("well-known"), which is right for compounds and leaves a broken word no worse.
 * The joined word goes to the end of the first line; the rest of the second line stays.
 */
function joinHyphenated(lines: OutLine[]): number {
  if (!lines.some((line) => line !== null && HYPHENATED_END.test(line))) return 0;
  const words = new Set<string>();
  for (const line of lines) {
    if (line === null) continue;
    for (const word of line.match(/\p{L}+/gu) ?? []) words.add(word.toLowerCase());
  }
  let joined = 0;
  for (let index = 0; index + 1 < lines.length; index++) {
    const line = lines[index];
    const next = lines[index + 1];
    if (line === null || line === undefined || next === null || next === undefined || line.includes('\t') || RTL_CHAR.test(line)) continue;
    const end = HYPHENATED_END.exec(line);
    const start = CONTINUATION.exec(next);
    if (end === null || start === null) continue;
    const [, head = '', hyphen = ''] = end;
    const [, tail = '', rest = ''] = start;
    const whole = `${head}${tail}`;
    const withoutHyphen = hyphen === '\u00AD' || words.has(whole.toLowerCase());
    const stem = line.slice(0, line.length - hyphen.length);
    lines[index] = withoutHyphen ? `${stem}${tail}` : `${stem}-${tail}`;
    // Keep the punctuation that ends the joined word with it ("adhe-" + "sive." → "adhesive.").
    const punctuation = /^[.,;:!?)\]”’"']+/u.exec(rest)?.[0] ?? '';
    lines[index] += punctuation;
    const remainder = rest.slice(punctuation.length).trim();
    if (remainder === '') lines.splice(index + 1, 1);
    else lines[index + 1] = remainder;
    joined++;
  }
  return joined;
}

/** The dominant script of `text`. */
function dominantScript(text: string): PageTextQuality['script'] {
  // Fast path: Latin text only (ASCII, Latin-1, Latin Extended-A/B), the common case.
  if (/^[\u0020-\u024F\s]*$/u.test(text)) return /[A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u024F]/u.test(text) ? 'latin' : 'none';
  const counts: [PageTextQuality['script'], number][] = [
    ['latin', count(text, /\p{Script=Latin}/gu)],
    ['arabic', count(text, /\p{Script=Arabic}/gu)],
    ['hebrew', count(text, /\p{Script=Hebrew}/gu)],
    ['greek', count(text, /\p{Script=Greek}/gu)],
    ['cyrillic', count(text, /\p{Script=Cyrillic}/gu)],
    ['cjk', count(text, /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/gu)],
  ];
  const letters = count(text, /\p{L}/gu);
  if (letters === 0) return 'none';
  const [script, n] = counts.reduce((p, q) => (q[1] > p[1] ? q : p));
  return n * 2 >= letters ? script : 'other';
}

/** Old, stream-order lines: for pages whose text is mostly rotated (positions do not give lines). */
function streamOrderLines(items: readonly (TextRun | { type: string })[], keep: (text: string) => string): OutLine[] {
  const out: OutLine[] = [];
  let text = '';
  for (const item of items) {
    if (!('str' in item)) continue;
    text += item.str;
    if (item.hasEOL) {
      out.push(keep(text));
      text = '';
    }
  }
  out.push(keep(text));
  return out.map((line) => (line === null ? null : line.replace(/\s+/g, ' ').trim())).filter((line) => line !== '');
}

/** Page text with its quality figures. */
export interface PageTextResult {
  text: string;
  quality: PageTextQuality;
}

/**
 * Turns pdf.js text items into page text in reading order, with its quality figures:
 * - characters pdf.js could not map to Unicode are recovered with `resolve` (glyph names) or
 *   dropped and counted;
 * - items are grouped into lines by baseline and ordered by position, not by content-stream
 *   order (footnotes drawn first come last); blocks of prose columns are read column by column;
 * - cells of one row separated by a wide gap (over two character widths) are joined by `\t`;
 * - right-to-left lines are put in logical order by the Unicode bidirectional algorithm;
 * - words hyphenated at line ends are joined (see `joinHyphenated`);
 * - a blank line marks a paragraph break (a vertical gap over 1.5 line heights, or a column change).
 */
export function extractTextFromRuns(items: readonly (TextRun | { type: string })[], resolve?: GlyphResolver): PageTextResult {
  const tally = { dropped: 0, recovered: 0 };
  const { fragments, rotated } = fragmentsOf(items, resolve, tally);
  const stats = { rtlLines: 0, columns: 1 };
  let order: ReadingOrder;
  let lines: OutLine[];
  if (rotated * 2 > fragments.length) {
    order = ReadingOrder.Stream;
    const clean = (text: string): string => [...text].filter((char) => !UNMAPPED_CHAR.test(char) && resolve?.(undefined, char) !== null).join('');
    lines = streamOrderLines(items, clean);
  } else {
    lines = layout(linesOf(fragments), stats);
    order = stats.columns > 1 ? ReadingOrder.Columns : ReadingOrder.Position;
  }
  // No paragraph break at the start or end, nor two in a row.
  const compact = lines.filter((line, index) => line !== null || (index > 0 && lines[index - 1] !== null));
  while (compact.at(-1) === null) compact.pop();
  const hyphenationsJoined = joinHyphenated(compact);
  const text = compact
    .map((line) => (line === null ? '' : line.replace(/\u00AD/g, '')))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n');
  return {
    text,
    quality: {
      characters: text.length,
      droppedGlyphs: tally.dropped,
      recoveredGlyphs: tally.recovered,
      script: dominantScript(text),
      rightToLeftLines: stats.rtlLines,
      order,
      columns: stats.columns,
      hyphenationsJoined,
    },
  };
}

/** The text of {@link extractTextFromRuns} alone. */
export function pageTextFromRuns(items: readonly (TextRun | { type: string })[], resolve?: GlyphResolver): string {
  return extractTextFromRuns(items, resolve).text;
}

/** Encodes pages as the `pages.jsonl` artifact. */
export function encodePageTexts(pages: readonly PageText[]): string {
  return toJsonLines(pages);
}

/**
 * One page's line of the `pages.jsonl` artifact (newline included): what `text_extracted`
 * keeps per page, so it holds each page once, as the text it will store, not as objects too.
 */
export function encodePageText(page: PageText): string {
  return toJsonLines([page]);
}

/** Decodes the `pages.jsonl` artifact (validated). */
export function decodePageTexts(text: string): PageText[] {
  return z.array(PageTextSchema).parse(fromJsonLines(text));
}
