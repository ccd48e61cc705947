import { z } from 'zod';
import type { PageText } from './page-text.js';

/** One chunk of page text, as stored in the `chunks.jsonl` artifact of `embeddings_created`. */
export const TextChunkSchema = z.object({
  /** 0-based position in the document's chunk list (and row of the vector matrix). */
  index: z.number().int().nonnegative(),
  /** 1-based page the chunk is from; chunks never span pages, so every hit cites one page. */
  page: z.number().int().positive(),
  /** Start offset in the page text (UTF-16 code units). */
  start: z.number().int().nonnegative(),
  /** End offset (exclusive). */
  end: z.number().int().positive(),
  text: z.string().min(1),
});
/** One chunk of page text. */
export type TextChunk = z.infer<typeof TextChunkSchema>;

/** Sizes of {@link chunkPages}. */
export interface ChunkingOptions {
  /** Longest chunk (characters). */
  chunkSizeChars: number;
  /** Characters the start of a chunk repeats from the end of the previous one on the same page. */
  chunkOverlapChars: number;
}

interface Span {
  start: number;
  end: number;
}

const isSpace = (char: string | undefined): boolean => char !== undefined && /\s/.test(char);

/** Paragraphs (split at blank lines) as spans of `text`, without surrounding whitespace. */
function paragraphSpans(text: string): Span[] {
  const spans: Span[] = [];
  const pattern = /\S[\s\S]*?(?=\n[ \t]*\n|$)/g;
  for (const match of text.matchAll(pattern)) {
    const start = match.index;
    let end = start + match[0].length;
    while (end > start && isSpace(text[end - 1])) end--;
    if (end > start) spans.push({ start, end });
  }
  return spans;
}

/** Splits a span longer than `size` at whitespace (hard cut inside a word longer than `size`). */
function splitLong(text: string, span: Span, size: number): Span[] {
  if (span.end - span.start <= size) return [span];
  const pieces: Span[] = [];
  let start = span.start;
  while (start < span.end) {
    while (start < span.end && isSpace(text[start])) start++;
    if (start >= span.end) break;
    if (span.end - start <= size) {
      pieces.push({ start, end: span.end });
      break;
    }
    let cut = start + size;
    while (cut > start && !isSpace(text[cut])) cut--;
    if (cut === start) cut = start + size;
    let end = cut;
    while (end > start && isSpace(text[end - 1])) end--;
    pieces.push({ start, end });
    start = cut;
  }
  return pieces;
}

/** First word start in [from, limit], or `limit` when there is none. */
function wordStartAtOrAfter(text: string, from: number, limit: number): number {
  let position = from;
  if (position > 0 && !isSpace(text[position - 1])) {
    while (position < limit && !isSpace(text[position])) position++;
  }
  while (position < limit && isSpace(text[position])) position++;
  return Math.min(position, limit);
}

/** Chunks one page's text (see {@link chunkPages}). */
function chunkPage(text: string, options: ChunkingOptions): Span[] {
  const size = options.chunkSizeChars;
  const units = paragraphSpans(text).flatMap((span) => splitLong(text, span, size));
  const chunks: Span[] = [];
  let index = 0;
  let chunkStart = units[0]?.start ?? 0;
  while (index < units.length) {
    let end = (units[index] as Span).end;
    let next = index + 1;
    while (next < units.length && (units[next] as Span).end - chunkStart <= size) {
      end = (units[next] as Span).end;
      next++;
    }
    chunks.push({ start: chunkStart, end });
    if (next >= units.length) break;
    const unit = units[next] as Span;
    let start = unit.start;
    if (options.chunkOverlapChars > 0) {
      // Repeat the previous chunk's tail, from a word start, as long as the next unit still fits.
      const earliest = Math.max(end - options.chunkOverlapChars, chunkStart + 1, unit.end - size);
      start = wordStartAtOrAfter(text, earliest, unit.start);
    }
    chunkStart = start;
    index = next;
  }
  return chunks;
}

/**
 * Splits pages into chunks for embedding: paragraphs are packed whole into chunks of at most
 * `chunkSizeChars`; a longer paragraph is cut at word boundaries; consecutive chunks of a page
 * overlap by up to `chunkOverlapChars` (from a word start), so a sentence cut at a chunk
 * boundary is whole in one of the two. Chunks never cross pages. Empty pages give none.
 */
export function chunkPages(pages: readonly PageText[], options: ChunkingOptions): TextChunk[] {
  const chunks: TextChunk[] = [];
  for (const page of pages) {
    for (const span of chunkPage(page.text, options)) {
      chunks.push({ index: chunks.length, page: page.page, start: span.start, end: span.end, text: page.text.slice(span.start, span.end) });
    }
  }
  return chunks;
}
