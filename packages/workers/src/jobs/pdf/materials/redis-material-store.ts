import { z } from 'zod';
import { DEFAULT_KEY_PREFIX, KeyPrefixSchema, parseOrThrow, StoreError, type RedisClient } from '@kai-jobs/queue';
import { pdfKeys, type PdfKeys } from '../keys.js';
import { MaterialSchema, type Material } from './material.js';
import type { MaterialStore } from './material-store.js';

/** Options of {@link RedisMaterialStore}. */
export const RedisMaterialStoreOptionsSchema = z
  .object({
    /** The ioredis connection to use; the store does not close it. */
    connection: z.custom<RedisClient>((value) => typeof value === 'object' && value !== null, {
      message: 'expected an ioredis connection',
    }),
    /** Key prefix. Default `kai`. */
    prefix: KeyPrefixSchema.default(DEFAULT_KEY_PREFIX),
  })
  .strict();
/** What callers pass to construct a {@link RedisMaterialStore}. */
export type RedisMaterialStoreOptions = z.input<typeof RedisMaterialStoreOptionsSchema>;

/**
 * {@link MaterialStore} on Redis: one hash per document
 * (`<prefix>:{pdf-processing}:materials:<documentId>`), field = material key, value = the
 * material as JSON. `upsertMany` is one `HSET`, so a batch lands whole or not at all and a
 * re-run overwrites the same fields instead of adding new ones.
 */
export class RedisMaterialStore implements MaterialStore {
  private readonly redis: RedisClient;
  /** The keys this store writes. */
  readonly keys: PdfKeys;

  constructor(options: RedisMaterialStoreOptions) {
    const parsed = parseOrThrow(RedisMaterialStoreOptionsSchema, options, 'RedisMaterialStore options');
    this.redis = parsed.connection;
    this.keys = pdfKeys(parsed.prefix);
  }

  async upsertMany(documentId: string, materials: readonly Material[]): Promise<void> {
    if (materials.length === 0) return;
    const fields: string[] = [];
    for (const material of materials) {
      const valid = MaterialSchema.parse(material);
      fields.push(valid.key, JSON.stringify(valid));
    }
    await this.redis.hset(this.keys.materials(documentId), ...fields);
  }

  async list(documentId: string): Promise<Material[]> {
    const entries = await this.redis.hgetall(this.keys.materials(documentId));
    return Object.entries(entries)
      .map(([key, json]) => {
        const parsed = MaterialSchema.safeParse(JSON.parse(json));
        if (!parsed.success) throw new StoreError(`material ${key} of document ${documentId} in Redis is not a valid material`);
        return parsed.data;
      })
      .sort((a, b) => a.key.localeCompare(b.key));
  }

  async count(documentId: string): Promise<number> {
    return this.redis.hlen(this.keys.materials(documentId));
  }
}
