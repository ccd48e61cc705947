/**
 * Reads products out of catalogue page text: tables (a header row naming the columns, then one
 * row per product or per format), product blocks (a heading such as `TAJ MAHAL` or `G654`
 * followed by specification lines `Thickness: 10 mm` or a format table), and one-line product
 * descriptions (`Carrara marble tile 60x60 cm, polished, 10 mm`). Prose, contents pages and
 * lists without a stated property give nothing.
 *
 * Table cells arrive joined by a tab (or a run of 2+ spaces); when the text extraction joined
 * them with single spaces, a row is read by the column types instead: a format, a thickness, a
 * slip class each have a shape, and free-text columns take the words between them.
 */
import {
  CATEGORY_WORDS,
  FIELD_LABELS,
  FINISH_WORDS,
  foldText,
  NOT_A_PRODUCT_HEADING,
  SPECIES_WORDS,
  SUBSECTION_HEADING,
  type CatalogueField,
} from './catalogue-vocabulary.js';
import { ProductCategory, unionFormats, type MaterialDimensions, type MaterialProperties } from './material.js';

/** A product the reader found, before it becomes a {@link Material}. */
export interface CatalogueProduct {
  name: string;
  page: number;
  /** The lines it was read from. */
  source: string[];
  formats: MaterialDimensions[];
  thicknessMm: number | null;
  finish: string | null;
  colour: string | null;
  properties: MaterialProperties;
  /** Category stated for it (a column, a word in its name or lines); null when only the context can tell. */
  category: ProductCategory | null;
  /** Base material stated for it (`marble`, `porcelain stoneware`, `oak`); null when unstated. */
  material: string | null;
  /** How it was found. */
  layout: 'table' | 'block' | 'line';
}

type Unit = 'mm' | 'cm' | 'm';
const UNIT_MM: Record<Unit, number> = { mm: 1, cm: 10, m: 1000 };
const NUM = String.raw`\d+(?:[.,]\d+)?`;
const ONE_FORMAT = new RegExp(String.raw`^(${NUM})\s*[x×X*]\s*(${NUM})(?:\s*[x×X*]\s*(${NUM}))?(?:\s*(mm|cm|m)(?![\p{L}]))?`, 'u');
const FORMAT_ANYWHERE = new RegExp(String.raw`(?<![\d.,])(${NUM})\s*[x×X*]\s*(${NUM})(?:\s*[x×X*]\s*(${NUM}))?\s*(mm|cm|m)(?![\p{L}])`, 'gu');
const LIST_SEPARATOR = /^\s*(?:[,;/+|]|\band\b|\bund\b|\be\b|\by\b|\bet\b|\bo\b|\bor\b|\boder\b)\s*/iu;
const PLACEHOLDER = /^(?:-|–|—|n\/a|n\.a\.|\/)(?=\s|$)/u;

function toNumber(text: string): number {
  return Number(text.replace(',', '.'));
}
function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Cells of a line: split at tabs or runs of 2+ spaces; one cell when there are none. */
export function cellsOf(line: string): string[] {
  return line
    .split(/\t| {2,}/)
    .map((cell) => cell.trim())
    .filter((cell) => cell !== '');
}

// ---------------------------------------------------------------------------------------------
// Labels

interface Label {
  field: CatalogueField;
  words: string[];
}
const LABELS: Label[] = Object.entries(FIELD_LABELS)
  .flatMap(([field, labels]) => labels.map((label) => ({ field: field as CatalogueField, words: foldText(label).split(' ') })))
  .sort((a, b) => b.words.length - a.words.length);
/** Labels by their folded text, and by their first word (longest first) for the word-by-word header scan. */
const LABEL_BY_TEXT = new Map<string, CatalogueField>();
const LABELS_BY_FIRST_WORD = new Map<string, Label[]>();
for (const label of LABELS) {
  const text = label.words.join(' ');
  if (!LABEL_BY_TEXT.has(text)) LABEL_BY_TEXT.set(text, label.field);
  const first = label.words[0] as string;
  LABELS_BY_FIRST_WORD.set(first, [...(LABELS_BY_FIRST_WORD.get(first) ?? []), label]);
}
const UNIT_TOKEN = /^[([]?(mm|cm|m|%|kg\/m3|kg\/m³|g\/cm3|g\/cm³|in|en|in mm|in cm)[)\]]?$/;

/** The field a label names (`Stärke (mm)` → thickness, unit mm); null when it names none. */
function labelField(text: string): { field: CatalogueField; unit: Unit | null } | null {
  // Bilingual headers ("Spessore / Thickness", "Formato - Size"): every part that is a label names the same field.
  const parts = text.split(/\s+[/|–-]\s+|\s*\/\s*(?=\p{L})/u).filter((part) => part.trim() !== '');
  if (parts.length > 1) {
    const found = parts.map(singleLabelField);
    const fields = new Set(found.filter((f) => f !== null).map((f) => f.field));
    if (fields.size === 1) return found.find((f) => f !== null && f.unit !== null) ?? found.find((f) => f !== null) ?? null;
    if (fields.size > 1) return null;
  }
  return singleLabelField(text);
}

function singleLabelField(text: string): { field: CatalogueField; unit: Unit | null } | null {
  const unit = /[([]\s*(mm|cm|m)\s*[)\]]|\b(?:in\s+)?(mm|cm)$/i.exec(text);
  const folded = foldText(text.replace(/[([][^)\]]*[)\]]/g, ' ').replace(/\b(?:in\s+)?(mm|cm)$/i, ' ')).replace(/[.:]+$/, '').trim();
  const field = LABEL_BY_TEXT.get(folded);
  return field === undefined ? null : { field, unit: ((unit?.[1] ?? unit?.[2])?.toLowerCase() as Unit | undefined) ?? null };
}

interface Column {
  field: CatalogueField;
  unit: Unit | null;
}

/** The columns of a table header line; null when the line is not one (≥ 2 fields, every word a label or unit). */
function headerColumns(line: string): Column[] | null {
  // "Acabado: Antideslizante" is a label and its value, not two column headers.
  if (line.includes(':') || /[.!?]$/.test(line.replace(/\b(no|nr|art|ref|n)\.$/i, ''))) return null;
  const cells = cellsOf(line);
  if (cells.length >= 2) {
    const columns = cells.map((cell) => labelField(cell) ?? { field: 'other' as const, unit: null });
    return acceptHeader(columns, columns.filter((c) => c.field !== 'other').length, columns.filter((c) => c.field === 'other').length);
  }
  // Single-space joined: longest label phrases left to right; a unit token attaches to the
  // column before it; other words make "other" columns (packaging, price…), one per run.
  const tokens = foldText(line)
    .split(' ')
    .map((token) => token.replace(/[.:]+$/, ''))
    .filter((token) => token !== '');
  const columns: Column[] = [];
  let known = 0;
  let unknown = 0;
  let index = 0;
  while (index < tokens.length) {
    const unitToken = UNIT_TOKEN.exec(tokens[index] as string);
    if (unitToken !== null && columns.length > 0 && columns.at(-1)?.field !== 'other') {
      const unit = unitToken[1] as string;
      if (unit === 'mm' || unit === 'cm' || unit === 'm') (columns.at(-1) as Column).unit = unit;
      index += 1;
      continue;
    }
    if (/^[/|–-]$/.test(tokens[index] as string)) {
      index += 1;
      continue;
    }
    const label = LABELS_BY_FIRST_WORD.get(tokens[index] as string)?.find((candidate) => candidate.words.every((word, offset) => tokens[index + offset] === word));
    if (label !== undefined && columns.at(-1)?.field === label.field && /^[/|–-]$/.test(tokens[index - 1] ?? '')) {
      // "Formato / Format": the second language names the same column.
      known += label.words.length;
      index += label.words.length;
      continue;
    }
    if (label === undefined) {
      unknown += 1;
      if (columns.at(-1)?.field !== 'other') columns.push({ field: 'other', unit: null });
      index += 1;
      continue;
    }
    known += label.words.length;
    columns.push({ field: label.field, unit: null });
    index += label.words.length;
  }
  return acceptHeader(columns, known, unknown);
}

/** A header names at least two fields we read, and more of its words are labels than not. */
function acceptHeader(columns: Column[], known: number, unknown: number): Column[] | null {
  const fields = new Set(columns.map((column) => column.field).filter((field) => field !== 'other' && field !== 'code'));
  return fields.size >= 2 && unknown <= known ? columns : null;
}

// ---------------------------------------------------------------------------------------------
// Values

/** Sides of a format in mm; a side without a unit uses `unit`, else a guess (≥ 250 reads as mm, else cm). */
function formatOf(sides: number[], unit: Unit | null): MaterialDimensions | null {
  if (sides.some((side) => !(side > 0))) return null;
  const chosen: Unit = unit ?? (Math.max(...sides) >= 250 ? 'mm' : 'cm');
  const valuesMm = sides.map((side) => round(side * UNIT_MM[chosen]));
  if (valuesMm.some((value) => value < 5 || value > 10_000)) return null;
  return { text: `${sides.join('x')} ${chosen}`, valuesMm };
}

interface FormatList {
  formats: MaterialDimensions[];
  /** A third side small enough to be the thickness (`1900 x 190 x 14 mm`). */
  thicknessMm: number | null;
  consumed: number;
}

/** A list of formats at the start of `text` (`30x60, 60x60 cm`); a trailing unit applies to the unitless ones before it. */
function formatsAt(text: string, columnUnit: Unit | null): FormatList | null {
  const raw: { sides: number[]; unit: Unit | null }[] = [];
  let rest = text;
  let consumed = 0;
  for (;;) {
    const match = ONE_FORMAT.exec(rest);
    if (match === null) break;
    raw.push({ sides: [match[1], match[2], match[3]].filter((s): s is string => s !== undefined).map(toNumber), unit: (match[4]?.toLowerCase() as Unit | undefined) ?? null });
    consumed += match[0].length;
    rest = rest.slice(match[0].length);
    const separator = LIST_SEPARATOR.exec(rest);
    if (separator === null || !ONE_FORMAT.test(rest.slice(separator[0].length))) break;
    consumed += separator[0].length;
    rest = rest.slice(separator[0].length);
  }
  if (raw.length === 0) return null;
  let trailing: Unit | null = null;
  for (let i = raw.length - 1; i >= 0; i--) {
    const entry = raw[i] as { sides: number[]; unit: Unit | null };
    if (entry.unit !== null) trailing = entry.unit;
    else entry.unit = trailing ?? columnUnit;
  }
  let thicknessMm: number | null = null;
  const formats: MaterialDimensions[] = [];
  for (const entry of raw) {
    let sides = entry.sides;
    if (sides.length === 3) {
      const unit = entry.unit ?? (Math.max(...sides) >= 250 ? 'mm' : 'cm');
      const third = round((sides[2] as number) * UNIT_MM[unit]);
      if (third <= 60) {
        thicknessMm ??= third;
        sides = sides.slice(0, 2);
      }
    }
    const format = formatOf(sides, entry.unit);
    if (format !== null) formats.push(format);
  }
  return formats.length === 0 ? null : { formats, thicknessMm, consumed };
}

/** A length at the start of `text` (`10 mm`, `2 cm`, `approx. 9,5`, `10/20 mm` → the first); in mm. */
function lengthAt(text: string, columnUnit: Unit | null, defaultUnit: Unit): { mm: number; consumed: number } | null {
  const match = new RegExp(String.raw`^(?:(?:approx\.?|ca\.?|circa|env\.?|aprox\.?|c\.)\s*)?(${NUM})(?:\s*[/-]\s*${NUM})*\s*(mm|cm|m)?(?![\p{L}\d])`, 'iu').exec(text);
  if (match === null) return null;
  const unit = ((match[2]?.toLowerCase() as Unit | undefined) ?? columnUnit ?? defaultUnit);
  const mm = round(toNumber(match[1] as string) * UNIT_MM[unit]);
  if (!(mm > 0) || mm > 300) return null;
  return { mm, consumed: match[0].length };
}

const SLIP = /^R\s?(9|1[0-3])(?:\s*\/\s*[A-C+]+)?(?![\p{L}\d])/u;
const PEI = /^(?:PEI\s*(?:class\s*|klasse\s*|classe\s*|clase\s*)?)?(V|IV|III|II|I|[0-5])(?![\p{L}\d])/u;
const ROMAN: Record<string, number> = { I: 1, II: 2, III: 3, IV: 4, V: 5 };
const DENSITY = new RegExp(String.raw`^(?:(?:approx\.?|ca\.?|circa|env\.?)\s*)?(\d{1,2}(?:[.,]\d{3})+|${NUM})\s*(kg\s*/\s*m[³3]|g\s*/\s*cm[³3]|t\s*/\s*m[³3])?`, 'iu');
const ABSORPTION = new RegExp(String.raw`^(?:[<>≤≥]|max\.?|min\.?|ca\.?|approx\.?|env\.?)?\s*(?:=\s*)?(${NUM})\s*(%)?(?!\s*(?:mm|cm))`, 'iu');

/** Density in kg/m³; `2.700 kg/m³` (German thousands dot) and `2,65 g/cm³` both read right. */
function densityOf(number: string, unit: string | undefined): number | null {
  const u = (unit ?? '').replace(/\s/g, '').toLowerCase();
  let value: number;
  if (/^\d{1,2}[.,]\d{3}$/.test(number) && !u.startsWith('g')) value = Number(number.replace(/[.,]/g, ''));
  else value = toNumber(number);
  if (u.startsWith('g') || u.startsWith('t') || value < 20) value *= 1000;
  return value >= 100 && value <= 20_000 ? round(value) : null;
}

/** Words of a finish phrase mapped to its English name, longest phrase first; null when none is a finish. */
function finishIn(text: string): { finish: string; end: number } | null {
  const tokens = text.split(/\s+/);
  for (let start = 0; start < tokens.length; start++) {
    for (let length = Math.min(3, tokens.length - start); length >= 1; length--) {
      const phrase = foldText(tokens.slice(start, start + length).join(' ').replace(/[,;.()/]+$/g, ''));
      const finish = FOLDED_FINISHES.get(phrase);
      if (finish !== undefined) return { finish, end: start + length };
    }
  }
  return null;
}
const FOLDED_FINISHES = new Map(Object.entries(FINISH_WORDS).map(([k, v]) => [foldText(k), v]));
const FOLDED_SPECIES = new Map(Object.entries(SPECIES_WORDS).map(([k, v]) => [foldText(k), v]));
const FOLDED_CATEGORIES = [...Object.entries(CATEGORY_WORDS)].map(([k, v]) => [foldText(k), v] as const).sort((a, b) => b[0].length - a[0].length);

function speciesIn(text: string): string | null {
  const folded = ` ${foldText(text).replace(/[^a-z0-9 ]+/g, ' ')} `;
  let best: string | null = null;
  let bestLength = 0;
  for (const [word, species] of FOLDED_SPECIES) {
    if (word.length > bestLength && folded.includes(` ${word} `)) {
      best = species;
      bestLength = word.length;
    }
  }
  return best;
}

/**
 * Folded text for category words, without imitations: "sandstone look", "wood effect",
 * "effetto marmo", "aspect bois" describe what a tile looks like, not what it is.
 */
function categoryText(text: string): string {
  const folded = foldText(text).replace(/[^a-z0-9 ]+/g, ' ');
  const plain = folded
    .replace(/\b[a-z]+ (?:look|looks|effect|optik|style|design)\b/g, ' ')
    .replace(/\b(?:effetto|efecto|effet|aspect|aspecto|imitation|imitacion|finto|simil|optik|look) (?:de |di |du |del )?[a-z]+/g, ' ');
  return ` ${plain} `;
}

/** The category and base material a text names (the longest category word in it). */
export function categoryIn(text: string): { category: ProductCategory; material: string | null } | null {
  const folded = categoryText(text);
  for (const [word, value] of FOLDED_CATEGORIES) {
    if (folded.includes(` ${word} `) || folded.includes(` ${word}s `)) return value;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Products

function newProduct(name: string, page: number, layout: CatalogueProduct['layout']): CatalogueProduct {
  return { name, page, source: [], formats: [], thicknessMm: null, finish: null, colour: null, properties: {}, category: null, material: null, layout };
}

/** True when the reader found a stated property for it (a colour alone is not enough). */
function hasProperties(product: CatalogueProduct): boolean {
  const p = product.properties;
  return (
    product.formats.length > 0 ||
    product.thicknessMm !== null ||
    product.finish !== null ||
    Object.keys(p).length > 0
  );
}

/**
 * Applies one field's value text to a product. `anchored`: the value must start the text (a
 * table cell), else it may sit anywhere in it (`approx. 10 mm`). Returns the characters used
 * (0 when the text holds no such value).
 */
function applyValue(product: CatalogueProduct, column: Column, text: string, anchored: boolean): number {
  const value = text.trim();
  if (value === '') return 0;
  const search = <T extends { consumed: number } | null>(read: (s: string) => T): T => {
    if (anchored) return read(value);
    for (let i = 0; i < value.length; i++) {
      if (i > 0 && /[\p{L}\d]/u.test(value[i - 1] as string) && /[\p{L}\d]/u.test(value[i] as string)) continue;
      const found = read(value.slice(i));
      if (found !== null) return found;
    }
    return null as T;
  };
  switch (column.field) {
    case 'format': {
      const list = search((s) => formatsAt(s, column.unit));
      if (list === null) return 0;
      product.formats = unionFormats(product.formats, list.formats);
      if (list.thicknessMm !== null) product.thicknessMm ??= list.thicknessMm;
      return list.consumed;
    }
    case 'thickness':
    case 'wearLayer': {
      const length = search((s) => lengthAt(s, column.unit, 'mm'));
      if (length === null) return 0;
      if (column.field === 'thickness') product.thicknessMm ??= length.mm;
      else product.properties.wearLayerMm ??= length.mm;
      return length.consumed;
    }
    case 'slipRating': {
      const match = search((s) => {
        const m = SLIP.exec(s);
        return m === null ? null : { consumed: m[0].length, value: `R${m[1] as string}` };
      });
      if (match === null) return 0;
      product.properties.slipRating ??= match.value;
      return match.consumed;
    }
    case 'pei': {
      const match = search((s) => {
        const m = PEI.exec(s);
        return m === null ? null : { consumed: m[0].length, value: ROMAN[m[1] as string] ?? Number(m[1]) };
      });
      if (match === null) return 0;
      product.properties.pei ??= match.value;
      return match.consumed;
    }
    case 'density': {
      const match = search((s) => {
        const m = DENSITY.exec(s);
        if (m === null) return null;
        const density = densityOf(m[1] as string, m[2]);
        return density === null ? null : { consumed: m[0].length, value: density };
      });
      if (match === null) return 0;
      product.properties.densityKgM3 ??= match.value;
      return match.consumed;
    }
    case 'absorption': {
      const match = search((s) => {
        const m = ABSORPTION.exec(s);
        if (m === null) return null;
        const pct = toNumber(m[1] as string);
        return pct > 30 ? null : { consumed: m[0].length, value: pct };
      });
      if (match === null) return 0;
      product.properties.waterAbsorptionPct ??= match.value;
      return match.consumed;
    }
    case 'finish': {
      const finish = finishIn(value);
      if (finish !== null) product.finish ??= finish.finish;
      else if (value.split(/\s+/).length <= 3 && /^\p{L}/u.test(value)) product.finish ??= value.toLowerCase().slice(0, 50);
      else return 0;
      return value.length;
    }
    case 'species': {
      const species = speciesIn(value);
      product.properties.species ??= species ?? value.toLowerCase().slice(0, 50);
      return value.length;
    }
    case 'colour':
      product.colour ??= value.slice(0, 50);
      return value.length;
    case 'grade':
      product.properties.grade ??= value.slice(0, 50);
      return value.length;
    case 'origin':
      product.properties.origin ??= value.replace(/[.;]+$/, '').slice(0, 80);
      return value.length;
    case 'category': {
      const category = categoryIn(value);
      if (category !== null) {
        product.category ??= category.category;
        product.material ??= category.material;
      }
      return value.length;
    }
    case 'code': {
      const code = CODE_VALUE.exec(value);
      return code === null ? 0 : code[0].length;
    }
    case 'other':
      return value.length;
    case 'name':
      return 0;
  }
}

/** Fields whose value has a shape of its own (the others are free text). */
const TYPED: ReadonlySet<CatalogueField> = new Set(['format', 'thickness', 'wearLayer', 'slipRating', 'pei', 'density', 'absorption', 'code']);
/** An article number: one token with a digit (`40211`, `AR-204`, `G654.60`). */
const CODE_VALUE = /^(?=\S*\d)[\p{L}\d][\p{L}\d./-]*(?=\s|$)/u;

/** Characters at the start of `text` that a value of `column` takes; 0 when it does not start there. */
function typedLength(column: Column, text: string): number {
  if (PLACEHOLDER.test(text)) return (PLACEHOLDER.exec(text) as RegExpExecArray)[0].length;
  return applyValue(newProduct('', 0, 'table'), column, text, true);
}

/**
 * A table row split into one text per column: by cells when the row has as many as the header,
 * else by column types (a free-text column takes words up to where the next typed value starts).
 * Null when the row does not fit the header.
 */
function rowValues(line: string, columns: readonly Column[]): (string | null)[] | null {
  const cells = cellsOf(line);
  if (cells.length === columns.length) return cells;
  const values: (string | null)[] = [];
  let rest = line.trim();
  for (let c = 0; c < columns.length; c++) {
    const column = columns[c] as Column;
    rest = rest.trimStart();
    if (rest === '') {
      values.push(null);
      continue;
    }
    if (TYPED.has(column.field)) {
      const length = typedLength(column, rest);
      if (length === 0) {
        values.push(null);
        continue;
      }
      values.push(PLACEHOLDER.test(rest) ? null : rest.slice(0, length));
      rest = rest.slice(length);
      continue;
    }
    // Free text: up to the first word where a later typed column's value (or a finish word) starts.
    const words = rest.split(/\s+/);
    const later = columns.slice(c + 1);
    let end = words.length;
    for (let w = c === 0 || column.field === 'name' ? 1 : 0; w < words.length; w++) {
      const tail = words.slice(w).join(' ');
      const stop = later.some((next, offset) => {
        if (TYPED.has(next.field)) return typedLength(next, tail) > 0;
        if (next.field === 'finish' && offset === 0) return finishIn(words[w] as string) !== null && finishIn(words.slice(0, w).join(' ')) === null;
        return false;
      });
      if (stop) {
        end = w;
        break;
      }
    }
    // Free-text columns right after this one, before any typed value, get one word each.
    let freeAfter = 0;
    for (const next of later) {
      if (TYPED.has(next.field) || next.field === 'finish') break;
      freeAfter += 1;
    }
    if (column.field !== 'finish') end = Math.max(1, Math.min(end, end - freeAfter));
    if (column.field === 'finish') {
      const finish = finishIn(words.slice(0, end).join(' '));
      if (finish !== null) end = Math.min(end, finish.end);
    }
    values.push(words.slice(0, end).join(' '));
    rest = words.slice(end).join(' ');
  }
  return rest.trim() === '' ? values : null;
}

// ---------------------------------------------------------------------------------------------
// Line kinds

const TOC_LINE = /^(.{2,80}?)\s*(?:\.{3,}|…+|·{3,}|\t| {2,}|\s)\s*(\d{1,3})$/u;
const LEADER = /(?:\.\s?){3,}|…|·{3,}/u;
const CONTENTS_TITLE = /^(contents|table of contents|index|inhalt|inhaltsverzeichnis|indice|sommario|sommaire|table des matieres)$/;

/** True when the page is a table of contents: titled so, or most lines end with a page number. */
function isContentsPage(lines: readonly string[]): boolean {
  const nonEmpty = lines.filter((line) => line !== '');
  if (nonEmpty.some((line) => CONTENTS_TITLE.test(foldText(line)))) return true;
  const tocLike = nonEmpty.filter((line) => TOC_LINE.test(line) && !/\d\s*(mm|cm|m|%)\s*$/i.test(line) && !FORMAT_ANYWHERE.test(line));
  FORMAT_ANYWHERE.lastIndex = 0;
  return nonEmpty.length >= 4 && tocLike.length / nonEmpty.length >= 0.6;
}

const SERIES_PREFIX = /^(?:serie|series|collection|kollektion|collezione|coleccion|colección|linea|línea|line|range|programm|gamme)\s+(?=\S)/iu;
const CONNECTORS = new Set(['di', 'de', 'del', 'della', 'dei', 'da', 'la', 'le', 'el', 'los', 'las', 'von', 'van', 'am', 'im', 'du', 'des', 'y', 'e', 'et', '&', 'and', 'of', 'd', 'l', 'der', 'und']);
const CODE = /^[A-Z]{1,4}[- ]?\d{2,5}[A-Z]?$/;

/**
 * What a heading-shaped line is: a product heading (short, capitalised or a code, no sentence
 * end), a subsection of the current product ("Technical data", "Formats"), a section title that
 * ends it ("Installation notes", "Care"), or neither (null).
 */
function headingKind(line: string): 'product' | 'section' | 'subsection' | null {
  if (isCategoryTitle(line)) return 'subsection';
  if (isHeading(line)) return 'product';
  if (cellsOf(line).length !== 1 || line.length > 40 || /[.,;!?]$/.test(line) || line.split(/\s+/).length > 5) return null;
  if (SUBSECTION_HEADING.has(foldText(line).replace(/[^a-z ]+/g, '').trim())) return 'subsection';
  const words = foldText(line).split(' ').filter((word) => !/^\d+$/.test(word));
  return words.length > 0 && words.every((word) => NOT_A_PRODUCT_HEADING.has(word) || CONNECTORS.has(word)) ? 'section' : null;
}

/**
 * True for a short line made only of category words ("Porcelain Stoneware", "Gres
 * Porcellanato", "Natural Stone Tiles"): a product's subtitle or a section's, never its name.
 */
function isCategoryTitle(line: string): boolean {
  if (cellsOf(line).length !== 1 || line.length > 40 || line.split(/\s+/).length > 5 || /[.,;:!?]$/.test(line)) return false;
  let rest = ` ${foldText(line).replace(/[^a-z0-9 ]+/g, ' ')} `;
  for (const [word] of FOLDED_CATEGORIES) rest = rest.replaceAll(` ${word} `, ' ').replaceAll(` ${word}s `, ' ');
  const left = rest.split(' ').filter((word) => word !== '' && !CONNECTORS.has(word) && !GENERIC_TAIL.has(word) && !NOT_A_PRODUCT_HEADING.has(word));
  return left.length === 0 && categoryIn(line) !== null;
}

/** True when a line reads as a product heading: short, capitalised or a code, no sentence end, not a section title. */
function isHeading(line: string): boolean {
  if (cellsOf(line).length !== 1 || line.length < 2 || line.length > 40) return false;
  if (/[.,;:!?]$/.test(line) || LEADER.test(line) || /^\d+[.)]\s/.test(line) || /^[•\-–*]/.test(line)) return false;
  const words = line.split(/\s+/);
  if (words.length > 5) return false;
  const folded = foldText(line);
  if (NOT_A_PRODUCT_HEADING.has(folded)) return false;
  const foldedWords = folded.split(' ').filter((word) => !/^\d+$/.test(word));
  if (foldedWords.length > 0 && foldedWords.every((word) => NOT_A_PRODUCT_HEADING.has(word) || CONNECTORS.has(word))) return false;
  if (headerColumns(line) !== null || labelField(line) !== null) return false;
  if (CODE.test(line)) return true;
  if (!/\p{L}{2,}/u.test(line)) return false;
  if (/\d/.test(line) && !/^[\p{L}\s'’&-]+\s\d{1,4}$/u.test(line)) return false;
  const letters = line.replace(/[^\p{L}]/gu, '');
  if (letters === letters.toUpperCase()) return true;
  return words.every((word) => /^[\p{Lu}\d]/u.test(word) || CONNECTORS.has(word.toLowerCase().replace(/['’]$/, '')));
}

/** `Label: value` pairs in a line (`Thickness: 10 mm; Finish: honed`); empty when the line is none. */
function specPairs(line: string): { column: Column; value: string }[] {
  const pairs: { column: Column; value: string }[] = [];
  const cells = cellsOf(line);
  if (cells.length === 2 && !cells[0]?.includes(':')) {
    const label = labelField(cells[0] as string);
    if (label !== null) return [{ column: label, value: cells[1] as string }];
  }
  if (!line.includes(':')) return labelledValue(line);
  for (const part of line.split(/\s*(?:;|\||·|•|\t| {2,}| [–—] )\s*/)) {
    const match = /^([^:]{2,45}?)\s*:\s*(.+)$/.exec(part.trim());
    if (match === null) continue;
    const label = labelField(match[1] as string);
    if (label !== null) pairs.push({ column: label, value: match[2] as string });
  }
  return pairs;
}

/**
 * A label and its value with no colon between (`Holzart Eiche`, `Thickness 10 mm`: a data
 * sheet's two columns joined by a space). The value must read as the field's: a typed value
 * at its start, or for free-text fields a short value (≤ 4 words) on a short line.
 */
function labelledValue(line: string): { column: Column; value: string }[] {
  const words = line.trim().split(/\s+/);
  if (words.length < 2 || words.length > 8 || /[.!?]$/.test(line)) return [];
  for (let length = Math.min(4, words.length - 1); length >= 1; length--) {
    const label = labelField(words.slice(0, length).join(' '));
    if (label === null || label.field === 'name' || label.field === 'other' || label.field === 'code') continue;
    const value = words.slice(length).join(' ');
    if (TYPED.has(label.field)) return typedLength(label, value) > 0 && !PLACEHOLDER.test(value) ? [{ column: label, value }] : [];
    if (words.length - length > 4) return [];
    if (label.field === 'finish' && finishIn(value) === null) return [];
    if (label.field === 'species' && speciesIn(value) === null) return [];
    if (!/^\p{Lu}/u.test(value) && label.field !== 'finish' && label.field !== 'species') return [];
    return [{ column: label, value }];
  }
  return [];
}

/** Words a product line's name drops from its end (`Carrara marble tile` → `Carrara marble`). */
const GENERIC_TAIL = new Set([
  'tile', 'tiles', 'slab', 'slabs', 'plank', 'planks', 'board', 'boards', 'panel', 'panels', 'paving', 'paver', 'pavers', 'floor', 'flooring',
  'fliese', 'fliesen', 'platte', 'platten', 'diele', 'dielen', 'piastrella', 'piastrelle', 'lastra', 'lastre', 'baldosa', 'baldosas', 'losa',
  'tabla', 'lama', 'carreau', 'carreaux', 'dalle', 'dalles', 'lame', 'lames', 'in', 'im', 'en', 'size', 'format', 'formato', 'of',
]);

/** A one-line product (`Carrara marble tile 60x60 cm, polished, 10 mm`): a category word, a format with its unit, few words. */
function productLine(line: string, page: number): CatalogueProduct | null {
  FORMAT_ANYWHERE.lastIndex = 0;
  const format = FORMAT_ANYWHERE.exec(line);
  FORMAT_ANYWHERE.lastIndex = 0;
  if (format === null) return null;
  const before = line.slice(0, format.index).replace(/^.*[:;]\s*/, '').trim();
  const category = categoryIn(before);
  if (category === null || line.split(/\s+/).length > 18) return null;
  const words = before.split(/\s+/).filter((word) => word !== '');
  while (words.length > 0 && GENERIC_TAIL.has(foldText(words.at(-1) as string))) words.pop();
  if (words.length === 0 || words.length > 5) return null;
  const product = newProduct(words.join(' '), page, 'line');
  applyInline(product, line, true);
  const finish = finishIn(line.slice(format.index));
  if (finish !== null) product.finish ??= finish.finish;
  product.category = category.category;
  product.material = category.material;
  return product;
}

/** Values a free line states unambiguously: formats with a unit, a thickness next to "thick"/"mm", R classes, PEI. */
function applyInline(product: CatalogueProduct, line: string, anyLength = false): void {
  FORMAT_ANYWHERE.lastIndex = 0;
  const hasFormat = FORMAT_ANYWHERE.test(line);
  FORMAT_ANYWHERE.lastIndex = 0;
  if (hasFormat) applyValue(product, { field: 'format', unit: null }, line, false);
  const withoutFormats = line.replace(FORMAT_ANYWHERE, ' ');
  FORMAT_ANYWHERE.lastIndex = 0;
  // A lone length is a thickness only on a product's own line or next to a thickness word:
  // "a joint of 3 mm" or "a 10 mm trowel" in a guide is not one.
  const thicknessWord = /\b(thick|thickness|starke|dicke|spessore|espesor|grosor|epaisseur)\b/.test(foldText(line));
  const thick = anyLength || hasFormat || thicknessWord ? new RegExp(String.raw`(${NUM})\s*(mm|cm)\b`, 'i').exec(withoutFormats) : null;
  if (thick !== null) applyValue(product, { field: 'thickness', unit: null }, thick[0], true);
  const slip = /(?<![\p{L}\d])R\s?(9|1[0-3])(?![\p{L}\d])/u.exec(line);
  if (slip !== null) product.properties.slipRating ??= `R${slip[1] as string}`;
  const pei = /PEI\s*(?:class\s*)?(V|IV|III|II|I|[0-5])(?![\p{L}\d])/u.exec(line);
  if (pei !== null) product.properties.pei ??= ROMAN[pei[1] as string] ?? Number(pei[1]);
  if (hasFormat) {
    // A line stating a size is the product's own description: its finish words are the product's.
    // After the size: "Natural oak plank 1200 x 200 mm, oiled" is oiled; "Natural" is its name.
    FORMAT_ANYWHERE.lastIndex = 0;
    const at = FORMAT_ANYWHERE.exec(line)?.index ?? 0;
    FORMAT_ANYWHERE.lastIndex = 0;
    const finish = finishIn(line.slice(at).replace(/[,;.()]/g, ' '));
    if (finish !== null) product.finish ??= finish.finish;
  }
}

/**
 * Products written as captions, one per cell (`CALACATTA ORO 60x120  STATUARIO 60x60 cm`): a
 * name that reads as a heading, then sizes, then at most a thickness, a finish or a slip class.
 * Under a product heading only a grid (2+ captions) or an upper-case name counts, so a variant
 * line ("Rohplatte 300 x 180 cm") stays with its product.
 */
function captionProducts(line: string, page: number, blockContext: string): CatalogueProduct[] {
  const cells = cellsOf(line);
  const products: CatalogueProduct[] = [];
  for (const cell of cells) {
    const match = /^(.+?)\s+(?=\d+(?:[.,]\d+)?\s*[x×X*]\s*\d)/u.exec(cell);
    if (match === null) continue;
    const name = (match[1] as string).trim();
    if (!isHeading(name) || finishIn(name) !== null || CODE.test(name) === false && !/\p{L}{2,}/u.test(name)) continue;
    const rest = cell.slice(match[0].length);
    const list = formatsAt(rest, null);
    if (list === null) continue;
    const tail = rest.slice(list.consumed).replace(/[,;|]/g, ' ').trim();
    const tailWords = tail === '' ? [] : tail.split(/\s+/);
    const plausible = tailWords.every((word) => /^(?:\d+(?:[.,]\d+)?|mm|cm|R(?:9|1[0-3])|PEI|I{1,3}|IV|V)$/u.test(word) || finishIn(word) !== null);
    if (!plausible || tailWords.length > 5) continue;
    const product = newProduct(name, page, 'line');
    product.formats = list.formats;
    product.thicknessMm = list.thicknessMm;
    applyInline(product, cell, true);
    product.source.push(line);
    products.push(product);
  }
  if (products.length === 0) return [];
  if (blockContext !== '' && products.length < 2) {
    const only = products[0] as CatalogueProduct;
    const letters = only.name.replace(/[^\p{L}]/gu, '');
    if (letters !== letters.toUpperCase() || foldText(only.name) === foldText(blockContext)) return [];
  }
  return products;
}

/** True when a line reads as running prose (many words, a sentence). */
function isProse(line: string): boolean {
  const words = line.split(/\s+/).length;
  return words >= 12 || (words >= 6 && /[.!?]$/.test(line) && !/\d/.test(line));
}

/**
 * Products on one page. `page.text`: lines in reading order, table cells joined by tabs (or
 * runs of spaces, or single spaces; see the module comment).
 */
export function readCataloguePage(text: string, page: number): CatalogueProduct[] {
  const lines = text.split('\n').map((line) => line.replace(/\u00a0/g, ' ').trimEnd().replace(/^\s+/, ''));
  if (isContentsPage(lines)) return [];
  const products: CatalogueProduct[] = [];
  let block: CatalogueProduct | null = null;
  let blockContext = '';
  let table: { columns: Column[]; named: boolean; header: string } | null = null;

  // Category words seen on short lines (headings, captions) above a product: the section it is in.
  let lastCategory: { category: ProductCategory; material: string | null } | null = null;
  // Category words in the current block's own lines, prose included ("Quarzit aus Indien").
  let blockHint: { category: ProductCategory; material: string | null } | null = null;
  const push = (product: CatalogueProduct): void => {
    // Properties only one kind of product has: a wood species, a PEI class (glazed tiles).
    if (product.properties.species !== undefined) product.category ??= ProductCategory.WoodFlooring;
    if (product.properties.pei !== undefined) product.category ??= ProductCategory.Tile;
    const own = categoryIn(product.name);
    if (own !== null) {
      product.category ??= own.category;
      if (product.category === own.category) product.material ??= own.material;
    }
    const hint = product.layout === 'block' ? (blockHint ?? lastCategory) : lastCategory;
    if (product.category === null && hint !== null) product.category = hint.category;
    if (product.material === null && hint !== null && product.category === hint.category) product.material = hint.material;
    products.push(product);
  };
  const closeBlock = (): void => {
    if (block !== null && hasProperties(block)) push(block);
    block = null;
  };

  for (const line of lines) {
    if (line === '' || LEADER.test(line)) continue;
    const columns = headerColumns(line);
    if (columns !== null) {
      table = { columns, named: columns.some((column) => column.field === 'name'), header: line };
      continue;
    }
    if (table !== null && !isProse(line) && specPairs(line).length === 0) {
      const values = rowValues(line, table.columns);
      if (values !== null) {
        const nameIndex = table.columns.findIndex((column) => column.field === 'name');
        const name = nameIndex >= 0 ? values[nameIndex]?.trim() ?? '' : '';
        const target: CatalogueProduct | null = table.named ? (name !== '' ? newProduct(name, page, 'table') : null) : (block ?? (blockContext !== '' ? (block = newProduct(blockContext, page, 'block')) : null));
        if (target !== null) {
          const before = JSON.stringify(target);
          table.columns.forEach((column, index) => {
            const value = values[index];
            if (value != null && column.field !== 'name') applyValue(target, column, value, true);
          });
          const typed = table.columns.some((column, index) => TYPED.has(column.field) && column.field !== 'code' && values[index] != null);
          if (table.named && (typed || cellsOf(line).length === table.columns.length)) {
            target.source.push(table.header, line);
            push(target);
            continue;
          }
          if (!table.named && JSON.stringify(target) !== before) {
            target.source.push(line);
            continue;
          }
        }
      }
      table = null;
    }
    const pairs = specPairs(line);
    if (pairs.length > 0) {
      const named = pairs.find((pair) => pair.column.field === 'name');
      if (named !== undefined) {
        if (block === null || hasProperties(block)) {
          closeBlock();
          block = newProduct(named.value.trim(), page, 'block');
        } else block.name = named.value.trim();
      }
      if (block === null && blockContext !== '') block = newProduct(blockContext, page, 'block');
      if (block !== null) {
        for (const pair of pairs) if (pair.column.field !== 'name') applyValue(block, pair.column, pair.value, false);
        block.source.push(line);
      }
      continue;
    }
    const captions = captionProducts(line, page, blockContext);
    if (captions.length > 0) {
      for (const caption of captions) push(caption);
      continue;
    }
    const kind = headingKind(line);
    if (kind === 'subsection') {
      table = null;
      if (blockContext !== '') blockHint ??= categoryIn(line);
      else lastCategory = categoryIn(line) ?? lastCategory;
      continue;
    }
    if (kind !== null) {
      closeBlock();
      table = null;
      // "Serie MONTANA", "Collezione Pietra": the series word is not part of the name.
      blockContext = kind === 'product' ? line.trim().replace(SERIES_PREFIX, '') : '';
      blockHint = null;
      const category = categoryIn(line);
      if (category !== null) lastCategory = category;
      continue;
    }
    if (block === null && blockContext === '') {
      const single = productLine(line, page);
      if (single !== null) {
        single.source.push(line);
        push(single);
      } else if (!isProse(line)) {
        const category = categoryIn(line);
        if (category !== null) lastCategory = category;
      }
      continue;
    }
    if (!isProse(line) && !/^\d+[.)]\s/.test(line)) {
      const candidate = block ?? newProduct(blockContext, page, 'block');
      const before = JSON.stringify(candidate);
      applyInline(candidate, line);
      if (JSON.stringify(candidate) !== before || categoryIn(line) !== null) {
        block = candidate;
        block.source.push(line);
        blockHint ??= categoryIn(line);
      }
    } else {
      blockHint ??= categoryIn(line);
    }
  }
  closeBlock();
  return products;
}

/** Category words counted over a text (most frequent first): a page's or a document's context. */
export function dominantCategory(text: string): { category: ProductCategory; material: string | null } | null {
  const counts = new Map<ProductCategory, { n: number; material: string | null }>();
  const folded = categoryText(text);
  for (const [word, value] of FOLDED_CATEGORIES) {
    const hits = folded.split(` ${word} `).length - 1 + folded.split(` ${word}s `).length - 1;
    if (hits === 0) continue;
    const entry = counts.get(value.category) ?? { n: 0, material: null };
    entry.n += hits;
    entry.material ??= value.material;
    counts.set(value.category, entry);
  }
  const best = [...counts.entries()].sort((a, b) => b[1].n - a[1].n)[0];
  return best === undefined ? null : { category: best[0], material: best[1].material };
}
