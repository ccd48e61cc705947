import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { KaiJobsError } from '@kai-jobs/queue';

/**
 * Read access to a blob store (Supabase Storage, S3, a folder) for `{ kind: 'storage' }`
 * sources. Streams, so a large feed is never held in memory.
 */
export interface BlobReader {
  /** Streams the object under `key`; rejects with {@link BlobNotFoundError} when absent. */
  openRead(key: string, signal: AbortSignal): Promise<AsyncIterable<Uint8Array>>;
}

/** No object under the key. Not retryable. */
export class BlobNotFoundError extends KaiJobsError {
  override name = 'BlobNotFoundError' as const;
  constructor(readonly key: string) {
    super('BLOB_NOT_FOUND', `no object "${key}" in the blob store`, { retryable: false });
  }
}

const KEY_PATTERN = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** A {@link BlobReader} over a local folder (development, tests, a mounted volume). */
export class LocalFolderBlobReader implements BlobReader {
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async openRead(key: string, signal: AbortSignal): Promise<AsyncIterable<Uint8Array>> {
    if (!KEY_PATTERN.test(key) || key.split('/').includes('..')) throw new BlobNotFoundError(key);
    const path = join(this.root, ...key.split('/'));
    if (!path.startsWith(this.root + sep)) throw new BlobNotFoundError(key);
    try {
      if (!(await stat(path)).isFile()) throw new BlobNotFoundError(key);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new BlobNotFoundError(key);
      throw error;
    }
    return createReadStream(path, { highWaterMark: 1024 * 1024, signal });
  }
}
