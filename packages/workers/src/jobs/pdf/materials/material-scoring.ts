/**
 * Scores extracted materials against hand-written ground truth: precision and recall of
 * product names, and the share of stated key properties the extractor got right. Used by the
 * catalogue tests and `pnpm bench --only=materials`, for any extractor.
 */
import { z } from 'zod';
import { foldText } from './catalogue-vocabulary.js';
import { ProductCategorySchema, type Material } from './material.js';

/** One product of the ground truth: its name and the properties the document states. */
export const TruthProductSchema = z
  .object({
    name: z.string().min(1),
    category: ProductCategorySchema.optional(),
    /** Formats in mm, each `[a, b]` in the order written. */
    formats: z.array(z.array(z.number().positive()).length(2)).optional(),
    thicknessMm: z.number().positive().optional(),
    finish: z.string().optional(),
    colour: z.string().optional(),
    slipRating: z.string().optional(),
    pei: z.number().int().optional(),
    species: z.string().optional(),
    grade: z.string().optional(),
    wearLayerMm: z.number().positive().optional(),
    origin: z.string().optional(),
    densityKgM3: z.number().positive().optional(),
    waterAbsorptionPct: z.number().nonnegative().optional(),
  })
  .strict();
/** One product of the ground truth. */
export type TruthProduct = z.infer<typeof TruthProductSchema>;

/** A document's ground truth (`<name>.truth.json`). */
export const DocumentTruthSchema = z.object({
  document: z.string().min(1),
  language: z.string().min(2),
  kind: z.string().min(1),
  products: z.array(TruthProductSchema),
});
/** A document's ground truth. */
export type DocumentTruth = z.infer<typeof DocumentTruthSchema>;

/** Property names scored (those a truth product states). */
export type ScoredProperty = Exclude<keyof TruthProduct, 'name'>;

/** How one document scored. */
export interface DocumentScore {
  document: string;
  expected: number;
  found: number;
  /** Found names that are in the truth. */
  truePositives: number;
  /** 1 when nothing was found and nothing expected. */
  precision: number;
  /** 1 when nothing was expected. */
  recall: number;
  /** Stated properties of matched products that were right. */
  propertiesRight: number;
  propertiesStated: number;
  /** propertiesRight / propertiesStated; 1 when none were stated. */
  propertyAccuracy: number;
  /** Names found but not in the truth, and truth names not found. */
  falsePositives: string[];
  missed: string[];
  /** `product.property: expected … got …` for each wrong property. */
  wrongProperties: string[];
}

/** Names compared without case, accents or punctuation. */
export function nameKey(name: string): string {
  return foldText(name).replace(/[^a-z0-9]+/g, ' ').trim();
}

function sameNumber(a: number | undefined | null, b: number | undefined): boolean {
  return a != null && b !== undefined && Math.abs(a - b) <= Math.max(0.01, Math.abs(b) * 0.01);
}

function formatSet(formats: readonly (readonly number[])[]): string {
  return formats
    .map((sides) => [...sides].sort((x, y) => x - y).join('x'))
    .sort()
    .join(',');
}

/** The value a material has for a truth property, as text for reports. */
function actual(material: Material, property: ScoredProperty): unknown {
  const properties = material.properties ?? {};
  switch (property) {
    case 'category':
      return material.productCategory;
    case 'formats':
      return (material.formats ?? (material.dimensions === null ? [] : [material.dimensions])).map((format) => format.valuesMm);
    case 'thicknessMm':
      return material.thicknessMm;
    case 'finish':
      return material.finish;
    case 'colour':
      return material.colour;
    default:
      return properties[property];
  }
}

function isRight(material: Material, property: ScoredProperty, expected: unknown): boolean {
  const got = actual(material, property);
  if (property === 'formats') return formatSet(got as number[][]) === formatSet(expected as number[][]);
  if (typeof expected === 'number') return sameNumber(got as number | null | undefined, expected);
  return typeof got === 'string' && nameKey(got) === nameKey(String(expected));
}

/** Scores one document's materials against its truth. */
export function scoreDocument(truth: DocumentTruth, materials: readonly Material[]): DocumentScore {
  const byName = new Map<string, Material>();
  for (const material of materials) if (!byName.has(nameKey(material.name))) byName.set(nameKey(material.name), material);
  const expectedNames = new Set(truth.products.map((product) => nameKey(product.name)));
  const falsePositives = [...byName.entries()].filter(([key]) => !expectedNames.has(key)).map(([, material]) => material.name);
  const missed: string[] = [];
  const wrongProperties: string[] = [];
  let truePositives = 0;
  let propertiesRight = 0;
  let propertiesStated = 0;
  for (const product of truth.products) {
    const material = byName.get(nameKey(product.name));
    if (material === undefined) {
      missed.push(product.name);
      continue;
    }
    truePositives += 1;
    for (const [property, expected] of Object.entries(product) as [keyof TruthProduct, unknown][]) {
      if (property === 'name' || expected === undefined) continue;
      propertiesStated += 1;
      if (isRight(material, property, expected)) propertiesRight += 1;
      else wrongProperties.push(`${product.name}.${property}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual(material, property) ?? null)}`);
    }
  }
  const found = byName.size;
  return {
    document: truth.document,
    expected: truth.products.length,
    found,
    truePositives,
    precision: found === 0 ? (truth.products.length === 0 ? 1 : 0) : truePositives / found,
    recall: truth.products.length === 0 ? 1 : truePositives / truth.products.length,
    propertiesRight,
    propertiesStated,
    propertyAccuracy: propertiesStated === 0 ? 1 : propertiesRight / propertiesStated,
    falsePositives,
    missed,
    wrongProperties,
  };
}

/** Micro-averaged totals over documents (every product counts once). */
export function scoreTotals(scores: readonly DocumentScore[]): { precision: number; recall: number; propertyAccuracy: number; expected: number; found: number; truePositives: number } {
  const sum = (pick: (score: DocumentScore) => number) => scores.reduce((total, score) => total + pick(score), 0);
  const found = sum((s) => s.found);
  const expected = sum((s) => s.expected);
  const truePositives = sum((s) => s.truePositives);
  const stated = sum((s) => s.propertiesStated);
  return {
    expected,
    found,
    truePositives,
    precision: found === 0 ? 1 : truePositives / found,
    recall: expected === 0 ? 1 : truePositives / expected,
    propertyAccuracy: stated === 0 ? 1 : sum((s) => s.propertiesRight) / stated,
  };
}
