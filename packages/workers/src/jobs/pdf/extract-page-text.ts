/**
 * Thread side of `text_extracted`: one page's text with pdf.js, in a CPU-pool thread. Text
 * extraction parses the whole content stream; on the main thread a page of 100 MiB of text
 * operators blocked the event loop for 79 s (no heartbeat, no lock renewal). In a thread it is
 * bounded by the thread's heap limit and the task's time limit, and the main thread stays free.
 */
import { readFile } from 'node:fs/promises';
import { unicodeFromGlyphName } from './glyph-names.js';
import { extractTextFromRuns, UNMAPPED_CHAR, type GlyphResolver, type PageTextQuality, type TextRun } from './page-text.js';
import { describePdfJsFailure, openPdfDocument, PdfPurpose } from './pdfjs.js';
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
  /** `Type1`, `TrueType`, `Type3`, … */
  type?: string;
  /** Glyph names by character code (the font's /Differences over its base encoding). */
  differences?: (string | undefined)[];
  defaultEncoding?: (string | undefined)[];
  /** pdf.js's code → Unicode map: `_map` for a real one, `firstChar`/`lastChar` for the identity map. */
  toUnicode?: { _map?: (string | undefined)[]; firstChar?: number; lastChar?: number };
}

const PLAIN_ASCII = /^[\x20-\x7E]*$/;
const ADJACENT_SYMBOLS = /[!-/:-@[-`{-~]{2}/;
/** A word-like run of 3+ characters. */
const TOKENS = /\S{3,}/gu;
/** Letters of the scripts whose mixing inside one word betrays raw glyph codes. */
const SCRIPT_CLASSES = [/\p{Script=Latin}/u, /\p{Script=Greek}/u, /\p{Script=Cyrillic}/u, /\p{Script=Arabic}/u, /\p{Script=Hebrew}/u, /\p{Script=Armenian}/u];

/**
 * Whether the page's text looks like it holds glyph codes rather than text: a control or
 * private-use character, a word mixing scripts (`ϲΒϴ˴`-like), or a word made mostly of ASCII
 * symbols (the codes of a font whose glyph names pdf.js could not read come out as `('$&`).
 * Only then is the font data loaded (a second pass over the page), so clean pages cost nothing.
 */
export function looksUnmapped(items: readonly TextRun[]): boolean {
  for (const item of items) {
    if (UNMAPPED_CHAR.test(item.str)) return true;
    // Fast path: printable ASCII with no two symbols in a row cannot hold a symbol-heavy word.
    if (PLAIN_ASCII.test(item.str) && !ADJACENT_SYMBOLS.test(item.str)) continue;
    for (const [token] of item.str.matchAll(TOKENS)) {
      const chars = [...token];
      if (SCRIPT_CLASSES.filter((script) => script.test(token)).length > 1) return true;
      const symbols = chars.filter((char) => /[!-/:-@[-`{-~]/.test(char)).length;
      if (symbols * 10 > chars.length * 6 && new Set(chars).size > 2) return true;
    }
  }
  return false;
}

/** Per font: characters to replace (recovered text) or drop (null). */
type Overrides = Map<string, string | null>;

/**
 * What to do with each character of one font that pdf.js could not map. pdf.js gives a glyph
 * whose name it does not know its character code as text (a control character below 32, an
 * ASCII symbol above); such a code is read instead by its glyph name (Adobe Glyph List rules),
 * or dropped when no rule maps the name. `null` for the whole font (see the resolver).
 */
function overridesOf(info: FontInfo): Overrides | null {
  const map = info.toUnicode?._map;
  // A composite (CID) font whose Unicode map is the identity has no mapping at all: its
  // characters are raw glyph ids (the `ϲΒϴ˴` of issue 16).
  if (info.composite === true) return map === undefined ? null : new Map();
  const names = (code: number): string | undefined => info.differences?.[code] ?? info.defaultEncoding?.[code];
  const fallback = (code: number, unicode: string | undefined): boolean => unicode === undefined || unicode === String.fromCodePoint(code) || UNMAPPED_CHAR.test(unicode);
  // Names the font did map through pdf.js's full glyph list, for components of suffixed names.
  const known = new Map<string, string>();
  const legit = new Set<string>();
  const size = Math.max(map?.length ?? 0, info.differences?.length ?? 0);
  for (let code = 0; code < size; code++) {
    const name = names(code);
    const unicode = map?.[code];
    if (name !== undefined && unicode !== undefined && !fallback(code, unicode)) known.set(name, unicode);
  }
  const overrides: Overrides = new Map();
  const hasDifferences = (info.differences ?? []).some((name) => name !== undefined);
  for (let code = 0; code < size; code++) {
    const name = names(code);
    const unicode = map?.[code];
    const char = String.fromCodePoint(code);
    if (name === undefined || !fallback(code, unicode)) {
      // With /Differences, the codes they name are the font's glyphs (in a Type 3 font the
      // only ones); base-encoding codes outside them say nothing about the text.
      if (unicode !== undefined && (!hasDifferences || info.differences?.[code] !== undefined)) legit.add(unicode);
      continue;
    }
    const recovered = unicodeFromGlyphName(name, known);
    if (recovered === char) legit.add(char);
    else if (recovered !== undefined) overrides.set(unicode ?? char, recovered);
    // An unknown name: drop its code's character when it cannot be real text (a control
    // character) or the font is a Type 3 font (its glyph names are all it has).
    else if (UNMAPPED_CHAR.test(char) || info.type === 'Type3') overrides.set(unicode ?? char, null);
  }
  // A character that another code maps to legitimately stays.
  for (const char of legit) overrides.delete(char);
  return overrides;
}

/**
 * A resolver for the page's characters pdf.js could not map (see {@link overridesOf}), or
 * undefined when the page shows no sign of them (see {@link looksUnmapped}).
 */
async function glyphResolverFor(input: ExtractPageTextInput, items: readonly TextRun[]): Promise<{ resolve: GlyphResolver; items: TextRun[] } | undefined> {
  if (!looksUnmapped(items)) return undefined;
  // A second, short-lived open with the fonts' extra properties: they slow every page of a
  // document opened with them (about a third in the pdf-text benchmark), so only such pages pay.
  const document = await openPdfDocument(await readFile(input.pdfPath), PdfPurpose.Text, { maxImagePixels: input.maxImagePixels, fontExtraProperties: true });
  try {
    const page = await document.getPage(input.pageNumber);
    const fresh = ((await page.getTextContent()).items as (TextRun | { type: string })[]).filter((item): item is TextRun => 'str' in item);
    await page.getOperatorList();
    const fonts = new Map<string, Overrides | null>();
    for (const name of new Set(fresh.map((item) => item.fontName))) {
      if (name !== undefined && page.commonObjs.has(name)) fonts.set(name, overridesOf(page.commonObjs.get(name) as FontInfo));
    }
    const resolve: GlyphResolver = (fontName, char) => {
      const overrides = fontName === undefined ? undefined : fonts.get(fontName);
      if (overrides === undefined) return UNMAPPED_CHAR.test(char) ? null : undefined;
      if (overrides === null) return char === ' ' ? undefined : null;
      const decision = overrides.get(char);
      if (decision !== undefined) return decision;
      return UNMAPPED_CHAR.test(char) ? null : undefined;
    };
    return { resolve, items: fresh };
  } finally {
    await document.destroy();
  }
}

/** Extracts the text of page `pageNumber`. The CPU task `extractPageText`. */
export function extractPageText(input: ExtractPageTextInput): Promise<ExtractPageTextOutput> {
  return withThreadPage(input, PdfPurpose.Text, async (page): Promise<ExtractPageTextOutput> => {
    try {
      const content = await page.getTextContent();
      const items = content.items as (TextRun | { type: string })[];
      const runs = items.filter((item): item is TextRun => 'str' in item);
      const withFonts = await glyphResolverFor(input, runs);
      const result = withFonts === undefined ? extractTextFromRuns(items) : extractTextFromRuns(withFonts.items, withFonts.resolve);
      return { ok: true, pageNumber: input.pageNumber, ...result };
    } catch (error) {
      return { ok: false, pageNumber: input.pageNumber, reason: `page text cannot be read (${describePdfJsFailure(error)})` };
    }
  });
}
