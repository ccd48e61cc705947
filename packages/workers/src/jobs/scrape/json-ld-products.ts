import { z } from 'zod';

/** A product found in a page's JSON-LD (schema.org `Product`). */
export const ScrapedProductSchema = z.object({
  name: z.string(),
  sku: z.string().optional(),
  brand: z.string().optional(),
  /** The offer's price (lowest of an AggregateOffer), in `currency`. */
  price: z.number().optional(),
  /** ISO 4217 code from `priceCurrency`. */
  currency: z.string().optional(),
  image: z.string().optional(),
  /** The product's own `url`, else the page's. */
  url: z.string(),
  /** The page it was found on. */
  pageUrl: z.string(),
});
/** A product found in a page's JSON-LD. */
export type ScrapedProduct = z.infer<typeof ScrapedProductSchema>;

const PRODUCT_TYPES = new Set(['product', 'individualproduct', 'productmodel']);
const MAX_WALK_DEPTH = 12;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function typesOf(node: Record<string, Json>): string[] {
  const raw = node['@type'];
  const list = Array.isArray(raw) ? raw : [raw];
  // `schema:Product` and `https://schema.org/Product` name the same type.
  return list.filter((type): type is string => typeof type === 'string').map((type) => type.replace(/^.*[/:#]/, '').toLowerCase());
}

function firstString(value: Json | undefined): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value.trim();
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = firstString(item);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') return firstString(value['name'] ?? value['url'] ?? value['@id']);
  return undefined;
}

function toPrice(value: Json | undefined): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  // schema.org prices use "." as the decimal mark; spaces and currency signs are tolerated.
  const cleaned = value.replace(/[^\d.-]/g, '');
  if (!/^-?\d+(\.\d+)?$/.test(cleaned)) return undefined;
  return Number(cleaned);
}

function offerPrice(offers: Json | undefined): { price?: number; currency?: string } {
  const list = Array.isArray(offers) ? offers : offers === undefined ? [] : [offers];
  let best: { price?: number; currency?: string } = {};
  for (const offer of list) {
    if (offer === null || typeof offer !== 'object' || Array.isArray(offer)) continue;
    const specification = offer['priceSpecification'];
    const spec = specification !== null && typeof specification === 'object' && !Array.isArray(specification) ? specification : {};
    const price = toPrice(offer['price']) ?? toPrice(offer['lowPrice']) ?? toPrice(spec['price']);
    const currency = firstString(offer['priceCurrency']) ?? firstString(spec['priceCurrency']);
    if (price !== undefined && (best.price === undefined || price < best.price)) {
      best = currency === undefined ? { price } : { price, currency };
    } else if (best.price === undefined && currency !== undefined && best.currency === undefined) {
      best = { currency };
    }
  }
  return best;
}

function toProduct(node: Record<string, Json>, pageUrl: string): ScrapedProduct | null {
  const name = firstString(node['name']);
  if (name === undefined) return null;
  const product: ScrapedProduct = { name, url: pageUrl, pageUrl };
  const sku = firstString(node['sku']) ?? firstString(node['productID']);
  if (sku !== undefined) product.sku = sku;
  const brand = firstString(node['brand']);
  if (brand !== undefined) product.brand = brand;
  const { price, currency } = offerPrice(node['offers']);
  if (price !== undefined) product.price = price;
  if (currency !== undefined) product.currency = currency;
  const image = firstString(node['image']);
  if (image !== undefined) {
    try {
      product.image = new URL(image, pageUrl).href;
    } catch {
      product.image = image;
    }
  }
  const ownUrl = firstString(node['url']);
  if (ownUrl !== undefined) {
    try {
      product.url = new URL(ownUrl, pageUrl).href;
    } catch {
      // Keep the page URL when the product's own is unusable.
    }
  }
  return product;
}

function walk(node: Json, pageUrl: string, depth: number, out: ScrapedProduct[]): void {
  if (depth > MAX_WALK_DEPTH || node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const item of node) walk(item, pageUrl, depth + 1, out);
    return;
  }
  if (typesOf(node).some((type) => PRODUCT_TYPES.has(type))) {
    const product = toProduct(node, pageUrl);
    if (product !== null) out.push(product);
    return;
  }
  // Products also sit inside @graph, ItemList elements, ProductGroup variants and the like.
  for (const value of Object.values(node)) walk(value, pageUrl, depth + 1, out);
}

/**
 * Products described by a page's JSON-LD blocks. A block that is not valid JSON is
 * skipped (pages ship broken JSON-LD often enough that it must not fail the page).
 */
export function productsFromJsonLd(blocks: readonly string[], pageUrl: string): ScrapedProduct[] {
  const products: ScrapedProduct[] = [];
  for (const block of blocks) {
    const cleaned = block.replace(/^\s*(<!--|<!\[CDATA\[)/, '').replace(/(-->|\]\]>)\s*$/, '');
    let parsed: Json;
    try {
      parsed = JSON.parse(cleaned) as Json;
    } catch {
      continue;
    }
    walk(parsed, pageUrl, 0, products);
  }
  return products;
}
