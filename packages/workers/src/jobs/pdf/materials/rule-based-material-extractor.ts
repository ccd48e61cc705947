import { z } from 'zod';
import { parseOrThrow } from '@kai-jobs/queue';
import type { PageText } from '../page-text.js';
import { categoryIn, dominantCategory, readCataloguePage, type CatalogueProduct } from './catalogue-reader.js';
import { foldText, SPECIES_WORDS } from './catalogue-vocabulary.js';
import {
  MaterialCategory,
  MaterialCategorySchema,
  materialKey,
  mergeMaterials,
  ProductCategory,
  unionFormats,
  type Material,
} from './material.js';
import type { MaterialExtractor } from './material-extractor.js';

/** Options of {@link RuleBasedMaterialExtractor}. */
export const RuleBasedMaterialExtractorOptionsSchema = z
  .object({
    /**
     * More material names (lower case) and their material family: a line naming one with a
     * size or thickness (`Sintered stone worktop 12 mm`) is a product. Default none.
     */
    extraTerms: z.record(z.string().min(2), MaterialCategorySchema).default({}),
  })
  .strict();
/** What callers pass to construct a {@link RuleBasedMaterialExtractor}. */
export type RuleBasedMaterialExtractorOptions = z.input<typeof RuleBasedMaterialExtractorOptionsSchema>;

/** Longest excerpt kept with a material (characters). */
const EXCERPT_CHARS = 400;

/** The material family of each product category (the older, coarser `category` field). */
const FAMILY: Record<ProductCategory, MaterialCategory> = {
  tile: MaterialCategory.Ceramic,
  stone: MaterialCategory.Stone,
  'wood-flooring': MaterialCategory.Wood,
  vinyl: MaterialCategory.Polymer,
  laminate: MaterialCategory.Composite,
  other: MaterialCategory.Other,
};

/** The base material named when a product states none (`stone` products are natural stone). */
const DEFAULT_MATERIAL: Record<ProductCategory, string> = {
  tile: 'ceramic',
  stone: 'natural stone',
  'wood-flooring': 'wood',
  vinyl: 'vinyl',
  laminate: 'laminate',
  other: 'unspecified',
};

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The default extractor: reads catalogue layouts (see `catalogue-reader.ts`): tables with a
 * header row, product blocks under a heading with specification lines, and one-line product
 * descriptions, in English, German, Italian, Spanish and French. A product's category comes
 * from its own words, else its page's, else the batch's. Deterministic and local.
 */
export class RuleBasedMaterialExtractor implements MaterialExtractor {
  readonly name = 'rules';
  private readonly extraTerms: readonly { pattern: RegExp; term: string; category: MaterialCategory }[];

  constructor(options: RuleBasedMaterialExtractorOptions = {}) {
    const parsed = parseOrThrow(RuleBasedMaterialExtractorOptionsSchema, options, 'RuleBasedMaterialExtractor options');
    this.extraTerms = Object.entries(parsed.extraTerms).map(([term, category]) => ({
      term: term.toLowerCase(),
      category,
      pattern: new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(term).replace(/\s+/g, '\\s+')}(?![\\p{L}\\p{N}])`, 'iu'),
    }));
  }

  async extract(pages: readonly PageText[], signal: AbortSignal): Promise<Material[]> {
    const documentContext = dominantCategory(pages.map((page) => page.text).join('\n'));
    const byName = new Map<string, { product: CatalogueProduct; pages: Set<number> }>();
    const found: Material[] = [];
    for (const page of pages) {
      signal.throwIfAborted();
      const pageContext = dominantCategory(page.text) ?? documentContext;
      for (const product of readCataloguePage(page.text, page.page)) {
        const own = categoryIn(product.name);
        product.category ??= own?.category ?? categoryIn(product.source.join(' '))?.category ?? pageContext?.category ?? ProductCategory.Other;
        product.material ??= own?.material ?? null;
        const id = foldText(product.name);
        const existing = byName.get(id);
        if (existing === undefined) byName.set(id, { product, pages: new Set([page.page]) });
        else {
          existing.pages.add(page.page);
          const into = existing.product;
          into.formats = unionFormats(into.formats, product.formats);
          into.thicknessMm ??= product.thicknessMm;
          into.finish ??= product.finish;
          into.colour ??= product.colour;
          into.properties = { ...product.properties, ...into.properties };
          into.source.push(...product.source.filter((line) => !into.source.includes(line)));
        }
      }
      for (const extra of this.extraTerms) found.push(...this.extraTermProducts(page, extra));
    }
    for (const { product, pages: seen } of byName.values()) found.push(this.toMaterial(product, [...seen]));
    return mergeMaterials(found);
  }

  private toMaterial(product: CatalogueProduct, pages: number[]): Material {
    const category = product.category ?? ProductCategory.Other;
    const properties = { ...product.properties };
    if (category === ProductCategory.WoodFlooring && properties.species === undefined) {
      const folded = ` ${foldText(product.name)} `;
      const species = Object.entries(SPECIES_WORDS).find(([word]) => folded.includes(` ${foldText(word)} `));
      if (species !== undefined) properties.species = species[1];
    }
    const material = product.material ?? properties.species ?? DEFAULT_MATERIAL[category];
    const fields = {
      name: product.name.slice(0, 200),
      dimensions: product.formats[0] ?? null,
      thicknessMm: product.thicknessMm,
      finish: product.finish,
      colour: product.colour,
    };
    const source = product.source.join('\n');
    return {
      ...fields,
      key: materialKey(fields),
      material: material.slice(0, 100),
      category: FAMILY[category],
      productCategory: category,
      formats: product.formats,
      properties,
      pages: [...pages].sort((a, b) => a - b),
      excerpt: source.length > EXCERPT_CHARS ? `${source.slice(0, EXCERPT_CHARS - 3)}...` : source,
      extractor: this.name,
    };
  }

  /** Lines naming an extra term with a length (`Sintered stone worktop 12 mm`). */
  private extraTermProducts(page: PageText, extra: { pattern: RegExp; term: string; category: MaterialCategory }): Material[] {
    const materials: Material[] = [];
    for (const line of page.text.split('\n')) {
      const match = extra.pattern.exec(line);
      const length = /(\d+(?:[.,]\d+)?)\s*mm\b/i.exec(line);
      if (match === null || length === null) continue;
      const fields = { name: extra.term, dimensions: null, thicknessMm: Number((length[1] as string).replace(',', '.')), finish: null, colour: null };
      materials.push({
        ...fields,
        key: materialKey(fields),
        material: extra.term,
        category: extra.category,
        productCategory: ProductCategory.Other,
        formats: [],
        properties: {},
        pages: [page.page],
        excerpt: line.slice(0, EXCERPT_CHARS),
        extractor: this.name,
      });
    }
    return materials;
  }
}
