import { isKaiJobsError, systemClock, toError, type Clock, type Source } from '@kai-jobs/queue';
import { PermanentJobError } from '../../errors.js';
import { BlobNotFoundError } from '../shared/blob-reader.js';
import { FetchFailureReason, HttpFetchError, isHttpFetchError } from '../shared/errors.js';
import { openFileSource, readOpenedFileChunks } from '../shared/file-source.js';
import { guardedRequest, startDeadline } from '../shared/guarded-http.js';
import { UrlGuard } from '../shared/url-guard.js';
import type { XmlImportJobConfig } from './config.js';
import { FeedUnavailableError } from './errors.js';

/** An opened feed: its bytes as a stream, and how to describe it. */
export interface OpenedFeed {
  /** `file:/data/feed.xml`, `url:https://…`, `storage:feeds/x.xml`. */
  description: string;
  /** The bytes; a chunk may be a view of a reused buffer, valid only until the next one is requested. */
  chunks: AsyncIterable<Uint8Array>;
  /** Total bytes when known up front (file size, Content-Length), for progress. */
  declaredBytes: number | null;
  /** Call for each chunk received (keeps the idle timeout from firing). */
  touch(): void;
  /** Maps an error thrown while reading `chunks` to the job's terms. */
  mapError(error: unknown): Error;
  /** Stops timers; call when done, whatever happened. */
  dispose(): void;
}

const noop = (): void => undefined;

async function openFile(path: string, config: XmlImportJobConfig, signal: AbortSignal): Promise<OpenedFeed> {
  // Opened and checked once, on the descriptor; the stream reads that descriptor, never the path again.
  const file = await openFileSource(path, { fileRoot: config.fileRoot, what: 'feed file' });
  if (file.size > config.maxFeedBytes) {
    await file.handle.close();
    throw new PermanentJobError(`feed file ${path} is ${file.size} bytes, over the limit of ${config.maxFeedBytes}`);
  }
  const chunks = readOpenedFileChunks(file, signal);
  return {
    description: `file:${file.realPath}`,
    chunks,
    declaredBytes: file.size,
    touch: noop,
    mapError: toError,
    // A generator never started does not run its finally; closing an already closed handle is a no-op.
    dispose: () => void file.handle.close().catch(noop),
  };
}

/** Aborts when nothing arrived for `idleMs`. */
function startIdleWatch(idleMs: number, clock: Clock) {
  const controller = new AbortController();
  const stop = new AbortController();
  let last = clock.now();
  let expired = false;
  void (async () => {
    while (!stop.signal.aborted) {
      const wait = last + idleMs - clock.now();
      if (wait <= 0) {
        expired = true;
        controller.abort(new Error(`no data for ${idleMs} ms`));
        return;
      }
      await clock.sleep(wait, stop.signal);
    }
  })().catch(noop);
  return {
    signal: controller.signal,
    touch: () => void (last = clock.now()),
    timedOut: () => expired,
    dispose: () => stop.abort(),
  };
}

function permanentFetchFailure(error: HttpFetchError, url: string): Error {
  switch (error.reason) {
    case FetchFailureReason.Refused:
    case FetchFailureReason.RedirectLoop:
    case FetchFailureReason.TooManyRedirects:
    case FetchFailureReason.BadRedirect:
    case FetchFailureReason.TooLarge:
      return new PermanentJobError(`feed URL ${url} failed: ${error.message}`, { cause: error });
    case FetchFailureReason.Timeout:
    case FetchFailureReason.Network:
      return error;
    default: {
      const exhaustive: never = error.reason;
      return new Error(`unknown fetch failure ${String(exhaustive)}`);
    }
  }
}

async function openUrl(url: string, config: XmlImportJobConfig, signal: AbortSignal): Promise<OpenedFeed> {
  const clock = config.clock ?? systemClock;
  const deadline = startDeadline(signal, config.fetchTimeoutMs, clock);
  const idle = startIdleWatch(config.idleTimeoutMs, clock);
  const dispose = (): void => {
    deadline.dispose();
    idle.dispose();
  };
  const mapError = (error: unknown): Error => {
    if (isHttpFetchError(error)) return permanentFetchFailure(error, url);
    if (deadline.timedOut() || idle.timedOut()) {
      const why = idle.timedOut() ? `sent nothing for ${config.idleTimeoutMs} ms` : `was not downloaded within ${config.fetchTimeoutMs} ms`;
      return new HttpFetchError(FetchFailureReason.Timeout, url, `feed URL ${url} ${why}`);
    }
    if (signal.aborted) return toError(signal.reason);
    const cause = toError(error);
    return new HttpFetchError(FetchFailureReason.Network, url, `feed URL ${url} failed: ${cause.message}`, { cause });
  };
  try {
    const response = await guardedRequest(url, {
      guard: new UrlGuard(config.urlGuard),
      maxRedirects: config.maxRedirects,
      signal: AbortSignal.any([deadline.signal, idle.signal]),
      headers: { 'user-agent': config.userAgent, accept: 'application/xml, text/xml;q=0.9, */*;q=0.5' },
    });
    if (response.status < 200 || response.status >= 300) {
      response.body.destroy();
      if (response.status >= 500 || response.status === 408 || response.status === 429) throw new FeedUnavailableError(url, response.status);
      throw new PermanentJobError(`feed URL ${url} answered HTTP ${response.status}`);
    }
    const declared = Number(response.headers['content-length']);
    if (response.headers['content-encoding'] === undefined && Number.isFinite(declared) && declared > config.maxFeedBytes) {
      response.body.destroy();
      throw new PermanentJobError(`feed URL ${url} announces ${declared} bytes, over the limit of ${config.maxFeedBytes}`);
    }
    return {
      description: `url:${url}`,
      chunks: response.body,
      declaredBytes: Number.isFinite(declared) && response.headers['content-encoding'] === undefined ? declared : null,
      touch: idle.touch,
      mapError,
      dispose,
    };
  } catch (error) {
    dispose();
    if (error instanceof PermanentJobError || error instanceof FeedUnavailableError) throw error;
    throw mapError(error);
  }
}

/** Opens the payload's source as a stream of bytes. Unusable sources fail permanently with the reason. */
export async function openFeedSource(source: Source, config: XmlImportJobConfig, signal: AbortSignal): Promise<OpenedFeed> {
  switch (source.kind) {
    case 'file':
      return openFile(source.path, config, signal);
    case 'url':
      return openUrl(source.url, config, signal);
    case 'storage': {
      if (config.blobStore === undefined) {
        throw new PermanentJobError(`source kind "storage" needs a blob store, and none is configured on this worker`);
      }
      // The store's errors say whether they may pass (unreachable) or not (absent, refused, too large).
      const mapStorageError = (error: unknown): Error => {
        if (error instanceof PermanentJobError) return error;
        if (error instanceof BlobNotFoundError || (isKaiJobsError(error) && !error.retryable)) {
          return new PermanentJobError(`storage source ${source.key}: ${(error as Error).message}`, { cause: error });
        }
        return toError(error);
      };
      try {
        const chunks = await config.blobStore.openRead(source.key, signal, { maxBytes: config.maxFeedBytes });
        return { description: `storage:${source.key}`, chunks, declaredBytes: null, touch: noop, mapError: mapStorageError, dispose: noop };
      } catch (error) {
        throw mapStorageError(error);
      }
    }
    case 'inline': {
      const bytes = Buffer.from(source.base64, 'base64');
      async function* once(): AsyncGenerator<Buffer> {
        yield bytes;
      }
      return { description: 'inline', chunks: once(), declaredBytes: bytes.byteLength, touch: noop, mapError: toError, dispose: noop };
    }
    case 'canary':
      throw new PermanentJobError("a 'canary' source is the PDF recovery drill's; an XML import cannot read it");
    default: {
      const exhaustive: never = source;
      throw new PermanentJobError(`unknown source ${JSON.stringify(exhaustive)}`);
    }
  }
}
