import { open, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { toError, type Source } from '@kai-jobs/queue';
import { PermanentJobError } from '../../errors.js';
import { SourceUnavailableError } from './errors.js';

/**
 * Where `storage` sources are read from: any blob store with a `get` (an `ArtifactStore`
 * fits, a Supabase Storage bucket adapter too). A missing key must reject with an error
 * named `ArtifactNotFoundError` or carrying code `ARTIFACT_NOT_FOUND`/`NOT_FOUND`.
 */
export interface BlobSource {
  get(key: string): Promise<Buffer>;
}

/** Limits and places {@link readSource} uses. */
export interface SourceReaderOptions {
  /** Longest a download may take, body included (ms). */
  timeoutMs: number;
  /** Largest source accepted, from any kind of source (bytes). */
  maxBytes: number;
  /** Blob store for `storage` sources; without it such sources fail permanently. */
  blobStore?: BlobSource | undefined;
  /** When set, `file` paths resolve against it and may not leave it. */
  fileRoot?: string | undefined;
}

/** Reads the bytes of `source`; permanent problems throw `PermanentJobError`, passing ones `SourceUnavailableError`. */
export async function readSource(source: Source, options: SourceReaderOptions, signal: AbortSignal): Promise<Buffer> {
  switch (source.kind) {
    case 'file':
      return readFileSource(source.path, options);
    case 'url':
      return downloadSource(source.url, options, signal);
    case 'storage':
      return readStorageSource(source.key, options);
    case 'inline': {
      const bytes = Buffer.from(source.base64, 'base64');
      if (bytes.byteLength > options.maxBytes) throw tooLarge('inline source', bytes.byteLength, options.maxBytes);
      return bytes;
    }
    default: {
      const exhaustive: never = source;
      throw new PermanentJobError(`unknown source kind ${JSON.stringify(exhaustive)}`);
    }
  }
}

function tooLarge(what: string, bytes: number | string, maxBytes: number): PermanentJobError {
  return new PermanentJobError(`${what} is ${bytes} bytes, over the limit of ${maxBytes} bytes (download.maxBytes)`);
}

async function readFileSource(path: string, options: SourceReaderOptions): Promise<Buffer> {
  const full = options.fileRoot === undefined ? resolve(path) : resolve(options.fileRoot, path);
  if (options.fileRoot !== undefined) {
    const inside = relative(resolve(options.fileRoot), full);
    if (inside.startsWith('..') || isAbsolute(inside)) {
      throw new PermanentJobError(`file source ${path} is outside the allowed folder ${options.fileRoot}`);
    }
  }
  let size: number;
  try {
    const info = await stat(full);
    if (!info.isFile()) throw new PermanentJobError(`file source ${path} is not a regular file`);
    size = info.size;
  } catch (error) {
    if (error instanceof PermanentJobError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new PermanentJobError(`file source ${path} does not exist`, { cause: error });
    if (code === 'EACCES' || code === 'EPERM') throw new PermanentJobError(`file source ${path} is not readable (${code})`, { cause: error });
    throw error;
  }
  if (size > options.maxBytes) throw tooLarge(`file source ${path}`, size, options.maxBytes);
  // Read through one handle, bounded, so a file that grows after stat() cannot exceed the limit.
  const handle = await open(full, 'r');
  try {
    const buffer = Buffer.alloc(Math.min(size, options.maxBytes) + 1);
    let filled = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
      if (filled > options.maxBytes) throw tooLarge(`file source ${path}`, `more than ${options.maxBytes}`, options.maxBytes);
      if (filled === buffer.length) break;
    }
    return buffer.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

/** A safe description of a URL for messages: no query string (it may carry a signed token). */
function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

async function downloadSource(url: string, options: SourceReaderOptions, signal: AbortSignal): Promise<Buffer> {
  const where = describeUrl(url);
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const combined = AbortSignal.any([signal, timeout]);
  const failed = (error: unknown): never => {
    if (signal.aborted) throw toError(signal.reason);
    if (timeout.aborted) {
      throw new SourceUnavailableError(`download of ${where} did not finish within ${options.timeoutMs} ms (download.timeoutMs)`, {
        cause: error,
      });
    }
    throw new SourceUnavailableError(`download of ${where} failed: ${toError(error).message}`, { cause: error });
  };
  let response: Response;
  try {
    response = await fetch(url, { signal: combined, redirect: 'follow', headers: { accept: 'application/pdf, */*;q=0.5' } });
  } catch (error) {
    return failed(error);
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    const what = `download of ${where} answered HTTP ${response.status}${response.statusText === '' ? '' : ` ${response.statusText}`}`;
    // 408, 429 and 5xx may pass; any other 4xx (not found, forbidden, gone) will not.
    if (response.status === 408 || response.status === 429 || response.status >= 500) throw new SourceUnavailableError(what);
    throw new PermanentJobError(what);
  }
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > options.maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge(`download of ${where}`, declared, options.maxBytes);
  }
  const chunks: Buffer[] = [];
  let received = 0;
  try {
    if (response.body !== null) {
      for await (const chunk of response.body) {
        received += chunk.byteLength;
        // Counted as it streams: a server may omit or understate Content-Length.
        if (received > options.maxBytes) {
          await response.body.cancel().catch(() => undefined);
          throw tooLarge(`download of ${where}`, `more than ${options.maxBytes}`, options.maxBytes);
        }
        chunks.push(Buffer.from(chunk));
      }
    }
  } catch (error) {
    if (error instanceof PermanentJobError) throw error;
    return failed(error);
  }
  return Buffer.concat(chunks, received);
}

function isNotFound(error: unknown): boolean {
  const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown };
  return name === 'ArtifactNotFoundError' || code === 'ARTIFACT_NOT_FOUND' || code === 'NOT_FOUND';
}

async function readStorageSource(key: string, options: SourceReaderOptions): Promise<Buffer> {
  if (options.blobStore === undefined) {
    throw new PermanentJobError(`source ${key} is in storage, but this worker has no blob store configured (option blobStore)`);
  }
  let bytes: Buffer;
  try {
    bytes = await options.blobStore.get(key);
  } catch (error) {
    if (isNotFound(error)) throw new PermanentJobError(`storage source ${key} does not exist`, { cause: error });
    throw error;
  }
  if (bytes.byteLength > options.maxBytes) throw tooLarge(`storage source ${key}`, bytes.byteLength, options.maxBytes);
  return bytes;
}
