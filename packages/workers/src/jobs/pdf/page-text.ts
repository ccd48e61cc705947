import { z } from 'zod';
import { fromJsonLines, toJsonLines } from '../shared/artifact-io.js';

/** The text of one page, as stored in the `pages.jsonl` artifact of `text_extracted`. */
export const PageTextSchema = z.object({
  /** 1-based page number. */
  page: z.number().int().positive(),
  /** Lines separated by `\n`, paragraphs by a blank line. */
  text: z.string(),
});
/** The text of one page. */
export type PageText = z.infer<typeof PageTextSchema>;

/** The part of a pdf.js text item this module reads. */
export interface TextRun {
  str: string;
  /** pdf.js's transform matrix; [4], [5] are x and y of the baseline start. */
  transform: number[];
  height: number;
  hasEOL: boolean;
}

/**
 * A vertical gap larger than this many line heights starts a new paragraph. 1.5 separates
 * ordinary line spacing (1.0–1.3) from the blank line most layouts put between paragraphs.
 */
const PARAGRAPH_GAP_LINES = 1.5;

interface Line {
  text: string;
  y: number;
  height: number;
}

/**
 * Turns pdf.js text items into page text: runs joined into lines (pdf.js flags line ends),
 * lines joined with `\n`, and a blank line where the vertical gap says a new paragraph
 * starts, so chunking can cut at paragraphs. Whitespace runs collapse to one space.
 */
export function pageTextFromRuns(items: readonly (TextRun | { type: string })[]): string {
  const lines: Line[] = [];
  let current: Line | null = null;
  for (const item of items) {
    if (!('str' in item)) continue; // marked-content boundaries carry no text
    if (current === null) current = { text: '', y: item.transform[5] ?? 0, height: Math.abs(item.height) };
    current.text += item.str;
    current.height = Math.max(current.height, Math.abs(item.height));
    if (item.hasEOL) {
      lines.push(current);
      current = null;
    }
  }
  if (current !== null) lines.push(current);
  let text = '';
  let previous: Line | null = null;
  for (const line of lines) {
    const clean = line.text.replace(/\s+/g, ' ').trim();
    if (clean === '') continue;
    if (previous !== null) {
      const gap = previous.y - line.y;
      const height = Math.max(previous.height, line.height, 1);
      // A jump upwards is a new column or text box: also a paragraph boundary.
      text += gap > PARAGRAPH_GAP_LINES * height || gap < -height ? '\n\n' : '\n';
    }
    text += clean;
    previous = line;
  }
  return text;
}

/** Encodes pages as the `pages.jsonl` artifact. */
export function encodePageTexts(pages: readonly PageText[]): string {
  return toJsonLines(pages);
}

/** Decodes the `pages.jsonl` artifact (validated). */
export function decodePageTexts(text: string): PageText[] {
  return z.array(PageTextSchema).parse(fromJsonLines(text));
}
