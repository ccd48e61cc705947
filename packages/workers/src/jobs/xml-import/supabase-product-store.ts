import { z } from 'zod';
import { parseOrThrow, StoreError, SupabaseConnectionOptionsSchema, SupabaseRpcClient } from '@kai-jobs/queue';
import type { ImportedProduct, ProductStore } from './product-store.js';

/** Options of {@link SupabaseProductStore}: the connection (url, serviceRoleKey, schema, requestTimeoutMs, logger) and batching. */
export const SupabaseProductStoreOptionsSchema = SupabaseConnectionOptionsSchema.extend({
  /**
   * Products per RPC (each RPC is one transaction). Keeps a request well under the API
   * gateway's body limit and a transaction short. Default 500.
   */
  productsPerCall: z.number().int().min(1).max(10_000).default(500),
}).strict();
/** What callers pass to construct a {@link SupabaseProductStore}. */
export type SupabaseProductStoreOptions = z.input<typeof SupabaseProductStoreOptionsSchema>;

const CountSchema = z.union([z.number().int(), z.string().regex(/^\d+$/)]).transform(Number);
const ProductSchema = z.looseObject({ sku: z.string(), name: z.string() }).nullable();

/**
 * {@link ProductStore} on Supabase: the `imported_products` table, keyed (source_name, sku),
 * written by `kai_upsert_products` (an upsert: a re-imported or resumed batch replaces rows, never
 * adds a second one; unchanged products are not rewritten). A batch goes out as RPCs of
 * `productsPerCall` products, one transaction each; if the worker dies between two, part of
 * the batch is stored — harmless, since the importer saves its resume state only after the
 * whole batch and writing a product again changes nothing.
 */
export class SupabaseProductStore implements ProductStore {
  private readonly client: SupabaseRpcClient;
  private readonly productsPerCall: number;

  constructor(options: SupabaseProductStoreOptions) {
    const { productsPerCall, ...connection } = parseOrThrow(SupabaseProductStoreOptionsSchema, options, 'Supabase product store options');
    this.productsPerCall = productsPerCall;
    this.client = new SupabaseRpcClient(connection, 'supabase-product-store');
  }

  async upsertMany(sourceName: string, products: readonly ImportedProduct[]): Promise<void> {
    for (let start = 0; start < products.length; start += this.productsPerCall) {
      await this.client.call(
        'kai_upsert_products',
        { p_source_name: sourceName, p_products: products.slice(start, start + this.productsPerCall) },
        { operation: `upsert products of ${sourceName}` },
      );
    }
  }

  async count(sourceName: string): Promise<number> {
    const reply = await this.client.call('kai_count_products', { p_source_name: sourceName }, { operation: 'count products' });
    const parsed = CountSchema.safeParse(reply);
    if (!parsed.success) throw new StoreError('kai_count_products returned no count', { retryable: false });
    return parsed.data;
  }

  async get(sourceName: string, sku: string): Promise<ImportedProduct | null> {
    const reply = await this.client.call('kai_get_product', { p_source_name: sourceName, p_sku: sku }, { operation: 'get product' });
    const parsed = ProductSchema.safeParse(reply);
    if (!parsed.success) throw new StoreError(`product ${sku} of ${sourceName} in Supabase is not a product`, { retryable: false });
    return parsed.data as ImportedProduct | null;
  }

  /** Releases the client (no connection is kept open between calls). */
  async close(): Promise<void> {
    await this.client.close();
  }
}
