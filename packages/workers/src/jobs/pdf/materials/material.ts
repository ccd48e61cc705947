import { createHash } from 'node:crypto';
import { z } from 'zod';

/** Families of materials; every dictionary term and every LLM answer maps to one. */
export const MaterialCategory = {
  Ceramic: 'ceramic',
  Stone: 'stone',
  Wood: 'wood',
  Metal: 'metal',
  Glass: 'glass',
  Concrete: 'concrete',
  Polymer: 'polymer',
  Composite: 'composite',
  Textile: 'textile',
  Other: 'other',
} as const;
/** One of {@link MaterialCategory}. */
export type MaterialCategory = (typeof MaterialCategory)[keyof typeof MaterialCategory];
/** Zod schema of {@link MaterialCategory}. */
export const MaterialCategorySchema = z.enum(MaterialCategory);

/** Dimensions as written and in millimetres. */
export const MaterialDimensionsSchema = z.object({
  /** As found, normalised (`60x60 cm`). */
  text: z.string().min(1).max(100),
  /** Each side in millimetres, in the order written (`[600, 600]`). */
  valuesMm: z.array(z.number().positive()).min(2).max(3),
});
/** Dimensions of a material (a tile's size, a board's length and width). */
export type MaterialDimensions = z.infer<typeof MaterialDimensionsSchema>;

/**
 * The kind of product a catalogue sells, which a buyer filters by (a porcelain tile and a
 * marble tile are both `tile` and `stone` respectively; an oak parquet is `wood-flooring`).
 */
export const ProductCategory = {
  Tile: 'tile',
  Stone: 'stone',
  WoodFlooring: 'wood-flooring',
  Vinyl: 'vinyl',
  Laminate: 'laminate',
  Other: 'other',
} as const;
/** One of {@link ProductCategory}. */
export type ProductCategory = (typeof ProductCategory)[keyof typeof ProductCategory];
/** Zod schema of {@link ProductCategory}. */
export const ProductCategorySchema = z.enum(ProductCategory);

/**
 * Properties a catalogue states for a product besides size, thickness, finish and colour.
 * Each is absent when the document does not state it; units are normalised as named.
 */
export const MaterialPropertiesSchema = z
  .object({
    /** DIN 51130 ramp class (`R9`…`R13`). */
    slipRating: z.string().regex(/^R(9|1[0-3])$/).optional(),
    /** PEI abrasion class of a glazed tile, 1–5. */
    pei: z.number().int().min(0).max(5).optional(),
    /** Wood species, in English (`oak`). */
    species: z.string().min(1).max(50).optional(),
    /** Grade or selection as stated (`Rustic`, `Prima`). */
    grade: z.string().min(1).max(50).optional(),
    /** Wear layer (vinyl, laminate) or top layer (engineered wood), in mm. */
    wearLayerMm: z.number().positive().max(100).optional(),
    /** Country or region of origin as stated (`India`, `Brasilien`). */
    origin: z.string().min(1).max(80).optional(),
    /** Bulk density in kg/m³. */
    densityKgM3: z.number().positive().max(20_000).optional(),
    /** Water absorption by mass, in percent. */
    waterAbsorptionPct: z.number().min(0).max(100).optional(),
  })
  .strict();
/** Properties stated for a product; see {@link MaterialPropertiesSchema}. */
export type MaterialProperties = z.infer<typeof MaterialPropertiesSchema>;

/** A material found in a document. */
export const MaterialSchema = z.object({
  /**
   * Stable identity within the document, built from the normalised name and attributes
   * (`carrara-marble-600x600mm-10mm-polished`): the store upserts by it, so a re-run
   * finds the same keys and never duplicates.
   */
  key: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[a-z0-9]+(-[a-z0-9.]+)*$/),
  /** Name as found (`Carrara marble`). */
  name: z.string().min(1).max(200),
  /** The base material (`marble`). */
  material: z.string().min(1).max(100),
  category: MaterialCategorySchema,
  dimensions: MaterialDimensionsSchema.nullable(),
  thicknessMm: z.number().positive().max(10_000).nullable(),
  /** Surface finish (`polished`, `matt`, `honed`…). */
  finish: z.string().min(1).max(50).nullable(),
  colour: z.string().min(1).max(50).nullable(),
  /** 1-based pages that mention it, ascending. */
  pages: z.array(z.number().int().positive()).min(1),
  /** The sentence it was found in (shortened), for a reviewer. */
  excerpt: z.string().max(400),
  /** Which extractor found it (`rules`, `anthropic:<model>`). */
  extractor: z.string().min(1).max(100),
  /** The kind of product (tile, stone, wood flooring…). Absent on records written before it existed. */
  productCategory: ProductCategorySchema.optional(),
  /** Every format (size) stated for the product, in mm; `dimensions` is the first. Absent on older records. */
  formats: z.array(MaterialDimensionsSchema).max(100).optional(),
  /** The other properties stated (slip rating, PEI, species…). Absent on older records. */
  properties: MaterialPropertiesSchema.optional(),
});
/** A material found in a document. */
export type Material = z.infer<typeof MaterialSchema>;

function slug(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    // Dots survive only inside numbers (12.5), so keys stay `[a-z0-9.-]` without stray dots.
    .replace(/(?<!\d)\.|\.(?!\d)/g, '-')
    .replace(/[^a-z0-9.]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** Millimetre values without float noise (`600`, `12.5`). */
function formatMm(value: number): string {
  return String(Math.round(value * 100) / 100);
}

/**
 * The material's key: slug of name, dimensions (mm), thickness, finish and colour. Two
 * mentions with the same name and attributes are the same material; a different size or
 * finish is a different product.
 */
export function materialKey(material: Pick<Material, 'name' | 'dimensions' | 'thicknessMm' | 'finish' | 'colour'>): string {
  // A name with no Latin letters or digits (大理石) still needs a stable, distinct key part.
  const name = slug(material.name) || `m${createHash('sha256').update(material.name).digest('hex').slice(0, 12)}`;
  const parts = [name];
  if (material.dimensions !== null) parts.push(`${material.dimensions.valuesMm.map(formatMm).join('x')}mm`);
  if (material.thicknessMm !== null) parts.push(`${formatMm(material.thicknessMm)}mm`);
  if (material.finish !== null) parts.push(slug(material.finish));
  if (material.colour !== null) parts.push(slug(material.colour));
  const key = parts.filter((part) => part !== '').join('-');
  return key.length > 200 ? key.slice(0, 200).replace(/-+$/, '') : key;
}

/** Formats of both lists, each once (by its millimetre values), in first-seen order. */
export function unionFormats(a: readonly MaterialDimensions[], b: readonly MaterialDimensions[]): MaterialDimensions[] {
  const seen = new Map<string, MaterialDimensions>();
  for (const format of [...a, ...b]) {
    const id = format.valuesMm.join('x');
    if (!seen.has(id)) seen.set(id, format);
  }
  return [...seen.values()];
}

/** True when the material has no attribute besides its name. */
function isBare(material: Material): boolean {
  return (
    material.dimensions === null &&
    material.thicknessMm === null &&
    material.finish === null &&
    material.colour === null &&
    (material.formats ?? []).length === 0 &&
    Object.keys(material.properties ?? {}).length === 0
  );
}

/**
 * Merges mentions into one material per key (pages united, first excerpt kept). A bare
 * mention ("the marble is quarried in…") is folded into the first material of the same name
 * that has attributes, instead of standing as a material of its own. Sorted by key.
 */
export function mergeMaterials(materials: readonly Material[]): Material[] {
  const byKey = new Map<string, Material>();
  for (const material of materials) {
    const existing = byKey.get(material.key);
    if (existing === undefined) byKey.set(material.key, { ...material, pages: [...material.pages] });
    else {
      existing.pages = [...new Set([...existing.pages, ...material.pages])];
      if (material.formats !== undefined) existing.formats = unionFormats(existing.formats ?? [], material.formats);
      if (material.properties !== undefined) existing.properties = { ...material.properties, ...existing.properties };
    }
  }
  const merged = [...byKey.values()];
  for (const bare of merged.filter(isBare)) {
    const target = merged.find((other) => !isBare(other) && slug(other.name) === slug(bare.name));
    if (target === undefined) continue;
    target.pages = [...new Set([...target.pages, ...bare.pages])];
    byKey.delete(bare.key);
  }
  return [...byKey.values()]
    .map((material) => ({ ...material, pages: [...material.pages].sort((a, b) => a - b) }))
    .sort((a, b) => a.key.localeCompare(b.key));
}
