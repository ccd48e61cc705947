import type { z } from 'zod';
import { PdfPayloadSchema, PdfResultSchema, PdfStage } from './pdf.js';
import { ScrapePayloadSchema, ScrapeResultSchema, ScrapeStage } from './scrape.js';
import { XmlImportPayloadSchema, XmlImportResultSchema, XmlImportStage } from './xml-import.js';

/** The three job types kai-jobs runs. */
export const JobType = {
  Pdf: 'pdf',
  Scrape: 'scrape',
  XmlImport: 'xml-import',
} as const;
/** One of {@link JobType}. */
export type JobType = (typeof JobType)[keyof typeof JobType];
/** Every job type, in catalog order. */
export const JOB_TYPES: readonly JobType[] = Object.values(JobType);

/** Status values a row can take. `scraping` is used by scraping sessions only. */
export const JobStatus = {
  Pending: 'pending',
  Processing: 'processing',
  Scraping: 'scraping',
  Completed: 'completed',
  Failed: 'failed',
} as const;
/** One of {@link JobStatus}. */
export type JobStatus = (typeof JobStatus)[keyof typeof JobStatus];
/** Statuses after which a row never changes again. */
export const TERMINAL_STATUSES: readonly JobStatus[] = [JobStatus.Completed, JobStatus.Failed];
/** Statuses of a job that a worker is running. */
export const ACTIVE_STATUSES: readonly JobStatus[] = [JobStatus.Processing, JobStatus.Scraping];

/** The platform's status tables. */
export const StatusTable = {
  BackgroundJobs: 'background_jobs',
  ScrapingSessions: 'scraping_sessions',
  DataImportJobs: 'data_import_jobs',
} as const;
/** One of {@link StatusTable}. */
export type StatusTable = (typeof StatusTable)[keyof typeof StatusTable];

/** What the monitor does with stuck work of a type. */
export const RecoveryPolicy = {
  /** Restart from the last valid checkpoint (up to `maxRestarts`), then fail. */
  RestartFromCheckpoint: 'restart-from-checkpoint',
  /** Mark failed and alert. */
  Fail: 'fail',
} as const;
/** One of {@link RecoveryPolicy}. */
export type RecoveryPolicy = (typeof RecoveryPolicy)[keyof typeof RecoveryPolicy];

/** Counters a status row carries (columns of the platform's tables). */
export const CounterName = {
  TotalPages: 'total_pages',
  CompletedPages: 'completed_pages',
  FailedPages: 'failed_pages',
  TotalProducts: 'total_products',
  ProcessedProducts: 'processed_products',
  FailedProducts: 'failed_products',
} as const;
/** One of {@link CounterName}. */
export type CounterName = (typeof CounterName)[keyof typeof CounterName];
/** Counter values by name. */
export type Counters = Partial<Record<CounterName, number>>;

/** Default thresholds and limits of a job type (the platform's current values). */
export interface JobTypeDefaults {
  /** Crash: no heartbeat for this long (ms); `null` when the type is judged by updates only. */
  readonly heartbeatTimeoutMs: number | null;
  /** Stuck: no progress or stage change for this long (ms). */
  readonly updateTimeoutMs: number;
  /** What the monitor does with stuck work. */
  readonly recovery: RecoveryPolicy;
  /** Monitor restarts allowed before the job is failed for good. */
  readonly maxRestarts: number;
  /** BullMQ attempts for transient errors inside one run (1 = no retry). */
  readonly attempts: number;
}

/** Everything kai-jobs knows about one job type. */
export interface JobDefinition<
  TType extends JobType = JobType,
  TPayload extends z.ZodType = z.ZodType,
  TResult extends z.ZodType = z.ZodType,
  TStage extends string = string,
> {
  readonly type: TType;
  /** BullMQ queue name. */
  readonly queueName: string;
  /** Human name shown on the board. */
  readonly displayName: string;
  /** One sentence shown on the board. */
  readonly description: string;
  /** The platform table its status rows live in. */
  readonly statusTable: StatusTable;
  /** Stage names, in order. */
  readonly stages: readonly TStage[];
  readonly payloadSchema: TPayload;
  readonly resultSchema: TResult;
  /** The counters its status row uses. */
  readonly counters: readonly CounterName[];
  readonly defaults: JobTypeDefaults;
}

const MINUTE_MS = 60_000;

/** The job catalog: the one place that defines the three job types. */
export const jobCatalog = {
  pdf: {
    type: JobType.Pdf,
    queueName: 'pdf-processing',
    displayName: 'PDF processing',
    description: 'Loads a PDF, extracts text, renders tiles, creates embeddings and extracts materials.',
    statusTable: StatusTable.BackgroundJobs,
    stages: Object.values(PdfStage),
    payloadSchema: PdfPayloadSchema,
    resultSchema: PdfResultSchema,
    counters: [CounterName.TotalPages, CounterName.CompletedPages],
    defaults: {
      heartbeatTimeoutMs: 15 * MINUTE_MS,
      updateTimeoutMs: 5 * MINUTE_MS,
      recovery: RecoveryPolicy.RestartFromCheckpoint,
      maxRestarts: 3,
      attempts: 3,
    },
  },
  scrape: {
    type: JobType.Scrape,
    queueName: 'web-scraping',
    displayName: 'Web scraping',
    description: 'Crawls a site within its limits and saves pages and the products they describe.',
    statusTable: StatusTable.ScrapingSessions,
    stages: Object.values(ScrapeStage),
    payloadSchema: ScrapePayloadSchema,
    resultSchema: ScrapeResultSchema,
    counters: [CounterName.TotalPages, CounterName.CompletedPages, CounterName.FailedPages],
    defaults: {
      heartbeatTimeoutMs: null,
      updateTimeoutMs: 30 * MINUTE_MS,
      recovery: RecoveryPolicy.Fail,
      maxRestarts: 3,
      attempts: 2,
    },
  },
  'xml-import': {
    type: JobType.XmlImport,
    queueName: 'xml-import',
    displayName: 'XML product import',
    description: 'Streams a product feed, validates each product and upserts them in batches.',
    statusTable: StatusTable.DataImportJobs,
    stages: Object.values(XmlImportStage),
    payloadSchema: XmlImportPayloadSchema,
    resultSchema: XmlImportResultSchema,
    counters: [CounterName.TotalProducts, CounterName.ProcessedProducts, CounterName.FailedProducts],
    defaults: {
      heartbeatTimeoutMs: null,
      updateTimeoutMs: 20 * MINUTE_MS,
      recovery: RecoveryPolicy.Fail,
      maxRestarts: 3,
      attempts: 2,
    },
  },
} as const satisfies { [T in JobType]: JobDefinition<T> };

/** The catalog's type, for deriving payload and result types. */
export type JobCatalog = typeof jobCatalog;
/** What a producer passes for job type `T` (defaults optional). */
export type PayloadInput<T extends JobType> = z.input<JobCatalog[T]['payloadSchema']>;
/** The validated payload of job type `T`, as a worker sees it. */
export type Payload<T extends JobType> = z.output<JobCatalog[T]['payloadSchema']>;
/** The result of job type `T`. */
export type Result<T extends JobType> = z.output<JobCatalog[T]['resultSchema']>;
/** The stage names of job type `T`. */
export type StageName<T extends JobType> = JobCatalog[T]['stages'][number];

/** True when `value` names a job type of the catalog. */
export function isJobType(value: unknown): value is JobType {
  return typeof value === 'string' && (JOB_TYPES as readonly string[]).includes(value);
}

/** The job type whose BullMQ queue is called `queueName`, or undefined. */
export function jobTypeOfQueue(queueName: string): JobType | undefined {
  return JOB_TYPES.find((type) => jobCatalog[type].queueName === queueName);
}

export * from './common.js';
export * from './pdf.js';
export * from './scrape.js';
export * from './url-pattern.js';
export * from './xml-import.js';
export * from './xml-import-mapping.js';
