import { canaryPdf, isKaiJobsError, toError, type Source } from '@kai-jobs/queue';
import { PermanentJobError } from '../../errors.js';
import type { BlobReader } from '../shared/blob-reader.js';
import { describeContentKind } from '../shared/content-kind.js';
import { FetchFailureReason, isHttpFetchError, type HttpFetchError } from '../shared/errors.js';
import { openFileSource, readOpenedFile } from '../shared/file-source.js';
import { guardedRequest, startDeadline, type GuardedResponse } from '../shared/guarded-http.js';
import type { UrlGuard } from '../shared/url-guard.js';
import { SourceUnavailableError } from './errors.js';

/**
 * Where `storage` sources are read from: any blob store with a `get` (an `ArtifactStore`
 * fits, `S3BlobStore` too). A store that also streams (`openRead`, a `BlobReader`) is read
 * streamed, so an object over `maxBytes` is refused before it is held in memory. A missing key must reject with an error
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
  /** Redirects a download follows at most (each hop is checked by `urlGuard`). */
  maxRedirects: number;
  /** The SSRF guard every `url` download and each of its redirects goes through. */
  urlGuard: UrlGuard;
  /** Blob store for `storage` sources; without it such sources fail permanently. */
  blobStore?: BlobSource | undefined;
  /** The only folder `file` sources may be read from; without it they are refused (file sources off). */
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
      return readStorageSource(source.key, options, signal);
    case 'inline': {
      const bytes = Buffer.from(source.base64, 'base64');
      if (bytes.byteLength > options.maxBytes) throw tooLarge('inline source', bytes.byteLength, options.maxBytes);
      return bytes;
    }
    case 'canary':
      // The recovery drill's canary: written here from its line of text (a few hundred bytes).
      return canaryPdf(source.text);
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
  const file = await openFileSource(path, { fileRoot: options.fileRoot, what: 'file source' });
  try {
    if (file.size > options.maxBytes) throw tooLarge(`file source ${path}`, file.size, options.maxBytes);
    // Read through the checked descriptor, bounded, so a file that grows after fstat cannot exceed the limit.
    const bytes = await readOpenedFile(file, options.maxBytes);
    if (bytes === null) throw tooLarge(`file source ${path}`, `more than ${options.maxBytes}`, options.maxBytes);
    return bytes;
  } finally {
    await file.handle.close();
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

/** Readers accept a little junk before the header, so look for it in the first KiB (as pdf_loaded does). */
const PDF_HEADER_WINDOW = 1024;

function guardFailure(error: HttpFetchError, where: string): Error {
  const hop = describeUrl(error.url);
  switch (error.reason) {
    case FetchFailureReason.Refused:
      return new PermanentJobError(
        `download of ${where} was refused by the SSRF guard${hop === where ? '' : ` at the redirect to ${hop}`}: ${error.detail ?? error.reason}`,
        { cause: error },
      );
    case FetchFailureReason.RedirectLoop:
    case FetchFailureReason.TooManyRedirects:
    case FetchFailureReason.BadRedirect:
      return new PermanentJobError(`download of ${where} failed: ${error.reason.replaceAll('_', ' ')} (download.maxRedirects)`, { cause: error });
    case FetchFailureReason.TooLarge:
    case FetchFailureReason.Timeout:
    case FetchFailureReason.Network:
      return new SourceUnavailableError(`download of ${where} failed (${error.reason})`, { cause: error });
    default: {
      const exhaustive: never = error.reason;
      return new Error(`unknown fetch failure ${String(exhaustive)}`);
    }
  }
}

/**
 * Downloads a `url` source through the guarded client (the SSRF guard checks every hop after
 * DNS and pins the address). Stops reading as soon as the first KiB shows the answer is not a
 * PDF, and says what kind of content it was, never its bytes.
 */
async function downloadSource(url: string, options: SourceReaderOptions, signal: AbortSignal): Promise<Buffer> {
  const where = describeUrl(url);
  const deadline = startDeadline(signal, options.timeoutMs);
  const failed = (error: unknown): never => {
    if (error instanceof PermanentJobError || error instanceof SourceUnavailableError) throw error;
    if (signal.aborted) throw toError(signal.reason);
    if (deadline.timedOut()) {
      throw new SourceUnavailableError(`download of ${where} did not finish within ${options.timeoutMs} ms (download.timeoutMs)`, { cause: error });
    }
    if (isHttpFetchError(error)) throw guardFailure(error, where);
    const code = (error as NodeJS.ErrnoException).code;
    throw new SourceUnavailableError(`download of ${where} failed: ${code ?? toError(error).name}`, { cause: error });
  };
  try {
    let response: GuardedResponse;
    try {
      response = await guardedRequest(url, {
        guard: options.urlGuard,
        maxRedirects: options.maxRedirects,
        signal: deadline.signal,
        headers: { accept: 'application/pdf, */*;q=0.5' },
      });
    } catch (error) {
      return failed(error);
    }
    const { status } = response;
    if (status < 200 || status >= 300) {
      response.body.destroy();
      const what = `download of ${where} answered HTTP ${status}`;
      // 408, 429 and 5xx may pass; any other status (not found, forbidden, gone, a 1xx/3xx oddity) will not.
      if (status === 408 || status === 429 || status >= 500) throw new SourceUnavailableError(what);
      throw new PermanentJobError(what);
    }
    const rawType = response.headers['content-type'];
    const contentType = rawType === undefined ? null : String(rawType);
    const declared = Number(response.headers['content-length']);
    if (response.headers['content-encoding'] === undefined && Number.isFinite(declared) && declared > options.maxBytes) {
      response.body.destroy();
      throw tooLarge(`download of ${where}`, declared, options.maxBytes);
    }
    const chunks: Buffer[] = [];
    let received = 0;
    let headerChecked = false;
    const checkHeader = (): void => {
      headerChecked = true;
      const head = Buffer.concat(chunks, received).subarray(0, PDF_HEADER_WINDOW);
      if (head.indexOf('%PDF-', 0, 'latin1') < 0) {
        response.body.destroy();
        throw new PermanentJobError(`the answer of ${where} is ${describeContentKind(head, contentType)}, not a PDF (no %PDF- header in its first ${PDF_HEADER_WINDOW} bytes)`);
      }
    };
    try {
      for await (const chunk of response.body) {
        const buffer = chunk as Buffer;
        received += buffer.byteLength;
        // Counted as it streams: a server may omit or understate Content-Length, or compress a bomb.
        if (received > options.maxBytes) {
          response.body.destroy();
          throw tooLarge(`download of ${where}`, `more than ${options.maxBytes}`, options.maxBytes);
        }
        chunks.push(buffer);
        if (!headerChecked && received >= PDF_HEADER_WINDOW) checkHeader();
      }
    } catch (error) {
      return failed(error);
    }
    if (!headerChecked) checkHeader();
    return Buffer.concat(chunks, received);
  } finally {
    deadline.dispose();
  }
}

function isNotFound(error: unknown): boolean {
  const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown };
  return name === 'ArtifactNotFoundError' || code === 'ARTIFACT_NOT_FOUND' || code === 'NOT_FOUND' || code === 'BLOB_NOT_FOUND';
}

/** Reads a blob store that streams ({@link BlobReader}), counting bytes against the limit as they arrive. */
async function readStreamed(store: BlobReader, key: string, maxBytes: number, signal: AbortSignal): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let received = 0;
  for await (const chunk of await store.openRead(key, signal, { maxBytes })) {
    received += chunk.byteLength;
    if (received > maxBytes) throw tooLarge(`storage source ${key}`, `more than ${maxBytes}`, maxBytes);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, received);
}

async function readStorageSource(key: string, options: SourceReaderOptions, signal: AbortSignal): Promise<Buffer> {
  const store = options.blobStore;
  if (store === undefined) {
    throw new PermanentJobError(`source ${key} is in storage, but this worker has no blob store configured (option blobStore; STORAGE_S3_* in a worker)`);
  }
  let bytes: Buffer;
  try {
    bytes = 'openRead' in store && typeof store.openRead === 'function' ? await readStreamed(store as BlobReader, key, options.maxBytes, signal) : await store.get(key);
  } catch (error) {
    if (error instanceof PermanentJobError || signal.aborted) throw error;
    if (isNotFound(error)) throw new PermanentJobError(isKaiJobsError(error) && error.code === 'BLOB_NOT_FOUND' ? `storage source: ${error.message}` : `storage source ${key} does not exist`, { cause: error });
    // The store says whether it may pass (unreachable, a server error) or not (credentials refused, too large).
    if (isKaiJobsError(error) && !error.retryable) throw new PermanentJobError(`storage source ${key}: ${error.message}`, { cause: error });
    throw new SourceUnavailableError(`storage source ${key} could not be read: ${toError(error).message}`, { cause: error });
  }
  if (bytes.byteLength > options.maxBytes) throw tooLarge(`storage source ${key}`, bytes.byteLength, options.maxBytes);
  return bytes;
}
