import { KaiJobsError } from '@kai-jobs/queue';
import { isFileSourceError } from './errors.js';
import { openFileSource, readOpenedFileChunks } from './file-source.js';

/**
 * Read access to a blob store (Supabase Storage, S3, a folder) for `{ kind: 'storage' }`
 * sources. Streams, so a large feed is never held in memory.
 */
export interface BlobReader {
  /** Streams the object under `key`; rejects with {@link BlobNotFoundError} when absent. */
  openRead(key: string, signal: AbortSignal, options?: BlobReadOptions): Promise<AsyncIterable<Uint8Array>>;
}

/** Limits of one {@link BlobReader.openRead}. */
export interface BlobReadOptions {
  /** Largest object accepted (bytes): refused from its declared size, else counted as it streams. */
  maxBytes?: number;
}

/** No object under the key. Not retryable. */
export class BlobNotFoundError extends KaiJobsError {
  override name = 'BlobNotFoundError' as const;
  constructor(
    readonly key: string,
    /** The bucket searched, when the store has one. */
    readonly bucket?: string,
  ) {
    super('BLOB_NOT_FOUND', bucket === undefined ? `no object "${key}" in the blob store` : `no object "${key}" in bucket "${bucket}"`, { retryable: false });
  }
}

const KEY_PATTERN = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/**
 * A {@link BlobReader} over a local folder (development, tests, a mounted volume). Keys are
 * opened through the same opener as `file` sources, so a symlink in the folder cannot lead
 * out of it.
 */
export class LocalFolderBlobReader implements BlobReader {
  constructor(private readonly root: string) {}

  async openRead(key: string, signal: AbortSignal): Promise<AsyncIterable<Uint8Array>> {
    if (!KEY_PATTERN.test(key) || key.split('/').includes('..')) throw new BlobNotFoundError(key);
    try {
      const file = await openFileSource(key, { fileRoot: this.root, what: 'blob' });
      return readOpenedFileChunks(file, signal);
    } catch (error) {
      // Absent, not a file, or leading outside the folder: to the caller, there is no such object.
      if (isFileSourceError(error)) throw new BlobNotFoundError(key);
      throw error;
    }
  }
}
