import type { ArtifactRef } from '@kai-jobs/queue';

/** What {@link ArtifactStore.put} accepts. */
export type ArtifactBody = Buffer | Uint8Array | string;

/**
 * Where stages keep outputs too large for a checkpoint (extracted text, tiles, vectors).
 * Keys are `/`-separated relative paths; a checkpoint holds the returned refs (key, sha256,
 * bytes). Implementations: {@link LocalFolderArtifactStore}; any blob store can implement it.
 */
export interface ArtifactStore {
  /** Stores `body` under `key`, replacing what was there (a re-run overwrites, never duplicates). */
  put(key: string, body: ArtifactBody, options?: { contentType?: string }): Promise<ArtifactRef>;
  /** The bytes under `key`; throws `ArtifactNotFoundError` when absent. */
  get(key: string): Promise<Buffer>;
  /** True when `key` exists. */
  exists(key: string): Promise<boolean>;
  /** Keys under `prefix` (recursive), sorted. */
  list(prefix: string): Promise<string[]>;
  /** Deletes every key under `prefix`. */
  deletePrefix(prefix: string): Promise<void>;
  /** An absolute local path for `key` when the store is on local disk (for tools that need a file), else null. */
  localPath(key: string): string | null;
}

/**
 * The artifact store a stage sees: keys are relative to `<jobId>/<stage>/`, so a re-run of
 * a stage overwrites its own artifacts and cannot touch another job's.
 */
export interface ScopedArtifactStore {
  /** The scope prefix, `<jobId>/<stage>`. */
  readonly scope: string;
  put(name: string, body: ArtifactBody, options?: { contentType?: string }): Promise<ArtifactRef>;
  get(name: string): Promise<Buffer>;
  /** Reads an artifact of an earlier stage of the same job by its full key (from a checkpoint's refs). */
  getByKey(key: string): Promise<Buffer>;
  exists(name: string): Promise<boolean>;
  list(): Promise<string[]>;
  /** Local path of an artifact by name (see {@link ArtifactStore.localPath}). */
  localPath(name: string): string | null;
  /** Local path of any artifact by its full key. */
  localPathOfKey(key: string): string | null;
}

/** Artifact key of `name` in the scope of one job's stage. */
export function artifactKey(jobId: string, stage: string, name: string): string {
  return `${jobId}/${stage}/${name}`;
}

/** Scopes a store to one job's stage. */
export function scopeArtifactStore(store: ArtifactStore, jobId: string, stage: string): ScopedArtifactStore {
  const scope = `${jobId}/${stage}`;
  return {
    scope,
    put: (name, body, options) => store.put(artifactKey(jobId, stage, name), body, options),
    get: (name) => store.get(artifactKey(jobId, stage, name)),
    getByKey: (key) => store.get(key),
    exists: (name) => store.exists(artifactKey(jobId, stage, name)),
    list: async () => (await store.list(scope)).map((key) => key.slice(scope.length + 1)),
    localPath: (name) => store.localPath(artifactKey(jobId, stage, name)),
    localPathOfKey: (key) => store.localPath(key),
  };
}
