import { z } from 'zod';
import { parseOrThrow } from '@kai-jobs/queue';
import type { PageText } from '../page-text.js';
import { COLOUR_TERMS, FINISH_TERMS, MATERIAL_TERMS } from './material-dictionary.js';
import { MaterialCategorySchema, materialKey, mergeMaterials, type Material, type MaterialCategory } from './material.js';
import type { MaterialExtractor } from './material-extractor.js';
import { findDimensions, findThickness } from './measurements.js';

/** Options of {@link RuleBasedMaterialExtractor}. */
export const RuleBasedMaterialExtractorOptionsSchema = z
  .object({
    /** More material names (lower case) and their category, added to the built-in dictionary. Default none. */
    extraTerms: z.record(z.string().min(2), MaterialCategorySchema).default({}),
  })
  .strict();
/** What callers pass to construct a {@link RuleBasedMaterialExtractor}. */
export type RuleBasedMaterialExtractorOptions = z.input<typeof RuleBasedMaterialExtractorOptionsSchema>;

/** Longest excerpt kept with a material (characters). */
const EXCERPT_CHARS = 300;

/** Lower case, hyphens and whitespace runs as one space: `Bush-Hammered` → `bush hammered`. */
function normalizeTerm(term: string): string {
  return term.toLowerCase().replace(/[\s-]+/g, ' ');
}

/** A term dictionary keyed by normalised spelling. */
function normalizedMap<V>(terms: Readonly<Record<string, V>>): ReadonlyMap<string, V> {
  return new Map(Object.entries(terms).map(([term, value]) => [normalizeTerm(term), value]));
}

const FINISHES = normalizedMap(FINISH_TERMS);
const COLOURS = normalizedMap(COLOUR_TERMS);

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A whole-word, case-insensitive alternation of `terms`, longest first. */
function termPattern(terms: readonly string[], plural: boolean): RegExp {
  const alternatives = [...terms]
    .sort((a, b) => b.length - a.length)
    .map((term) => escapeRegExp(term).replace(/[\s-]+/g, '[\\s-]+'));
  return new RegExp(`(?<![\\p{L}\\p{N}])(${alternatives.join('|')})${plural ? '(?:e?s)?' : ''}(?![\\p{L}\\p{N}])`, 'giu');
}

/** Capitalised words that never name a variety ("The", "Polished", "White"…). */
const NOT_A_VARIETY = new Set(
  [
    'the', 'a', 'an', 'this', 'these', 'that', 'those', 'our', 'its', 'their', 'with', 'and', 'or', 'in', 'on', 'for',
    'of', 'from', 'by', 'all', 'each', 'every', 'new', 'made', 'real', 'solid', 'genuine', 'pure', 'premium', 'classic',
    'tile', 'tiles', 'floor', 'wall', 'slab', 'slabs', 'panel', 'panels', 'board', 'boards', 'note', 'available',
  ].concat(Object.keys(FINISH_TERMS), Object.keys(COLOUR_TERMS)),
);

/** Sentences of a page: lines joined when one continues the other, then split at sentence ends. */
function sentencesOf(text: string): string[] {
  const sentences: string[] = [];
  for (const paragraph of text.split(/\n[ \t]*\n/)) {
    let current = '';
    for (const raw of paragraph.split('\n')) {
      const line = raw.trim();
      if (line === '') continue;
      // A line starting in lower case continues a sentence the previous line did not end.
      if (current !== '' && !/[.!?;:]$/.test(current) && /^[\p{Ll}(]/u.test(line)) current += ` ${line}`;
      else {
        if (current !== '') sentences.push(current);
        current = line;
      }
    }
    if (current !== '') sentences.push(current);
  }
  return sentences.flatMap((sentence) => sentence.split(/(?<=[.!?;])\s+(?=\p{Lu})/u));
}

interface Mention {
  index: number;
  /** Where the phrase naming it starts: the adjectives and variety right before the name. */
  phraseStart: number;
  name: string;
  material: string;
  category: MaterialCategory;
  dimensions: Material['dimensions'];
  thicknessMm: number | null;
  finish: string | null;
  colour: string | null;
}

/**
 * The default extractor: finds dictionary material names (porcelain, marble, oak, steel…) in
 * each sentence, with a capitalised variety before them (`Carrara marble`), and gives each
 * the dimensions (`60x60 cm`, `600 x 1200 mm`), thickness (`10 mm`), finish (`polished`) and
 * colour found in the same sentence — an attribute goes to the nearest material named before
 * it. Deterministic and local; it finds what the dictionary knows and misses the rest.
 */
export class RuleBasedMaterialExtractor implements MaterialExtractor {
  readonly name = 'rules';
  private readonly categories: ReadonlyMap<string, MaterialCategory>;
  private readonly materialPattern: RegExp;
  private readonly finishPattern = termPattern(Object.keys(FINISH_TERMS), false);
  private readonly colourPattern = termPattern(Object.keys(COLOUR_TERMS), false);

  constructor(options: RuleBasedMaterialExtractorOptions = {}) {
    const parsed = parseOrThrow(RuleBasedMaterialExtractorOptionsSchema, options, 'RuleBasedMaterialExtractor options');
    const terms = { ...MATERIAL_TERMS, ...parsed.extraTerms };
    this.categories = normalizedMap(terms);
    this.materialPattern = termPattern(Object.keys(terms), true);
  }

  async extract(pages: readonly PageText[], signal: AbortSignal): Promise<Material[]> {
    const found: Material[] = [];
    for (const page of pages) {
      signal.throwIfAborted();
      for (const sentence of sentencesOf(page.text)) {
        for (const mention of this.mentionsIn(sentence)) {
          const { index: _index, phraseStart: _phraseStart, ...fields } = mention;
          const excerpt = sentence.length > EXCERPT_CHARS ? `${sentence.slice(0, EXCERPT_CHARS - 3)}...` : sentence;
          found.push({ ...fields, key: materialKey(fields), pages: [page.page], excerpt, extractor: this.name });
        }
      }
    }
    return mergeMaterials(found);
  }

  private mentionsIn(sentence: string): Mention[] {
    const mentions: Mention[] = [];
    for (const match of sentence.matchAll(this.materialPattern)) {
      const written = normalizeTerm(match[1] as string);
      const category = this.categories.get(written);
      if (category === undefined) continue;
      const variety = varietyBefore(sentence.slice(0, match.index));
      mentions.push({
        index: match.index,
        phraseStart: phraseStart(sentence, match.index),
        name: variety === '' ? written : `${variety} ${written}`,
        material: written,
        category,
        dimensions: null,
        thicknessMm: null,
        finish: null,
        colour: null,
      });
    }
    if (mentions.length === 0) return mentions;
    const attributes: { index: number; apply(mention: Mention): void }[] = [];
    for (const match of findDimensions(sentence)) attributes.push({ index: match.index, apply: (m) => void (m.dimensions ??= match.dimensions) });
    const thickness = findThickness(sentence);
    if (thickness !== null) attributes.push({ index: thickness.index, apply: (m) => void (m.thicknessMm ??= thickness.thicknessMm) });
    for (const match of sentence.matchAll(this.finishPattern)) {
      const finish = FINISHES.get(normalizeTerm(match[1] as string)) ?? null;
      attributes.push({ index: match.index, apply: (m) => void (m.finish ??= finish) });
    }
    for (const match of sentence.matchAll(this.colourPattern)) {
      const colour = COLOURS.get(normalizeTerm(match[1] as string)) ?? null;
      attributes.push({ index: match.index, apply: (m) => void (m.colour ??= colour) });
    }
    // An attribute belongs to the material whose phrase it follows or sits in ("Nero Marquina
    // marble": Nero is the marble's). Attributes written after a name go first, so "Natural
    // oak plank, oiled" is oiled oak; adjectives before the name only fill what is left.
    const owned = attributes.map((attribute) => {
      const owner = mentions.filter((mention) => mention.phraseStart <= attribute.index).at(-1) ?? (mentions[0] as Mention);
      return { attribute, owner, prefix: attribute.index < owner.index };
    });
    for (const { attribute, owner } of owned.filter((entry) => !entry.prefix)) attribute.apply(owner);
    for (const { attribute, owner } of owned.filter((entry) => entry.prefix)) attribute.apply(owner);
    return mentions;
  }
}

/**
 * Start of the noun phrase ending at a material name: up to three words right before it, with
 * no punctuation between, that are capitalised or a finish or colour ("matt white porcelain").
 */
function phraseStart(sentence: string, index: number): number {
  let start = index;
  for (let words = 0; words < 3; words++) {
    const match = /([\p{L}'’-]+)\s+$/u.exec(sentence.slice(0, start));
    if (match === null) break;
    const word = match[1] as string;
    const lower = normalizeTerm(word);
    if (!/^\p{Lu}/u.test(word) && !FINISHES.has(lower) && !COLOURS.has(lower)) break;
    start = match.index;
  }
  return start;
}

/** Up to two capitalised words right before a material name, minus generic ones. */
function varietyBefore(prefix: string): string {
  const words = /((?:\p{Lu}[\p{L}'’-]{2,}\s+){1,2})$/u.exec(prefix)?.[1]?.trim().split(/\s+/) ?? [];
  const kept: string[] = [];
  for (const word of words) {
    const lower = word.toLowerCase();
    if (NOT_A_VARIETY.has(lower) || MATERIAL_TERMS[lower] !== undefined) kept.length = 0;
    else kept.push(word);
  }
  return kept.join(' ');
}
