/** One validated product of a feed: `sku` and `name` always, typed known fields, any other mapped field as text. */
export interface ImportedProduct {
  sku: string;
  name: string;
  price?: number;
  currency?: string;
  stock?: number;
  url?: string;
  [field: string]: string | number | string[] | number[] | undefined;
}

/**
 * Where imported products go, keyed by (source name, SKU). `upsertMany` replaces a product
 * with the same key, so importing a feed twice — or resuming an import that had already
 * written a batch — never creates duplicates.
 */
export interface ProductStore {
  /** Inserts or replaces `products` (all of one source) as one batch. */
  upsertMany(sourceName: string, products: readonly ImportedProduct[]): Promise<void>;
  /** Distinct products stored for `sourceName`. */
  count(sourceName: string): Promise<number>;
  /** The product with `sku` from `sourceName`, or null. */
  get(sourceName: string, sku: string): Promise<ImportedProduct | null>;
}

/** A {@link ProductStore} in memory, for unit tests and small scripts. */
export class MemoryProductStore implements ProductStore {
  private readonly sources = new Map<string, Map<string, ImportedProduct>>();

  async upsertMany(sourceName: string, products: readonly ImportedProduct[]): Promise<void> {
    let source = this.sources.get(sourceName);
    if (source === undefined) {
      source = new Map();
      this.sources.set(sourceName, source);
    }
    for (const product of products) source.set(product.sku, structuredClone(product));
  }

  async count(sourceName: string): Promise<number> {
    return this.sources.get(sourceName)?.size ?? 0;
  }

  async get(sourceName: string, sku: string): Promise<ImportedProduct | null> {
    const product = this.sources.get(sourceName)?.get(sku);
    return product === undefined ? null : structuredClone(product);
  }
}
