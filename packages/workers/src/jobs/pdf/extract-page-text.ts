/**
 * Thread side of `text_extracted`: one page's text with pdf.js, in a CPU-pool thread. Text
 * extraction parses the whole content stream; on the main thread a page of 100 MiB of text
 * operators blocked the event loop for 79 s (no heartbeat, no lock renewal). In a thread it is
 * bounded by the thread's heap limit and the task's time limit, and the main thread stays free.
 */
import type { PDFPageProxy } from 'pdfjs-dist';
import { unicodeFromGlyphName } from './glyph-names.js';
import { extractTextFromRuns, UNMAPPED_CHAR, type GlyphResolver, type PageTextQuality, type TextRun } from './page-text.js';
import { describePdfJsFailure, PdfPurpose } from './pdfjs.js';
import { withThreadPage, type PageOverLimit, type ThreadDocumentInput } from './thread-documents.js';

/** What the main thread sends for one page. */
export interface ExtractPageTextInput extends ThreadDocumentInput {
  /** 1-based page number. */
  pageNumber: number;
}

/** The page's text, why it could not be read (the page is left empty), or the limit it went over. */
export type ExtractPageTextOutput =
  | { ok: true; pageNumber: number; text: string; quality: PageTextQuality }
  | { ok: false; pageNumber: number; reason: string; limit?: undefined }
  | PageOverLimit;

/** The part of pdf.js's font object (with `fontExtraProperties`) the glyph resolver reads. */
interface FontInfo {
  composite?: boolean;
  /** Glyph names by character code (the font's /Differences over its base encoding). */
  differences?: (string | undefined)[];
  defaultEncoding?: (string | undefined)[];
  /** pdf.js's code → Unicode map: `_map` for a real one, `firstChar`/`lastChar` for the identity map. */
  toUnicode?: { _map?: (string | undefined)[]; firstChar?: number; lastChar?: number };
}

/**
 * A resolver for the page's characters pdf.js could not map. pdf.js gives a glyph without a
 * Unicode mapping the character of its code; the code's glyph name (from the font's encoding)
 * is then read by the Adobe Glyph List's rules. A composite (CID) font whose Unicode map is the
 * identity has no mapping at all: its characters are raw glyph ids (the `ϲΒϴ˴` of the issue),
 * so all of them are dropped. Font data is loaded only for pages that have such characters:
 * it takes a second pass over the page (its operator list).
 */
async function glyphResolverFor(page: PDFPageProxy, items: readonly TextRun[]): Promise<GlyphResolver | undefined> {
  const suspectFonts = new Set(items.filter((item) => UNMAPPED_CHAR.test(item.str)).map((item) => item.fontName));
  if (suspectFonts.size === 0) return undefined;
  await page.getOperatorList();
  const fonts = new Map<string, { info: FontInfo; known: Map<string, string> }>();
  for (const name of new Set(items.map((item) => item.fontName))) {
    if (name === undefined || !page.commonObjs.has(name)) continue;
    const info = page.commonObjs.get(name) as FontInfo;
    // Names this font did map (pdf.js's full glyph list), so a suffixed variant maps the same way.
    const known = new Map<string, string>();
    const map = info.toUnicode?._map;
    if (map !== undefined) {
      for (let code = 0; code < map.length; code++) {
        const glyph = info.differences?.[code] ?? info.defaultEncoding?.[code];
        const unicode = map[code];
        if (glyph !== undefined && unicode !== undefined && !UNMAPPED_CHAR.test(unicode)) known.set(glyph, unicode);
      }
    }
    fonts.set(name, { info, known });
  }
  return (fontName, char) => {
    const font = fontName === undefined ? undefined : fonts.get(fontName);
    if (font === undefined) return UNMAPPED_CHAR.test(char) ? null : undefined;
    if (font.info.composite === true && font.info.toUnicode?._map === undefined) return char === ' ' ? undefined : null;
    if (!UNMAPPED_CHAR.test(char)) return undefined;
    const code = char.codePointAt(0) as number;
    const glyph = font.info.differences?.[code] ?? font.info.defaultEncoding?.[code];
    return (glyph === undefined ? undefined : unicodeFromGlyphName(glyph, font.known)) ?? null;
  };
}

/** Extracts the text of page `pageNumber`. The CPU task `extractPageText`. */
export function extractPageText(input: ExtractPageTextInput): Promise<ExtractPageTextOutput> {
  return withThreadPage(input, PdfPurpose.Text, async (page): Promise<ExtractPageTextOutput> => {
    try {
      const content = await page.getTextContent();
      const items = content.items as (TextRun | { type: string })[];
      const runs = items.filter((item): item is TextRun => 'str' in item);
      const resolve = await glyphResolverFor(page, runs);
      return { ok: true, pageNumber: input.pageNumber, ...extractTextFromRuns(items, resolve) };
    } catch (error) {
      return { ok: false, pageNumber: input.pageNumber, reason: `page text cannot be read (${describePdfJsFailure(error)})` };
    }
  });
}
