/**
 * The S3 blob store against a real S3-compatible server (s3rver) on loopback: streamed reads
 * with a size limit, the artifact-store operations, and each kind of failure with its
 * retryable flag and a message naming bucket and key.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactNotFoundError, BlobAccessDeniedError, BlobNotFoundError, BlobStoreUnavailableError, BlobTooLargeError, S3BlobStore } from '@kai-jobs/workers';
import { startLocalS3, type LocalS3Server } from '../../fixtures/s3-server.js';

let s3: LocalS3Server;
const stores: S3BlobStore[] = [];
const signal = new AbortController().signal;

function store(options: Partial<ConstructorParameters<typeof S3BlobStore>[0]> = {}): S3BlobStore {
  const created = new S3BlobStore({ ...s3.storeOptions, maxAttempts: 1, ...options });
  stores.push(created);
  return created;
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

beforeAll(async () => {
  s3 = await startLocalS3('kai-blob-test');
});

afterAll(async () => {
  for (const created of stores) created.close();
  await s3?.close();
});

describe('S3BlobStore on a local S3-compatible server', () => {
  it('puts, streams, lists and deletes objects under its key prefix', async () => {
    const blobs = store({ keyPrefix: 'deploy-a' });
    const body = Buffer.alloc(3 * 1024 * 1024, 7);
    const ref = await blobs.put('job-1/pdf_loaded/source.pdf', body, { contentType: 'application/pdf' });
    expect(ref).toMatchObject({ key: 'job-1/pdf_loaded/source.pdf', bytes: body.byteLength, contentType: 'application/pdf' });
    await blobs.put('job-1/text_extracted/page-1.json', '{"text":"x"}');
    await blobs.put('job-2/pdf_loaded/source.pdf', 'other');
    const streamed = await collect(await blobs.openRead('job-1/pdf_loaded/source.pdf', signal));
    expect(streamed.equals(body)).toBe(true);
    expect(await blobs.list('job-1')).toEqual(['job-1/pdf_loaded/source.pdf', 'job-1/text_extracted/page-1.json']);
    expect(await blobs.exists('job-1/text_extracted/page-1.json')).toBe(true);
    // Another prefix in the same bucket sees none of it.
    expect(await store({ keyPrefix: 'deploy-b' }).list('job-1')).toEqual([]);
    await blobs.deletePrefix('job-1');
    expect(await blobs.list('job-1')).toEqual([]);
    expect(await blobs.exists('job-1/pdf_loaded/source.pdf')).toBe(false);
    expect((await blobs.get('job-2/pdf_loaded/source.pdf')).toString()).toBe('other');
    await expect(blobs.get('job-1/pdf_loaded/source.pdf')).rejects.toBeInstanceOf(ArtifactNotFoundError);
  });

  it('refuses an object over maxBytes before streaming it', async () => {
    const blobs = store();
    await blobs.put('big.bin', Buffer.alloc(64 * 1024, 1));
    const refused = blobs.openRead('big.bin', signal, { maxBytes: 1024 });
    await expect(refused).rejects.toBeInstanceOf(BlobTooLargeError);
    await expect(refused).rejects.toMatchObject({ retryable: false, message: expect.stringMatching(/"big\.bin" is 65536 bytes, over the limit of 1024/) });
    await expect(blobs.get('big.bin', { maxBytes: 64 * 1024 })).resolves.toHaveLength(64 * 1024);
  });

  it('a missing object is BlobNotFoundError naming bucket and key, not retryable', async () => {
    const missing = store().openRead('feeds/absent.xml', signal);
    await expect(missing).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(missing).rejects.toMatchObject({ retryable: false, message: 'no object "feeds/absent.xml" in bucket "kai-blob-test"' });
  });

  it('wrong credentials are BlobAccessDeniedError naming the variables, not retryable', async () => {
    const denied = store({ accessKeyId: 'WRONG-KEY' }).openRead('feeds/any.xml', signal);
    await expect(denied).rejects.toBeInstanceOf(BlobAccessDeniedError);
    await expect(denied).rejects.toMatchObject({
      retryable: false,
      message: expect.stringMatching(/refused access to "feeds\/any\.xml" in bucket "kai-blob-test" \(InvalidAccessKeyId\): check STORAGE_S3_ACCESS_KEY_ID/),
    });
  });

  it('a bucket that does not exist is a configuration problem naming STORAGE_S3_BUCKET', async () => {
    await expect(store({ bucket: 'no-such-bucket' }).openRead('a.xml', signal)).rejects.toMatchObject({
      name: 'BlobAccessDeniedError',
      retryable: false,
      message: expect.stringMatching(/bucket "no-such-bucket".*STORAGE_S3_BUCKET/),
    });
  });

  it('an unreachable endpoint is BlobStoreUnavailableError, retryable', async () => {
    // A port that was just free: nothing listens on it, so the connection is refused.
    const probe: Server = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise((resolve) => probe.close(resolve));
    const down = store({ endpoint: `http://127.0.0.1:${port}` }).openRead('a.xml', signal);
    await expect(down).rejects.toBeInstanceOf(BlobStoreUnavailableError);
    await expect(down).rejects.toMatchObject({ retryable: true, message: expect.stringMatching(/"a\.xml" in bucket "kai-blob-test": ECONNREFUSED/) });
  });

  it('refuses invalid options with the field named', () => {
    expect(() => new S3BlobStore({ ...s3.storeOptions, endpoint: 'ftp://x', bucket: 'Bad_Bucket' })).toThrow(/endpoint: expected an http\(s\) URL.*bucket: expected an S3 bucket name/);
  });
});
