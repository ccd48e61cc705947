import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type * as S3SdkModule from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { ConfigError, KaiJobsError, toError, type ArtifactRef } from '@kai-jobs/queue';
import type { ArtifactBody } from '../../artifacts/artifact-store.js';
import type { ArtifactJobEntry, SweepableArtifactStore } from '../../artifacts/artifact-sweeper.js';
import { ArtifactNotFoundError, InvalidArtifactKeyError } from '../../errors.js';
import { BlobNotFoundError, type BlobReader } from './blob-reader.js';

/**
 * Options of {@link S3BlobStore}: an S3-compatible endpoint (Supabase Storage's is
 * `https://<project>.supabase.co/storage/v1/s3`), its credentials and one bucket.
 */
export const S3BlobStoreOptionsSchema = z
  .object({
    /** Endpoint URL, e.g. `https://<project>.supabase.co/storage/v1/s3`. Required. */
    endpoint: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
    /** Region the endpoint signs for (Supabase: the project's region, e.g. `eu-central-1`). Required. */
    region: z.string().min(1),
    /** Access key id (Supabase: Project Settings → Storage → S3 access keys). Required. */
    accessKeyId: z.string().min(1),
    /** Secret access key. Required; never logged. */
    secretAccessKey: z.string().min(1),
    /** The bucket every key is read from and written to. Required. */
    bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected an S3 bucket name (3–63 lower-case letters, digits, "." or "-")'),
    /** `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key`. Supabase Storage needs it. Default true. */
    forcePathStyle: z.boolean().default(true),
    /** Prepended to every key (`<keyPrefix>/<key>`), so several deployments can share a bucket. Default none. */
    keyPrefix: z
      .string()
      .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, 'expected /-separated segments of letters, digits, ".", "_", "-"')
      .optional(),
    /** Longest a single request may wait for its connection and first byte (ms). Default 30 000. */
    requestTimeoutMs: z.number().int().positive().default(30_000),
    /** Attempts of one request before an error reaches the caller (the SDK's own retries). Default 3. */
    maxAttempts: z.number().int().min(1).default(3),
  })
  .strict();

/** What callers pass to {@link S3BlobStore}. */
export type S3BlobStoreOptions = z.input<typeof S3BlobStoreOptionsSchema>;

/** Stable codes of the blob store's own errors. */
export const BlobStoreErrorCode = {
  AccessDenied: 'BLOB_ACCESS_DENIED',
  Unavailable: 'BLOB_STORE_UNAVAILABLE',
  TooLarge: 'BLOB_TOO_LARGE',
} as const;

/** The store refused the credentials or the access (wrong key, wrong secret, no grant on the bucket). Not retryable. */
export class BlobAccessDeniedError extends KaiJobsError {
  override name = 'BlobAccessDeniedError' as const;
  constructor(
    readonly bucket: string,
    readonly key: string,
    readonly s3Code: string,
    options: { cause?: unknown } = {},
  ) {
    super(
      BlobStoreErrorCode.AccessDenied,
      `the blob store refused access to "${key}" in bucket "${bucket}" (${s3Code}): check STORAGE_S3_ACCESS_KEY_ID, STORAGE_S3_SECRET_ACCESS_KEY and the key's grants on the bucket`,
      { ...options, retryable: false },
    );
  }
}

/** The store could not be reached or answered a server error. Retryable: a later attempt may succeed. */
export class BlobStoreUnavailableError extends KaiJobsError {
  override name = 'BlobStoreUnavailableError' as const;
  constructor(
    readonly bucket: string,
    readonly key: string,
    detail: string,
    options: { cause?: unknown } = {},
  ) {
    super(BlobStoreErrorCode.Unavailable, `the blob store failed on "${key}" in bucket "${bucket}": ${detail}; a later attempt may succeed`, {
      ...options,
      retryable: true,
    });
  }
}

/** An object over the reader's size limit. Not retryable. */
export class BlobTooLargeError extends KaiJobsError {
  override name = 'BlobTooLargeError' as const;
  constructor(
    readonly key: string,
    bytes: number | string,
    readonly maxBytes: number,
  ) {
    super(BlobStoreErrorCode.TooLarge, `storage object "${key}" is ${bytes} bytes, over the limit of ${maxBytes} bytes`, { retryable: false });
  }
}

/**
 * Deletes in flight at once in {@link S3BlobStore.deletePrefix}. One: deletes run in the
 * background sweep, where time matters little, and some S3-compatible servers (s3rver, whose
 * file store prunes emptied folders) fail concurrent deletes under one folder.
 */
const DELETE_CONCURRENCY = 1;
const KEY_PATTERN = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;
const NOT_FOUND_CODES = new Set(['NoSuchKey', 'NotFound', 'NoSuchBucket']);
const DENIED_CODES = new Set(['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'Forbidden', 'InvalidToken', 'ExpiredToken']);

/**
 * A blob store on any S3-compatible service (Supabase Storage, AWS S3, MinIO). It is three
 * things at once: the {@link BlobReader} of `storage` feed sources (streamed), the `get`
 * of `storage` PDF sources (streamed, with a size limit), and an {@link ArtifactStore}
 * (`ARTIFACT_STORE=s3`). The endpoint is operator-configured, so it is not sent through the
 * SSRF guard; payloads only ever choose a key inside the bucket.
 */
export class S3BlobStore implements BlobReader, SweepableArtifactStore {
  /** The SDK and its client, loaded on first use (see {@link loadS3Sdk}). */
  private sdkAndClient: Promise<{ sdk: S3Sdk; client: S3Client }> | undefined;
  private readonly options: z.output<typeof S3BlobStoreOptionsSchema>;

  constructor(options: S3BlobStoreOptions) {
    const parsed = S3BlobStoreOptionsSchema.safeParse(options);
    if (!parsed.success) {
      throw new ConfigError(`invalid S3 blob store options: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
    }
    this.options = parsed.data;
  }

  /** The SDK module and a client for this store's bucket, made on the first request. */
  private connect(): Promise<{ sdk: S3Sdk; client: S3Client }> {
    this.sdkAndClient ??= loadS3Sdk().then((sdk) => ({
      sdk,
      client: new sdk.S3Client({
        endpoint: this.options.endpoint,
        region: this.options.region,
        credentials: { accessKeyId: this.options.accessKeyId, secretAccessKey: this.options.secretAccessKey },
        forcePathStyle: this.options.forcePathStyle,
        maxAttempts: this.options.maxAttempts,
        // S3-compatible services (Supabase Storage among them) do not all accept the SDK's newer
        // default checksum headers and aws-chunked uploads; send and check them only where S3 requires them.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        requestHandler: { connectionTimeout: this.options.requestTimeoutMs, requestTimeout: this.options.requestTimeoutMs },
      }),
    }));
    return this.sdkAndClient;
  }

  /** The bucket, for messages. */
  get bucket(): string {
    return this.options.bucket;
  }

  private objectKey(key: string): string {
    if (!KEY_PATTERN.test(key) || key.split('/').some((part) => part === '..' || part === '.')) throw new InvalidArtifactKeyError(key);
    return this.options.keyPrefix === undefined ? key : `${this.options.keyPrefix}/${key}`;
  }

  /** Maps an SDK error to a kai-jobs error: missing → `missing(key)`, refused → not retryable, the rest retryable. */
  private mapError(error: unknown, key: string, missing: (key: string) => Error): Error {
    if (error instanceof KaiJobsError) return error;
    const err = toError(error);
    if (err.name === 'AbortError') return err;
    const service = serviceExceptionOf(error);
    const status = service?.$metadata.httpStatusCode;
    const code = err.name;
    if (NOT_FOUND_CODES.has(code) || status === 404) {
      if (code === 'NoSuchBucket') return new BlobAccessDeniedError(this.options.bucket, key, 'NoSuchBucket: check STORAGE_S3_BUCKET', { cause: err });
      return missing(key);
    }
    if (DENIED_CODES.has(code) || status === 401 || status === 403) return new BlobAccessDeniedError(this.options.bucket, key, code, { cause: err });
    const nodeCode = (err as NodeJS.ErrnoException).code;
    return new BlobStoreUnavailableError(this.options.bucket, key, status === undefined ? (nodeCode ?? code) : `HTTP ${status} ${code}`, { cause: err });
  }

  /**
   * Streams the object under `key`. Rejects with {@link BlobNotFoundError} (naming bucket and
   * key) when absent, {@link BlobAccessDeniedError} when refused, {@link BlobStoreUnavailableError}
   * when unreachable; an error while streaming is mapped the same way. With `maxBytes`, a
   * larger object is refused from its Content-Length and counted as it streams.
   */
  async openRead(key: string, signal: AbortSignal, options: { maxBytes?: number } = {}): Promise<AsyncIterable<Uint8Array>> {
    const objectKey = this.objectKey(key);
    const missing = (k: string): Error => new BlobNotFoundError(k, this.options.bucket);
    let body: Readable;
    let declared: number | undefined;
    try {
      const { sdk, client } = await this.connect();
      const answer = await client.send(new sdk.GetObjectCommand({ Bucket: this.options.bucket, Key: objectKey }), { abortSignal: signal });
      body = answer.Body as Readable;
      declared = answer.ContentLength;
    } catch (error) {
      throw this.mapError(error, key, missing);
    }
    const { maxBytes } = options;
    if (maxBytes !== undefined && declared !== undefined && declared > maxBytes) {
      body.destroy();
      throw new BlobTooLargeError(key, declared, maxBytes);
    }
    const mapError = (error: unknown): Error => this.mapError(error, key, missing);
    return (async function* stream(): AsyncGenerator<Uint8Array> {
      let received = 0;
      try {
        for await (const chunk of body) {
          const bytes = chunk as Uint8Array;
          received += bytes.byteLength;
          // Counted as it streams: Content-Length may be absent or wrong.
          if (maxBytes !== undefined && received > maxBytes) throw new BlobTooLargeError(key, `more than ${maxBytes}`, maxBytes);
          yield bytes;
        }
      } catch (error) {
        throw mapError(error);
      } finally {
        body.destroy();
      }
    })();
  }

  /** Reads the whole object, at most `maxBytes` (see {@link openRead} for the errors; absent is `ArtifactNotFoundError`). */
  async get(key: string, options: { maxBytes?: number; signal?: AbortSignal } = {}): Promise<Buffer> {
    try {
      const chunks: Uint8Array[] = [];
      const stream = await this.openRead(key, options.signal ?? new AbortController().signal, options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes });
      for await (const chunk of stream) chunks.push(chunk);
      return Buffer.concat(chunks);
    } catch (error) {
      // As an artifact store, absent is ArtifactNotFoundError (what checkpoint readers recognise).
      if (error instanceof BlobNotFoundError) throw new ArtifactNotFoundError(key);
      throw error;
    }
  }

  async put(key: string, body: ArtifactBody, options: { contentType?: string } = {}): Promise<ArtifactRef> {
    const objectKey = this.objectKey(key);
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    try {
      const { sdk, client } = await this.connect();
      await client.send(
        new sdk.PutObjectCommand({ Bucket: this.options.bucket, Key: objectKey, Body: bytes, ContentLength: bytes.byteLength, ...(options.contentType === undefined ? {} : { ContentType: options.contentType }) }),
      );
    } catch (error) {
      throw this.mapError(error, key, (k) => new ArtifactNotFoundError(k));
    }
    const ref: ArtifactRef = { key, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.byteLength };
    if (options.contentType !== undefined) ref.contentType = options.contentType;
    return ref;
  }

  async exists(key: string): Promise<boolean> {
    try {
      const { sdk, client } = await this.connect();
      await client.send(new sdk.HeadObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }));
      return true;
    } catch (error) {
      const mapped = this.mapError(error, key, (k) => new ArtifactNotFoundError(k));
      if (mapped instanceof ArtifactNotFoundError) return false;
      throw mapped;
    }
  }

  /** Keys under `prefix` (recursive), sorted, without the store's `keyPrefix`. */
  async list(prefix: string): Promise<string[]> {
    const listed = await this.listObjects(`${this.objectKey(prefix)}/`, prefix);
    const strip = this.options.keyPrefix === undefined ? 0 : this.options.keyPrefix.length + 1;
    return listed.map((key) => key.slice(strip)).sort();
  }

  /** Every job (first key segment) with artifacts, with its newest object's time, for the sweep. */
  async listJobs(): Promise<ArtifactJobEntry[]> {
    const base = this.options.keyPrefix === undefined ? '' : `${this.options.keyPrefix}/`;
    const newest = new Map<string, number>();
    for (const object of await this.listObjectEntries(base, '(all jobs)')) {
      const jobId = object.key.slice(base.length).split('/')[0];
      if (jobId === undefined || jobId === '') continue;
      newest.set(jobId, Math.max(newest.get(jobId) ?? 0, object.modifiedAtMs));
    }
    return [...newest].map(([jobId, modifiedAtMs]) => ({ jobId, modifiedAtMs }));
  }

  /** Every object key (with the store's `keyPrefix`) that starts with `objectPrefix`. */
  private async listObjects(objectPrefix: string, what: string): Promise<string[]> {
    return (await this.listObjectEntries(objectPrefix, what)).map((entry) => entry.key);
  }

  private async listObjectEntries(objectPrefix: string, what: string): Promise<{ key: string; modifiedAtMs: number }[]> {
    const keys: { key: string; modifiedAtMs: number }[] = [];
    const { sdk, client } = await this.connect();
    let token: string | undefined;
    do {
      try {
        const page = await client.send(
          new sdk.ListObjectsV2Command({ Bucket: this.options.bucket, ...(objectPrefix === '' ? {} : { Prefix: objectPrefix }), ...(token === undefined ? {} : { ContinuationToken: token }) }),
        );
        for (const entry of page.Contents ?? []) if (entry.Key !== undefined) keys.push({ key: entry.Key, modifiedAtMs: entry.LastModified?.getTime() ?? 0 });
        token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
      } catch (error) {
        throw this.mapError(error, what, (k) => new ArtifactNotFoundError(k));
      }
    } while (token !== undefined);
    return keys;
  }

  /**
   * Deletes every key under `prefix`: a listing, then one DeleteObject per key, one at a time.
   * Not DeleteObjects: that call requires a Content-MD5 header, which S3-compatible services
   * handle unevenly (s3rver answers 500), while the single delete works everywhere.
   */
  async deletePrefix(prefix: string): Promise<void> {
    const keys = await this.listObjects(`${this.objectKey(prefix)}/`, prefix);
    const { sdk, client } = await this.connect();
    for (let start = 0; start < keys.length; start += DELETE_CONCURRENCY) {
      await Promise.all(
        keys.slice(start, start + DELETE_CONCURRENCY).map(async (Key) => {
          try {
            await client.send(new sdk.DeleteObjectCommand({ Bucket: this.options.bucket, Key }));
          } catch (error) {
            const mapped = this.mapError(error, Key, (k) => new ArtifactNotFoundError(k));
            // Deleted meanwhile (another sweep): the goal is reached.
            if (!(mapped instanceof ArtifactNotFoundError)) throw mapped;
          }
        }),
      );
    }
  }

  /** Never on local disk. */
  localPath(): null {
    return null;
  }

  /** Closes the client's sockets. */
  close(): void {
    void this.sdkAndClient?.then(({ client }) => client.destroy());
  }
}

/** The S3 SDK's module (`@aws-sdk/client-s3`). */
type S3Sdk = typeof S3SdkModule;

let s3Sdk: Promise<S3Sdk> | undefined;

/**
 * Loads the AWS SDK on first use: it adds about 20 MiB to a worker's resident memory and most
 * workers never read from a bucket, so a process pays for it only once a store makes a request.
 */
function loadS3Sdk(): Promise<S3Sdk> {
  s3Sdk ??= import('@aws-sdk/client-s3');
  return s3Sdk;
}

/** The service exception's metadata when `error` is one the SDK raised for an S3 answer (duck-typed: the SDK is loaded lazily). */
function serviceExceptionOf(error: unknown): { $metadata: { httpStatusCode?: number } } | undefined {
  if (typeof error !== 'object' || error === null || !('$metadata' in error) || !('$fault' in error)) return undefined;
  const metadata = (error as { $metadata: unknown }).$metadata;
  return typeof metadata === 'object' && metadata !== null ? (error as { $metadata: { httpStatusCode?: number } }) : undefined;
}
