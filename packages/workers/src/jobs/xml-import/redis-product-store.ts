import { z } from 'zod';
import { ConfigError, DEFAULT_KEY_PREFIX, KeyPrefixSchema, type RedisClient } from '@kai-jobs/queue';
import { productKeys, type ProductKeys } from './keys.js';
import type { ImportedProduct, ProductStore } from './product-store.js';

/** Options of {@link RedisProductStore}. */
export const RedisProductStoreOptionsSchema = z
  .object({
    /** An open ioredis connection (single node or cluster); the store does not close it. */
    connection: z.custom<RedisClient>(
      (value) => typeof value === 'object' && value !== null && typeof (value as { hset?: unknown }).hset === 'function',
      'expected an ioredis connection',
    ),
    /** Key prefix. Default `kai`. */
    prefix: KeyPrefixSchema.default(DEFAULT_KEY_PREFIX),
  })
  .strict();
/** What callers pass to {@link RedisProductStore}. */
export type RedisProductStoreOptions = z.input<typeof RedisProductStoreOptionsSchema>;

/**
 * Products in Redis: one hash per source (`…:products:<sourceName>:items`, SKU → JSON). A
 * batch is one HSET, so it is written whole or not at all, and a re-written SKU replaces
 * the old value instead of adding a second one.
 */
export class RedisProductStore implements ProductStore {
  private readonly redis: RedisClient;
  /** The keys this store uses. */
  readonly keys: ProductKeys;

  constructor(options: RedisProductStoreOptions) {
    const parsed = RedisProductStoreOptionsSchema.safeParse(options);
    if (!parsed.success) {
      throw new ConfigError(`invalid Redis product store options: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
    }
    this.redis = parsed.data.connection;
    this.keys = productKeys(parsed.data.prefix);
  }

  async upsertMany(sourceName: string, products: readonly ImportedProduct[]): Promise<void> {
    if (products.length === 0) return;
    const fields: string[] = [];
    for (const product of products) fields.push(product.sku, JSON.stringify(product));
    await this.redis.hset(this.keys.items(sourceName), ...fields);
  }

  async count(sourceName: string): Promise<number> {
    return this.redis.hlen(this.keys.items(sourceName));
  }

  async get(sourceName: string, sku: string): Promise<ImportedProduct | null> {
    const raw = await this.redis.hget(this.keys.items(sourceName), sku);
    return raw === null ? null : (JSON.parse(raw) as ImportedProduct);
  }
}
