import { z } from 'zod';
import { parseOrThrow, StoreError, SupabaseConnectionOptionsSchema, SupabaseRpcClient, zodIssuesToFieldIssues, ValidationError } from '@kai-jobs/queue';
import { MaterialSchema, type Material } from './material.js';
import type { MaterialStore } from './material-store.js';

/** Options of {@link SupabaseMaterialStore}: the connection (url, serviceRoleKey, schema, requestTimeoutMs, logger). */
export const SupabaseMaterialStoreOptionsSchema = SupabaseConnectionOptionsSchema;
/** What callers pass to construct a {@link SupabaseMaterialStore}. */
export type SupabaseMaterialStoreOptions = z.input<typeof SupabaseMaterialStoreOptionsSchema>;

const CountSchema = z.union([z.number().int(), z.string().regex(/^\d+$/)]).transform(Number);

/**
 * {@link MaterialStore} on Supabase: the `extracted_materials` table, keyed (document_id,
 * material_key). `upsertMany` is one `kai_upsert_materials` RPC — one transaction, so a batch
 * lands whole or not at all, and a re-run replaces the same rows instead of adding new ones.
 */
export class SupabaseMaterialStore implements MaterialStore {
  private readonly client: SupabaseRpcClient;

  constructor(options: SupabaseMaterialStoreOptions) {
    this.client = new SupabaseRpcClient(
      parseOrThrow(SupabaseMaterialStoreOptionsSchema, options, 'Supabase material store options'),
      'supabase-material-store',
    );
  }

  async upsertMany(documentId: string, materials: readonly Material[]): Promise<void> {
    if (materials.length === 0) return;
    // Validate all first: a bad batch writes nothing.
    const valid = materials.map((material, index) => {
      const parsed = MaterialSchema.safeParse(material);
      if (!parsed.success) {
        throw new ValidationError(`material of document ${documentId}`, zodIssuesToFieldIssues(parsed.error, material, [index]));
      }
      return parsed.data;
    });
    await this.client.call('kai_upsert_materials', { p_document_id: documentId, p_materials: valid }, {
      operation: `upsert materials of ${documentId}`,
    });
  }

  async list(documentId: string): Promise<Material[]> {
    const reply = await this.client.call('kai_list_materials', { p_document_id: documentId }, { operation: 'list materials' });
    if (!Array.isArray(reply)) throw new StoreError('kai_list_materials returned no array', { retryable: false });
    return reply
      .map((value) => {
        const parsed = MaterialSchema.safeParse(value);
        if (!parsed.success) throw new StoreError(`a material of document ${documentId} in Supabase is not a valid material`, { retryable: false });
        return parsed.data;
      })
      .sort((a, b) => a.key.localeCompare(b.key));
  }

  async count(documentId: string): Promise<number> {
    const reply = await this.client.call('kai_count_materials', { p_document_id: documentId }, { operation: 'count materials' });
    const parsed = CountSchema.safeParse(reply);
    if (!parsed.success) throw new StoreError('kai_count_materials returned no count', { retryable: false });
    return parsed.data;
  }

  /** Releases the client (no connection is kept open between calls). */
  async close(): Promise<void> {
    await this.client.close();
  }
}
