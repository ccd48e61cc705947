import type { MaterialDimensions } from './material.js';

const UNIT_MM = { mm: 1, cm: 10, m: 1000 } as const;
type Unit = keyof typeof UNIT_MM;

const NUMBER = String.raw`\d+(?:[.,]\d+)?`;

/** `60x60 cm`, `600 x 1200 mm`, `120×60×2 cm`: two or three sides, one unit at the end. */
export const DIMENSIONS_PATTERN = new RegExp(
  String.raw`(?<![\d.,])(${NUMBER})\s*[x×X*]\s*(${NUMBER})(?:\s*[x×X*]\s*(${NUMBER}))?\s*(mm|cm|m)(?![a-zA-Z])`,
  'g',
);
/** A lone length (`10 mm`, `2 cm`): a thickness candidate once dimensions are removed. */
const LENGTH_PATTERN = new RegExp(String.raw`(?<![\d.,×xX*])(${NUMBER})\s*(mm|cm)(?![a-zA-Z])`, 'g');
/** A length next to the word thick/thickness, either side. */
const THICKNESS_PATTERN = new RegExp(
  String.raw`thick(?:ness)?\s*(?:of\s*)?[:=]?\s*(${NUMBER})\s*(mm|cm)(?![a-zA-Z])|(${NUMBER})\s*(mm|cm)\s*thick`,
  'i',
);

function toNumber(text: string): number {
  return Number(text.replace(',', '.'));
}

function toMm(value: number, unit: Unit): number {
  return Math.round(value * UNIT_MM[unit] * 100) / 100;
}

/** A dimensions match and where it is. */
export interface DimensionsMatch {
  index: number;
  length: number;
  dimensions: MaterialDimensions;
}

/** Every dimensions expression in `text`. */
export function findDimensions(text: string): DimensionsMatch[] {
  const found: DimensionsMatch[] = [];
  for (const match of text.matchAll(DIMENSIONS_PATTERN)) {
    const unit = (match[4] as string).toLowerCase() as Unit;
    const sides = [match[1], match[2], match[3]].filter((side): side is string => side !== undefined).map(toNumber);
    if (sides.some((side) => !(side > 0))) continue;
    found.push({
      index: match.index,
      length: match[0].length,
      dimensions: { text: `${sides.join('x')} ${unit}`, valuesMm: sides.map((side) => toMm(side, unit)) },
    });
  }
  return found;
}

/** Parses one dimensions expression (an LLM's `"60 x 60 cm"`); null when it is not one. */
export function parseDimensions(text: string): MaterialDimensions | null {
  return findDimensions(text)[0]?.dimensions ?? null;
}

/** A thickness match and where it is. */
export interface ThicknessMatch {
  index: number;
  thicknessMm: number;
}

/** Plausible thicknesses: a tile, a board, a slab; not a room. */
const MAX_THICKNESS_MM = 300;

/**
 * The thickness in `text`: a length next to "thick(ness)" first, else the first lone length
 * (dimensions already removed, so `60x60 cm` is not read as a thickness).
 */
export function findThickness(text: string): ThicknessMatch | null {
  const blanked = text.replace(DIMENSIONS_PATTERN, (match) => ' '.repeat(match.length));
  const explicit = THICKNESS_PATTERN.exec(blanked);
  if (explicit !== null) {
    const value = toNumber((explicit[1] ?? explicit[3]) as string);
    const unit = ((explicit[2] ?? explicit[4]) as string).toLowerCase() as Unit;
    const thicknessMm = toMm(value, unit);
    if (thicknessMm > 0 && thicknessMm <= MAX_THICKNESS_MM) return { index: explicit.index, thicknessMm };
  }
  for (const match of blanked.matchAll(LENGTH_PATTERN)) {
    const thicknessMm = toMm(toNumber(match[1] as string), (match[2] as string).toLowerCase() as Unit);
    if (thicknessMm > 0 && thicknessMm <= MAX_THICKNESS_MM) return { index: match.index, thicknessMm };
  }
  return null;
}
