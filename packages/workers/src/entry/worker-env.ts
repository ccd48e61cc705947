import { z } from 'zod';
import { ConfigError, DEFAULT_KEY_PREFIX, DEFAULT_REDIS_URL, isJobType, JOB_TYPES, parseClusterNodes, parseRedisConnectionOptions, parseRetentionEnv, storeRetentionOptions, type JobType, type Logger, type RedisClient, type RedisConnectionOptions, type RetentionEnvConfig, type StoreRetentionOptions, parseStoreConfigFromEnv, type StoreEnvConfig } from '@kai-jobs/queue';
import { OpenAiEmbeddingProvider } from '../jobs/pdf/embeddings/openai-embedding-provider.js';
import { SupabaseMaterialStore } from '../jobs/pdf/materials/supabase-material-store.js';
import { SupabaseProductStore } from '../jobs/xml-import/supabase-product-store.js';
import { AnthropicMaterialExtractor } from '../jobs/pdf/materials/anthropic-material-extractor.js';
import { RedisMaterialStore } from '../jobs/pdf/materials/redis-material-store.js';
import { createPdfJob } from '../jobs/pdf/pdf-job.js';
import { PdfLimitsSchema, type PdfLimitsInput } from '../jobs/pdf/pdf-limits.js';
import { createFirecrawlProvider } from '../jobs/scrape/firecrawl-provider.js';
import { createScrapeJob } from '../jobs/scrape/scrape-job.js';
import { RedisProductStore } from '../jobs/xml-import/redis-product-store.js';
import { createXmlImportJob } from '../jobs/xml-import/xml-import-job.js';
import type { ArtifactSweepOptions } from '../artifacts/artifact-sweeper.js';
import { prefixFolderName } from '../artifacts/prefix-folder.js';
import { S3BlobStore, S3BlobStoreOptionsSchema, type S3BlobStoreOptions } from '../jobs/shared/s3-blob-store.js';
import type { StagedJobDefinition } from '../staged-job.js';
import { createSentryAttemptTracer, type AttemptTracer } from '../tracing/attempt-tracing.js';

const positiveInt = (name: string) =>
  z
    .string()
    .regex(/^\d+$/, { message: `${name} must be a whole number of milliseconds` })
    .transform(Number)
    .optional();

/** A whole number in `unit`, as a string in the environment. */
const wholeNumber = (name: string, unit: string) =>
  z
    .string()
    .regex(/^\d+$/, { message: `${name} must be a whole number of ${unit}` })
    .transform(Number)
    .optional();

/** The PDF limit variables and the option of `PdfLimitsSchema` each sets. */
const PDF_LIMIT_VARIABLES = {
  PDF_MAX_DECODED_BYTES: 'maxDecodedBytes',
  PDF_MAX_PAGES: 'maxPages',
  PDF_MAX_PAGE_AREA_PT2: 'maxPageAreaPt2',
  PDF_MAX_IMAGE_PIXELS: 'maxImagePixels',
  PDF_PAGE_TIMEOUT_MS: 'pageTimeoutMs',
} as const satisfies Record<string, keyof PdfLimitsInput>;

/**
 * The environment variables the worker entry point reads (see the README's configuration
 * table). Parsed by a pure function so it is testable and so only the entry point touches
 * `process.env`.
 */
export const WorkerEnvSchema = z.object({
  REDIS_URL: z.string().default(DEFAULT_REDIS_URL),
  REDIS_CLUSTER_NODES: z.string().optional(),
  KAI_PREFIX: z.string().default(DEFAULT_KEY_PREFIX),
  WORKER_ID: z.string().min(1).optional(),
  WORKER_TYPES: z.string().default(JOB_TYPES.join(',')),
  WORKER_CONCURRENCY: z.string().optional(),
  HEARTBEAT_INTERVAL_MS: positiveInt('HEARTBEAT_INTERVAL_MS'),
  LOCK_DURATION_MS: positiveInt('LOCK_DURATION_MS'),
  STALLED_INTERVAL_MS: positiveInt('STALLED_INTERVAL_MS'),
  SHUTDOWN_GRACE_MS: positiveInt('SHUTDOWN_GRACE_MS'),
  ARTIFACTS_DIR: z.string().min(1).optional(),
  FILE_ROOT: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  EMBEDDINGS_URL: z.string().optional(),
  EMBEDDINGS_API_KEY: z.string().optional(),
  EMBEDDINGS_MODEL: z.string().optional(),
  MATERIALS_LLM_URL: z.string().optional(),
  MATERIALS_LLM_API_KEY: z.string().optional(),
  MATERIALS_LLM_MODEL: z.string().optional(),
  FIRECRAWL_URL: z.string().optional(),
  FIRECRAWL_API_KEY: z.string().optional(),
  SCRAPE_ALLOW: z.string().optional(),
  // Resource limits on untrusted PDFs (defaults in PdfLimitsSchema, the README's Security section).
  PDF_MAX_DECODED_BYTES: wholeNumber('PDF_MAX_DECODED_BYTES', 'bytes'),
  PDF_MAX_PAGES: wholeNumber('PDF_MAX_PAGES', 'pages'),
  PDF_MAX_PAGE_AREA_PT2: wholeNumber('PDF_MAX_PAGE_AREA_PT2', 'square points'),
  PDF_MAX_IMAGE_PIXELS: wholeNumber('PDF_MAX_IMAGE_PIXELS', 'pixels'),
  PDF_PAGE_TIMEOUT_MS: wholeNumber('PDF_PAGE_TIMEOUT_MS', 'milliseconds'),
  PDF_MAX_PAGE_PIXELS: wholeNumber('PDF_MAX_PAGE_PIXELS', 'pixels'),
  CPU_THREAD_HEAP_MB: wholeNumber('CPU_THREAD_HEAP_MB', 'MiB'),
  // The S3-compatible blob store of `storage` sources (Supabase Storage: <project>.supabase.co/storage/v1/s3).
  STORAGE_S3_ENDPOINT: z.string().optional(),
  STORAGE_S3_REGION: z.string().optional(),
  STORAGE_S3_ACCESS_KEY_ID: z.string().optional(),
  STORAGE_S3_SECRET_ACCESS_KEY: z.string().optional(),
  STORAGE_S3_BUCKET: z.string().optional(),
  STORAGE_S3_FORCE_PATH_STYLE: z.enum(['true', 'false'], { message: 'STORAGE_S3_FORCE_PATH_STYLE must be true or false' }).default('true'),
  STORAGE_S3_KEY_PREFIX: z.string().optional(),
  // Where artifacts go: a local folder (ARTIFACTS_DIR) or the STORAGE_S3_* bucket.
  ARTIFACT_STORE: z.enum(['local', 's3'], { message: 'ARTIFACT_STORE must be local or s3' }).default('local'),
  /** Attempt transactions go to this DSN (a secret); unset: no tracing. */
  SENTRY_DSN: z.string().optional(),
  SENTRY_ENVIRONMENT: z.string().min(1).default('production'),
  SENTRY_RELEASE: z.string().min(1).optional(),
  /** Share of attempts sent as transactions, 0–1. Default 1: jobs are few and long, and the dashboard's rates need them all. */
  SENTRY_TRACES_SAMPLE_RATE: z
    .string()
    .regex(/^(0(\.\d+)?|1(\.0+)?)$/, { message: 'SENTRY_TRACES_SAMPLE_RATE must be a number from 0 to 1' })
    .default('1')
    .transform(Number),
});

/** The blob-store variables and the option of `S3BlobStoreOptionsSchema` each sets (for messages). */
const STORAGE_VARIABLES = {
  endpoint: 'STORAGE_S3_ENDPOINT',
  region: 'STORAGE_S3_REGION',
  accessKeyId: 'STORAGE_S3_ACCESS_KEY_ID',
  secretAccessKey: 'STORAGE_S3_SECRET_ACCESS_KEY',
  bucket: 'STORAGE_S3_BUCKET',
  forcePathStyle: 'STORAGE_S3_FORCE_PATH_STYLE',
  keyPrefix: 'STORAGE_S3_KEY_PREFIX',
} as const satisfies Partial<Record<keyof S3BlobStoreOptions, string>>;

/** The worker's configuration, from the environment. */
export interface WorkerEnvConfig {
  redis: RedisConnectionOptions;
  workerId: string | undefined;
  types: JobType[];
  concurrency: Partial<Record<JobType, number>>;
  heartbeatIntervalMs: number | undefined;
  lockDurationMs: number | undefined;
  stalledIntervalMs: number | undefined;
  shutdownGraceMs: number | undefined;
  artifactsDir: string | undefined;
  fileRoot: string | undefined;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  embeddings: { baseUrl: string; apiKey: string; model: string } | null;
  materialsLlm: { baseUrl: string; apiKey: string; model: string } | null;
  firecrawl: { baseUrl: string; apiKey: string } | null;
  scrapeAllow: string[];
  /** PDF limits set by `PDF_*` variables (the rest take `PdfLimitsSchema`'s defaults). */
  pdfLimits: PdfLimitsInput;
  /** Largest rendered page bitmap (pixels, `PDF_MAX_PAGE_PIXELS`); undefined for the default. */
  pdfMaxPagePixels: number | undefined;
  /** Heap of each CPU-pool thread (MiB, `CPU_THREAD_HEAP_MB`); undefined for the default 512. */
  cpuThreadHeapMb: number | undefined;
  /** Where status rows, checkpoints, products and materials live (STATUS_STORE, SUPABASE_*). */
  stores: StoreEnvConfig;
  /** The S3-compatible blob store of `storage` sources (`STORAGE_S3_*`), or null when not configured. */
  storage: S3BlobStoreOptions | null;
  /** Retention from `KAI_RETENTION_*` and `KAI_ARTIFACT_SWEEP_INTERVAL` (absent fields keep the defaults). */
  retention: RetentionEnvConfig;
  /** `s3`: artifacts in the `storage` bucket (under `artifacts/<prefix>/`); `local`: in `artifactsDir`. */
  artifactStore: 'local' | 's3';
  /** Attempt tracing (`SENTRY_*`); null without `SENTRY_DSN`. */
  tracing: { dsn: string; environment: string; release: string | undefined; sampleRate: number } | null;
}

function list(value: string | undefined): string[] {
  return (value ?? '').split(',').map((part) => part.trim()).filter((part) => part !== '');
}

/** A provider needs all of its variables or none: half a configuration is a mistake. */
function provider(problems: string[], names: string[], values: (string | undefined)[]): string[] | null {
  const given = values.filter((value) => value !== undefined && value !== '');
  if (given.length === 0) return null;
  if (given.length !== values.length) {
    problems.push(`set all of ${names.join(', ')} or none of them (missing: ${names.filter((_, i) => !values[i]).join(', ')})`);
    return null;
  }
  return values as string[];
}

/** Parses the worker's environment; throws one ConfigError listing every problem. */
export function parseWorkerEnv(env: Record<string, string | undefined>): WorkerEnvConfig {
  const result = WorkerEnvSchema.safeParse(env);
  const problems: string[] = result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  if (!result.success) throw new ConfigError(`invalid worker environment:\n  - ${problems.join('\n  - ')}`);
  const raw = result.data;
  let redis: RedisConnectionOptions | undefined;
  try {
    redis = parseRedisConnectionOptions({ url: raw.REDIS_URL, prefix: raw.KAI_PREFIX, clusterNodes: parseClusterNodes(raw.REDIS_CLUSTER_NODES) });
  } catch (error) {
    problems.push(`REDIS_URL / REDIS_CLUSTER_NODES / KAI_PREFIX: ${(error as Error).message}`);
  }
  const types: JobType[] = [];
  for (const name of list(raw.WORKER_TYPES)) {
    if (isJobType(name)) types.push(name);
    else problems.push(`WORKER_TYPES: unknown job type "${name}" (expected ${JOB_TYPES.join(', ')})`);
  }
  if (types.length === 0) problems.push('WORKER_TYPES: no job type to run');
  const concurrency: Partial<Record<JobType, number>> = {};
  for (const entry of list(raw.WORKER_CONCURRENCY)) {
    const [name, count] = entry.includes('=') ? entry.split('=') : [undefined, entry];
    const value = Number(count);
    if (!Number.isInteger(value) || value < 1) {
      problems.push(`WORKER_CONCURRENCY: "${entry}" is not type=count or a positive whole number`);
      continue;
    }
    if (name === undefined) for (const type of JOB_TYPES) concurrency[type] = value;
    else if (isJobType(name.trim())) concurrency[name.trim() as JobType] = value;
    else problems.push(`WORKER_CONCURRENCY: unknown job type "${name}"`);
  }
  const embeddings = provider(problems, ['EMBEDDINGS_URL', 'EMBEDDINGS_API_KEY', 'EMBEDDINGS_MODEL'], [raw.EMBEDDINGS_URL, raw.EMBEDDINGS_API_KEY, raw.EMBEDDINGS_MODEL]);
  const llm = provider(problems, ['MATERIALS_LLM_URL', 'MATERIALS_LLM_API_KEY', 'MATERIALS_LLM_MODEL'], [raw.MATERIALS_LLM_URL, raw.MATERIALS_LLM_API_KEY, raw.MATERIALS_LLM_MODEL]);
  const firecrawl = provider(problems, ['FIRECRAWL_URL', 'FIRECRAWL_API_KEY'], [raw.FIRECRAWL_URL, raw.FIRECRAWL_API_KEY]);
  const pdfLimits: PdfLimitsInput = {};
  for (const [variable, option] of Object.entries(PDF_LIMIT_VARIABLES)) {
    const value = raw[variable as keyof typeof PDF_LIMIT_VARIABLES];
    if (value !== undefined) pdfLimits[option] = value;
  }
  const limitsCheck = PdfLimitsSchema.safeParse(pdfLimits);
  if (!limitsCheck.success) {
    const variableOf = Object.fromEntries(Object.entries(PDF_LIMIT_VARIABLES).map(([variable, option]) => [option, variable]));
    for (const issue of limitsCheck.error.issues) problems.push(`${variableOf[String(issue.path[0])] ?? 'PDF limits'}: ${issue.message}`);
  }
  if (raw.CPU_THREAD_HEAP_MB !== undefined && raw.CPU_THREAD_HEAP_MB < 128) problems.push('CPU_THREAD_HEAP_MB: at least 128 (a thread with pdf.js loaded holds about 120 MiB)');
  if (raw.PDF_MAX_PAGE_PIXELS !== undefined && raw.PDF_MAX_PAGE_PIXELS < 10_000) problems.push('PDF_MAX_PAGE_PIXELS: at least 10000');
  const storageValues = provider(
    problems,
    ['STORAGE_S3_ENDPOINT', 'STORAGE_S3_REGION', 'STORAGE_S3_ACCESS_KEY_ID', 'STORAGE_S3_SECRET_ACCESS_KEY', 'STORAGE_S3_BUCKET'],
    [raw.STORAGE_S3_ENDPOINT, raw.STORAGE_S3_REGION, raw.STORAGE_S3_ACCESS_KEY_ID, raw.STORAGE_S3_SECRET_ACCESS_KEY, raw.STORAGE_S3_BUCKET],
  );
  let storage: S3BlobStoreOptions | null = null;
  if (storageValues !== null) {
    const [endpoint, region, accessKeyId, secretAccessKey, bucket] = storageValues as [string, string, string, string, string];
    const options: S3BlobStoreOptions = { endpoint, region, accessKeyId, secretAccessKey, bucket, forcePathStyle: raw.STORAGE_S3_FORCE_PATH_STYLE === 'true' };
    if (raw.STORAGE_S3_KEY_PREFIX) options.keyPrefix = raw.STORAGE_S3_KEY_PREFIX;
    const check = S3BlobStoreOptionsSchema.safeParse(options);
    if (check.success) storage = options;
    // Name the variable, never echo its value (the secret is one of them).
    else for (const issue of check.error.issues) problems.push(`${STORAGE_VARIABLES[issue.path[0] as keyof typeof STORAGE_VARIABLES] ?? 'STORAGE_S3_*'}: ${issue.message}`);
  }
  if (raw.ARTIFACT_STORE === 's3' && storageValues === null) problems.push('ARTIFACT_STORE=s3 needs the STORAGE_S3_* variables (endpoint, region, access key id, secret, bucket)');
  const { retention, problems: retentionProblems } = parseRetentionEnv(env);
  problems.push(...retentionProblems);
  let stores: StoreEnvConfig = { kind: 'redis' };
  try {
    stores = parseStoreConfigFromEnv(env);
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (problems.length > 0 || redis === undefined) throw new ConfigError(`invalid worker environment:\n  - ${problems.join('\n  - ')}`);
  return {
    redis,
    workerId: raw.WORKER_ID,
    types,
    concurrency,
    heartbeatIntervalMs: raw.HEARTBEAT_INTERVAL_MS,
    lockDurationMs: raw.LOCK_DURATION_MS,
    stalledIntervalMs: raw.STALLED_INTERVAL_MS,
    shutdownGraceMs: raw.SHUTDOWN_GRACE_MS,
    artifactsDir: raw.ARTIFACTS_DIR,
    fileRoot: raw.FILE_ROOT,
    logLevel: raw.LOG_LEVEL,
    embeddings: embeddings === null ? null : { baseUrl: embeddings[0] as string, apiKey: embeddings[1] as string, model: embeddings[2] as string },
    materialsLlm: llm === null ? null : { baseUrl: llm[0] as string, apiKey: llm[1] as string, model: llm[2] as string },
    firecrawl: firecrawl === null ? null : { baseUrl: firecrawl[0] as string, apiKey: firecrawl[1] as string },
    scrapeAllow: list(raw.SCRAPE_ALLOW),
    pdfLimits,
    pdfMaxPagePixels: raw.PDF_MAX_PAGE_PIXELS,
    cpuThreadHeapMb: raw.CPU_THREAD_HEAP_MB,
    stores,
    tracing:
      raw.SENTRY_DSN === undefined || raw.SENTRY_DSN === ''
        ? null
        : { dsn: raw.SENTRY_DSN, environment: raw.SENTRY_ENVIRONMENT, release: raw.SENTRY_RELEASE, sampleRate: raw.SENTRY_TRACES_SAMPLE_RATE },
    storage,
    artifactStore: raw.ARTIFACT_STORE,
    retention,
  };
}

/** The stores' retention options (`createJobStore`'s `retention`, the runtime's `storeRetention`) of `config`. */
export function storeRetentionOf(config: Pick<WorkerEnvConfig, 'retention'>): StoreRetentionOptions {
  return storeRetentionOptions(config.retention);
}

/** The runtime's `artifactSweep` options of `config` (`KAI_RETENTION_ARTIFACTS_*`, `KAI_ARTIFACT_SWEEP_INTERVAL`). */
export function artifactSweepOf(config: Pick<WorkerEnvConfig, 'retention'>): ArtifactSweepOptions {
  const { artifactsCompletedMs, artifactsFailedMs, artifactOrphanGraceMs, artifactSweepIntervalMs } = config.retention;
  return {
    ...(artifactsCompletedMs === undefined ? {} : { completedRetentionMs: artifactsCompletedMs }),
    ...(artifactsFailedMs === undefined ? {} : { failedRetentionMs: artifactsFailedMs }),
    ...(artifactOrphanGraceMs === undefined ? {} : { orphanGraceMs: artifactOrphanGraceMs }),
    ...(artifactSweepIntervalMs === undefined ? {} : { intervalMs: artifactSweepIntervalMs }),
  };
}

/**
 * The attempt tracer `SENTRY_DSN` asks for (a transaction per attempt, `SENTRY_TRACES_SAMPLE_RATE`
 * of them), or undefined without a DSN — then `@sentry/node` is never loaded.
 */
export async function tracerFromConfig(config: WorkerEnvConfig, logger: Logger): Promise<AttemptTracer | undefined> {
  if (config.tracing === null) return undefined;
  const { release, ...rest } = config.tracing;
  return createSentryAttemptTracer({ ...rest, ...(release === undefined ? {} : { release }), logger });
}

/**
 * The S3-compatible blob store of `config.storage` (null when the worker has none), shared by
 * `storage` sources and, with `ARTIFACT_STORE=s3`, by artifacts. Close it at shutdown.
 */
export function createBlobStoreFromConfig(config: WorkerEnvConfig): S3BlobStore | null {
  return config.storage === null ? null : new S3BlobStore(config.storage);
}

/**
 * The artifact store `config.artifactStore` asks for: with `s3`, the bucket of `config.storage`
 * under `<STORAGE_S3_KEY_PREFIX>/artifacts/<prefix>` (a folder per key prefix, as on disk); with
 * `local`, undefined (the runtime opens its folder).
 */
export function createArtifactStoreFromConfig(config: WorkerEnvConfig): S3BlobStore | undefined {
  if (config.artifactStore !== 's3' || config.storage === null) return undefined;
  const base = config.storage.keyPrefix === undefined ? '' : `${config.storage.keyPrefix}/`;
  return new S3BlobStore({ ...config.storage, keyPrefix: `${base}artifacts/${prefixFolderName(config.redis.prefix)}` });
}

/**
 * Builds the staged jobs of `config.types` with their providers and stores: products and
 * materials in Supabase when `config.stores` says so, else in Redis on `connection`; `storage`
 * sources read from `blobStore` (see {@link createBlobStoreFromConfig}), refused without one.
 */
export function createJobsFromConfig(config: WorkerEnvConfig, connection: RedisClient, blobStore: S3BlobStore | null = null): StagedJobDefinition[] {
  const prefix = config.redis.prefix;
  // The stores' options, without the `kind` tag (their option schemas are strict).
  const supabase = config.stores.kind === 'supabase' ? { url: config.stores.url, serviceRoleKey: config.stores.serviceRoleKey, schema: config.stores.schema } : null;
  return config.types.map((type): StagedJobDefinition => {
    switch (type) {
      case 'pdf':
        return createPdfJob({
          materialStore: supabase ? new SupabaseMaterialStore(supabase) : new RedisMaterialStore({ connection, prefix }),
          ...(config.embeddings ? { embeddingProvider: new OpenAiEmbeddingProvider(config.embeddings) } : {}),
          ...(config.materialsLlm ? { materialExtractor: new AnthropicMaterialExtractor(config.materialsLlm) } : {}),
          // Without FILE_ROOT file sources are refused; SCRAPE_ALLOW is the one allow list of every payload URL.
          ...(config.fileRoot ? { fileRoot: config.fileRoot } : {}),
          urlGuard: { allow: config.scrapeAllow },
          ...(blobStore ? { blobStore } : {}),
          limits: config.pdfLimits,
          ...(config.pdfMaxPagePixels === undefined ? {} : { maxPagePixels: config.pdfMaxPagePixels }),
        }) as StagedJobDefinition;
      case 'scrape':
        return createScrapeJob({
          urlGuard: { allow: config.scrapeAllow },
          ...(config.firecrawl ? { provider: (deps) => createFirecrawlProvider({ ...config.firecrawl!, guard: deps.guard }) } : {}),
        }) as StagedJobDefinition;
      case 'xml-import':
        return createXmlImportJob({
          productStore: supabase ? new SupabaseProductStore(supabase) : new RedisProductStore({ connection, prefix }),
          urlGuard: { allow: config.scrapeAllow },
          ...(blobStore ? { blobStore } : {}),
          ...(config.fileRoot ? { fileRoot: config.fileRoot } : {}),
        }) as StagedJobDefinition;
      default: {
        const exhaustive: never = type;
        throw new ConfigError(`unknown job type ${String(exhaustive)}`);
      }
    }
  });
}
