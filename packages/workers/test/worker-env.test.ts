import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { artifactSweepOf, createBlobStoreFromConfig, createJobsFromConfig, parseWorkerEnv, storeRetentionOf } from '../src/index.js';

describe('parseWorkerEnv', () => {
  it('has defaults for everything', () => {
    const config = parseWorkerEnv({});
    expect(config).toMatchObject({
      redis: { url: 'redis://127.0.0.1:6379', prefix: 'kai' },
      types: ['pdf', 'scrape', 'xml-import'],
      concurrency: {},
      embeddings: null,
      materialsLlm: null,
      firecrawl: null,
      scrapeAllow: [],
      stores: { kind: 'redis' },
      logLevel: 'info',
    });
  });

  it('parses types, concurrency, timings, providers and the store', () => {
    const config = parseWorkerEnv({
      WORKER_TYPES: 'pdf, xml-import',
      WORKER_CONCURRENCY: 'pdf=3,xml-import=7',
      LOCK_DURATION_MS: '60000',
      EMBEDDINGS_URL: 'http://127.0.0.1:9/v1',
      EMBEDDINGS_API_KEY: 'placeholder',
      EMBEDDINGS_MODEL: 'm',
      SCRAPE_ALLOW: '127.0.0.1, 10.0.0.0/8',
      STATUS_STORE: 'supabase',
      SUPABASE_URL: 'https://example.supabase.co',
      SUPABASE_SERVICE_ROLE_KEY: 'placeholder-key',
    });
    expect(config.types).toEqual(['pdf', 'xml-import']);
    expect(config.concurrency).toEqual({ pdf: 3, 'xml-import': 7 });
    expect(config.lockDurationMs).toBe(60_000);
    expect(config.embeddings).toEqual({ baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'placeholder', model: 'm' });
    expect(config.scrapeAllow).toEqual(['127.0.0.1', '10.0.0.0/8']);
    expect(config.stores).toMatchObject({ kind: 'supabase', url: 'https://example.supabase.co' });
  });

  it('reads the PDF limits and the CPU thread heap, and passes them to the PDF job', () => {
    const config = parseWorkerEnv({
      PDF_MAX_DECODED_BYTES: String(64 * 1024 * 1024),
      PDF_MAX_PAGES: '50',
      PDF_MAX_PAGE_AREA_PT2: '1000000',
      PDF_MAX_IMAGE_PIXELS: '1000000',
      PDF_PAGE_TIMEOUT_MS: '5000',
      PDF_MAX_PAGE_PIXELS: '2000000',
      CPU_THREAD_HEAP_MB: '256',
    });
    expect(config.pdfLimits).toEqual({ maxDecodedBytes: 64 * 1024 * 1024, maxPages: 50, maxPageAreaPt2: 1_000_000, maxImagePixels: 1_000_000, pageTimeoutMs: 5000 });
    expect(config.pdfMaxPagePixels).toBe(2_000_000);
    expect(config.cpuThreadHeapMb).toBe(256);
    expect(parseWorkerEnv({})).toMatchObject({ pdfLimits: {}, pdfMaxPagePixels: undefined, cpuThreadHeapMb: undefined });
  });

  it('refuses PDF limits that are not whole numbers or are out of range, naming the variable', () => {
    expect(() => parseWorkerEnv({ PDF_MAX_PAGES: 'many' })).toThrow(/PDF_MAX_PAGES must be a whole number of pages/);
    let message = '';
    try {
      parseWorkerEnv({ PDF_MAX_PAGES: '0', PDF_MAX_DECODED_BYTES: '10', CPU_THREAD_HEAP_MB: '8' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/PDF_MAX_PAGES: Too small: expected number to be >=1/);
    expect(message).toMatch(/PDF_MAX_DECODED_BYTES: Too small: expected number to be >=1048576/);
    expect(message).toMatch(/CPU_THREAD_HEAP_MB: at least 128/);
  });

  it('refuses bad variables, listing every one, never echoing a secret', () => {
    let message = '';
    try {
      parseWorkerEnv({
        REDIS_URL: 'http://nope',
        WORKER_TYPES: 'pdf,video',
        WORKER_CONCURRENCY: 'pdf=zero',
        EMBEDDINGS_URL: 'http://127.0.0.1:9',
        EMBEDDINGS_API_KEY: 'sk-very-secret',
        STATUS_STORE: 'supabase',
      });
    } catch (error) {
      message = (error as Error).message;
      expect((error as Error).name).toBe('ConfigError');
    }
    expect(message).toMatch(/REDIS_URL/);
    expect(message).toMatch(/unknown job type "video"/);
    expect(message).toMatch(/WORKER_CONCURRENCY: "pdf=zero"/);
    expect(message).toMatch(/missing: EMBEDDINGS_MODEL/);
    expect(message).toMatch(/SUPABASE_URL is not set/);
    expect(message).not.toMatch(/sk-very-secret/);
    expect(() => parseWorkerEnv({ LOCK_DURATION_MS: '30s' })).toThrow(/LOCK_DURATION_MS must be a whole number/);
  });

  it('builds every job on Supabase stores from a STATUS_STORE=supabase environment', () => {
    const config = parseWorkerEnv({ STATUS_STORE: 'supabase', SUPABASE_URL: 'https://example.supabase.co', SUPABASE_SERVICE_ROLE_KEY: 'placeholder-key' });
    // Never connected: the Supabase stores do not use it.
    const unused = new Redis({ lazyConnect: true });
    try {
      expect(createJobsFromConfig(config, unused).map((job) => job.type)).toEqual(['pdf', 'scrape', 'xml-import']);
    } finally {
      unused.disconnect();
    }
  });
});

describe('parseWorkerEnv: Redis', () => {
  it('reads REDIS_CLUSTER_NODES into clusterNodes; unset means a single Redis', () => {
    expect(parseWorkerEnv({}).redis.clusterNodes).toEqual([]);
    const { redis } = parseWorkerEnv({ REDIS_URL: 'redis://10.0.0.5:6379', REDIS_CLUSTER_NODES: '10.0.0.5:6379,10.0.0.6:6379' });
    expect(redis).toMatchObject({ url: 'redis://10.0.0.5:6379', clusterNodes: ['10.0.0.5:6379', '10.0.0.6:6379'] });
  });

  it('refuses a malformed node or a database other than 0 on a cluster, naming the variables', () => {
    expect(() => parseWorkerEnv({ REDIS_CLUSTER_NODES: '10.0.0.5' })).toThrow(/REDIS_CLUSTER_NODES.*"10.0.0.5" is not host:port/);
    expect(() => parseWorkerEnv({ REDIS_URL: 'redis://h:1/3', REDIS_CLUSTER_NODES: 'h:1' })).toThrow(/only database 0/);
  });
});

describe('parseWorkerEnv: the S3 blob store (STORAGE_S3_*)', () => {
  const storage = {
    STORAGE_S3_ENDPOINT: 'https://project.supabase.co/storage/v1/s3',
    STORAGE_S3_REGION: 'eu-central-1',
    STORAGE_S3_ACCESS_KEY_ID: 'placeholder-id',
    STORAGE_S3_SECRET_ACCESS_KEY: 'placeholder-secret-value',
    STORAGE_S3_BUCKET: 'catalogues',
  };

  it('is off without the variables, and read with path style by default when they are set', () => {
    expect(parseWorkerEnv({})).toMatchObject({ storage: null, artifactStore: 'local' });
    expect(parseWorkerEnv({ ...storage, STORAGE_S3_KEY_PREFIX: 'kai', ARTIFACT_STORE: 's3' })).toMatchObject({
      storage: { endpoint: storage.STORAGE_S3_ENDPOINT, region: 'eu-central-1', bucket: 'catalogues', forcePathStyle: true, keyPrefix: 'kai' },
      artifactStore: 's3',
    });
    expect(parseWorkerEnv({ ...storage, STORAGE_S3_FORCE_PATH_STYLE: 'false' }).storage?.forcePathStyle).toBe(false);
  });

  it('refuses half a configuration and bad values naming each variable, never echoing the secret', () => {
    const half = () => parseWorkerEnv({ STORAGE_S3_ENDPOINT: storage.STORAGE_S3_ENDPOINT, STORAGE_S3_SECRET_ACCESS_KEY: storage.STORAGE_S3_SECRET_ACCESS_KEY });
    expect(half).toThrow(/missing: STORAGE_S3_REGION, STORAGE_S3_ACCESS_KEY_ID, STORAGE_S3_BUCKET/);
    const bad = () => parseWorkerEnv({ ...storage, STORAGE_S3_ENDPOINT: 'not a url', STORAGE_S3_BUCKET: 'Bad_Bucket', STORAGE_S3_FORCE_PATH_STYLE: 'yes' });
    expect(bad).toThrow(/STORAGE_S3_FORCE_PATH_STYLE must be true or false/);
    const badValues = () => parseWorkerEnv({ ...storage, STORAGE_S3_ENDPOINT: 'not a url', STORAGE_S3_BUCKET: 'Bad_Bucket' });
    expect(badValues).toThrow(/STORAGE_S3_ENDPOINT: expected an http\(s\) URL[\s\S]*STORAGE_S3_BUCKET: expected an S3 bucket name/);
    expect(() => parseWorkerEnv({ ARTIFACT_STORE: 's3' })).toThrow(/ARTIFACT_STORE=s3 needs the STORAGE_S3_\* variables/);
    try {
      badValues();
    } catch (error) {
      expect((error as Error).message).not.toContain(storage.STORAGE_S3_SECRET_ACCESS_KEY);
    }
  });

  it('gives the pdf and xml-import jobs the blob store', () => {
    const config = parseWorkerEnv({ ...storage, WORKER_TYPES: 'pdf,xml-import' });
    const unused = new Redis({ lazyConnect: true });
    const blobStore = createBlobStoreFromConfig(config);
    try {
      expect(blobStore?.bucket).toBe('catalogues');
      const jobs = createJobsFromConfig(config, unused, blobStore);
      expect(jobs.map((job) => job.type)).toEqual(['pdf', 'xml-import']);
    } finally {
      blobStore?.close();
      unused.disconnect();
    }
  });
});

describe('parseWorkerEnv: retention (KAI_RETENTION_*)', () => {
  it('maps the variables onto the stores\' retention and the artifact sweep; unset keeps the defaults', () => {
    const config = parseWorkerEnv({
      KAI_RETENTION_FINISHED: '3d',
      KAI_RETENTION_CHECKPOINTS: '1d',
      KAI_RETENTION_HISTORY_ENTRIES: '40',
      KAI_RETENTION_ARTIFACTS_COMPLETED: '6h',
      KAI_RETENTION_ARTIFACTS_FAILED: '2d',
      KAI_RETENTION_ARTIFACTS_ORPHAN: '30m',
      KAI_ARTIFACT_SWEEP_INTERVAL: '0',
    });
    expect(storeRetentionOf(config)).toEqual({ finishedRetentionMs: 3 * 86_400_000, checkpointRetentionMs: 86_400_000, maxHistoryEntries: 40 });
    expect(artifactSweepOf(config)).toEqual({ completedRetentionMs: 6 * 3_600_000, failedRetentionMs: 2 * 86_400_000, orphanGraceMs: 1_800_000, intervalMs: 0 });
    expect(artifactSweepOf(parseWorkerEnv({}))).toEqual({});
    expect(() => parseWorkerEnv({ KAI_RETENTION_ARTIFACTS_FAILED: '2 days', KAI_RETENTION_HISTORY_ENTRIES: 'all' })).toThrow(
      /KAI_RETENTION_HISTORY_ENTRIES: expected a whole number[\s\S]*KAI_RETENTION_ARTIFACTS_FAILED: expected a duration/,
    );
  });
});
