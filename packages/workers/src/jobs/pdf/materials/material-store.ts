import { MaterialSchema, type Material } from './material.js';

/**
 * Where a document's materials are saved, keyed by (documentId, material key): `upsertMany`
 * replaces a material with the same key, so running the stage again never duplicates.
 * Implementations: {@link RedisMaterialStore}, {@link InMemoryMaterialStore} (tests); a
 * Supabase table fits the same three methods.
 */
export interface MaterialStore {
  /** Inserts or replaces each material by its key, atomically for the batch. */
  upsertMany(documentId: string, materials: readonly Material[]): Promise<void>;
  /** The document's materials, sorted by key. */
  list(documentId: string): Promise<Material[]>;
  /** How many materials the document has. */
  count(documentId: string): Promise<number>;
}

/** True when `value` looks like a {@link MaterialStore} (for option schemas). */
export function isMaterialStore(value: unknown): value is MaterialStore {
  const candidate = value as Partial<MaterialStore> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.upsertMany === 'function' &&
    typeof candidate.list === 'function' &&
    typeof candidate.count === 'function'
  );
}

/** A {@link MaterialStore} in memory, for unit tests and single-process tools. */
export class InMemoryMaterialStore implements MaterialStore {
  private readonly documents = new Map<string, Map<string, Material>>();

  async upsertMany(documentId: string, materials: readonly Material[]): Promise<void> {
    // Validate all first: a bad batch writes nothing, like the Redis store's single HSET.
    const valid = materials.map((material) => MaterialSchema.parse(material));
    let document = this.documents.get(documentId);
    if (document === undefined) {
      document = new Map();
      this.documents.set(documentId, document);
    }
    for (const material of valid) document.set(material.key, structuredClone(material));
  }

  async list(documentId: string): Promise<Material[]> {
    const document = this.documents.get(documentId);
    if (document === undefined) return [];
    return [...document.values()].map((material) => structuredClone(material)).sort((a, b) => a.key.localeCompare(b.key));
  }

  async count(documentId: string): Promise<number> {
    return this.documents.get(documentId)?.size ?? 0;
  }
}
