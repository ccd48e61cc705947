/**
 * `@kai-jobs/workers` — the staged worker runtime and the job processors.
 */
export { artifactKey, scopeArtifactStore } from './artifacts/artifact-store.js';
export type { ArtifactBody, ArtifactStore, ScopedArtifactStore } from './artifacts/artifact-store.js';
export { LocalFolderArtifactStore } from './artifacts/local-folder-artifact-store.js';
export { CpuPool, CpuTaskError, CpuThreadLimit, CpuThreadLimitError, DEFAULT_THREAD_HEAP_MB } from './cpu/cpu-pool.js';
export type { CpuPoolOptions } from './cpu/cpu-pool.js';
export { defineCpuTask } from './cpu/cpu-task.js';
export { runInOrderWindow } from './cpu/in-order-window.js';
export type { CpuTask } from './cpu/cpu-task.js';
export { ArtifactNotFoundError, InvalidArtifactKeyError, PermanentJobError, WorkerErrorCode } from './errors.js';
export type { StageContext } from './stage-context.js';
export { defineStage, defineStagedJob, JobDefinitionError, stageOutputsOf } from './staged-job.js';
export type { StageDefinition, StagedJobDefinition, StageOutputs } from './staged-job.js';
export { AbortCause, AttemptAbortedError, LostJobError, StageOutputInvalidError } from './errors.js';
export { defaultConcurrency, WorkerRuntimeOptionsSchema } from './runtime/config.js';
export type { ResolvedWorkerRuntimeOptions, WorkerRuntimeOptions } from './runtime/config.js';
export { HeartbeatBatcher } from './runtime/heartbeat-batcher.js';
export { OutageToleranceOptionsSchema } from './runtime/outage-tolerance.js';
export type { OutageToleranceOptions } from './runtime/outage-tolerance.js';
export type { HeartbeatBatcherDeps } from './runtime/heartbeat-batcher.js';
export { ProgressReporter } from './runtime/progress-reporter.js';
export { BOARD_FLUSH_DELAY_MS, JOB_LOG_KEEP_LINES, JobBoardWriter } from './runtime/job-board-writer.js';
export { AttemptOutcome, attemptTags, attemptTransactionEvent, createSentryAttemptTracer, SENTRY_JOB_TYPE_TAGS } from './tracing/attempt-tracing.js';
export type { AttemptRecord, AttemptTracer, SentryAttemptTracerOptions, StageSpanRecord } from './tracing/attempt-tracing.js';
export { AttemptTraceRecorder, recordAttemptTraces } from './tracing/attempt-trace-recorder.js';
export type { BoardProgress, JobBoardWriterDeps } from './runtime/job-board-writer.js';
export type { RuntimeEventMap } from './runtime/runtime-events.js';
export { createWorkerId, workerClientName } from './runtime/worker-identity.js';
export { createWorkerRuntime, WorkerRuntime } from './runtime/worker-runtime.js';
export { installShutdownSignals } from './runtime/shutdown-signals.js';
export type { GracefullyStoppable } from './runtime/shutdown-signals.js';

// PDF processing job (issue 4): see jobs/pdf/README.md.
export { createPdfJob } from './jobs/pdf/pdf-job.js';
export { parsePdfJobOptions, PdfJobOptionsSchema } from './jobs/pdf/config.js';
export type { PdfJobOptions, ResolvedPdfJobOptions } from './jobs/pdf/config.js';
export { PdfJobErrorCode, SourceUnavailableError } from './jobs/pdf/errors.js';
export { loadPdfjs, openPdfDocument, PdfOpenFailure, PdfPurpose, PdfUnreadableError, xrefRepairOf } from './jobs/pdf/pdfjs.js';
export { repairXref, XrefRepairImpossible } from './jobs/pdf/xref-repair.js';
export type { XrefRepair } from './jobs/pdf/xref-repair.js';
export { unicodeFromGlyphName } from './jobs/pdf/glyph-names.js';
export type { Pdfjs } from './jobs/pdf/pdfjs.js';
export { checkPageArea, checkPageCount, PDF_LIMIT_EXCEEDED, PdfLimit, PdfLimitError, PdfLimitsSchema } from './jobs/pdf/pdf-limits.js';
export type { PdfLimits, PdfLimitsInput } from './jobs/pdf/pdf-limits.js';
export { scanDecodedSize, streamFilters } from './jobs/pdf/decoded-size-scan.js';
export type { DecodedSizeScan } from './jobs/pdf/decoded-size-scan.js';
export type { BlobSource } from './jobs/pdf/source-reader.js';
export { pdfKeys } from './jobs/pdf/keys.js';
export type { PdfKeys } from './jobs/pdf/keys.js';
export { installArrayBufferTransferPolyfill, transferToFixedLength } from './jobs/pdf/array-buffer-transfer-polyfill.js';
export { decodePageTexts, encodePageTexts, extractTextFromRuns, pageTextFromRuns, PageTextQualitySchema, PageTextSchema, ReadingOrder } from './jobs/pdf/page-text.js';
export type { GlyphResolver, PageText, PageTextQuality, PageTextResult, TextRun } from './jobs/pdf/page-text.js';
export { forEachPageInOrder } from './jobs/pdf/page-window.js';
export type { PageWindow } from './jobs/pdf/page-window.js';
export { chunkPages, TextChunkSchema } from './jobs/pdf/chunking.js';
export type { ChunkingOptions, TextChunk } from './jobs/pdf/chunking.js';
export { PdfLoadedOutputSchema, PdfMetadataSchema } from './jobs/pdf/stages/pdf-loaded.js';
export type { PdfLoadedOutput, PdfMetadata } from './jobs/pdf/stages/pdf-loaded.js';
export { extractPageTextTask, TextExtractedOutputSchema } from './jobs/pdf/stages/text-extracted.js';
export type { ExtractPageTextInput, ExtractPageTextOutput } from './jobs/pdf/extract-page-text.js';
export type { TextExtractedOutput } from './jobs/pdf/stages/text-extracted.js';
export { renderPageTilesTask, TileManifestEntrySchema, TileManifestSchema, TilesGeneratedOutputSchema } from './jobs/pdf/stages/tiles-generated.js';
export type { RenderedTile, RenderPageTilesInput, RenderPageTilesOutput } from './jobs/pdf/render-page-tiles.js';
export type { TileManifest, TileManifestEntry, TilesGeneratedOutput } from './jobs/pdf/stages/tiles-generated.js';
export { EmbeddingsCreatedOutputSchema } from './jobs/pdf/stages/embeddings-created.js';
export type { EmbeddingsCreatedOutput } from './jobs/pdf/stages/embeddings-created.js';
export { MaterialsExtractedOutputSchema } from './jobs/pdf/stages/materials-extracted.js';
export type { MaterialsExtractedOutput } from './jobs/pdf/stages/materials-extracted.js';
export type { EmbeddingProvider } from './jobs/pdf/embeddings/embedding-provider.js';
export { HashingEmbeddingProvider, HashingEmbeddingProviderOptionsSchema } from './jobs/pdf/embeddings/hashing-embedding-provider.js';
export type { HashingEmbeddingProviderOptions } from './jobs/pdf/embeddings/hashing-embedding-provider.js';
export { OpenAiEmbeddingProvider, OpenAiEmbeddingProviderOptionsSchema } from './jobs/pdf/embeddings/openai-embedding-provider.js';
export type { OpenAiEmbeddingProviderOptions } from './jobs/pdf/embeddings/openai-embedding-provider.js';
export { decodeVectors, encodeVectors } from './jobs/pdf/embeddings/vector-codec.js';
export {
  MaterialCategory,
  MaterialCategorySchema,
  MaterialDimensionsSchema,
  materialKey,
  MaterialSchema,
  mergeMaterials,
} from './jobs/pdf/materials/material.js';
export type { Material, MaterialDimensions } from './jobs/pdf/materials/material.js';
export type { MaterialExtractor } from './jobs/pdf/materials/material-extractor.js';
export { RuleBasedMaterialExtractor, RuleBasedMaterialExtractorOptionsSchema } from './jobs/pdf/materials/rule-based-material-extractor.js';
export type { RuleBasedMaterialExtractorOptions } from './jobs/pdf/materials/rule-based-material-extractor.js';
export { ProductCategory, ProductCategorySchema, MaterialPropertiesSchema, unionFormats } from './jobs/pdf/materials/material.js';
export type { MaterialProperties } from './jobs/pdf/materials/material.js';
export { AnthropicMaterialExtractor, AnthropicMaterialExtractorOptionsSchema, parseMaterialAnswer } from './jobs/pdf/materials/anthropic-material-extractor.js';
export type { AnthropicMaterialExtractorOptions } from './jobs/pdf/materials/anthropic-material-extractor.js';
export { InMemoryMaterialStore } from './jobs/pdf/materials/material-store.js';
export type { MaterialStore } from './jobs/pdf/materials/material-store.js';
export { RedisMaterialStore, RedisMaterialStoreOptionsSchema } from './jobs/pdf/materials/redis-material-store.js';
export type { RedisMaterialStoreOptions } from './jobs/pdf/materials/redis-material-store.js';
export { SupabaseMaterialStore, SupabaseMaterialStoreOptionsSchema } from './jobs/pdf/materials/supabase-material-store.js';
export type { SupabaseMaterialStoreOptions } from './jobs/pdf/materials/supabase-material-store.js';

// Helpers shared by the job processors.
export { ArtifactIntegrityError, JobHelperErrorCode, ProviderRequestError, ProviderResponseError } from './jobs/shared/errors.js';
export { HttpRetryOptionsSchema, retryDelayMs } from './jobs/shared/http-retry.js';
export type { HttpRetryDeps, HttpRetryOptions } from './jobs/shared/http-retry.js';
export { BLOCKED_RANGES, BlockedRangeKind, blockedRangeOf, blockedReasonOf, cidrContains, Ipv4Wrapping, parseCidr, parseIp, wrappedIpv4s } from './jobs/shared/ip-ranges.js';
export type { BlockedReason, Cidr, ParsedIp, WrappedIpv4 } from './jobs/shared/ip-ranges.js';
export { FetchFailureReason, HttpFetchError, isHttpFetchError, UrlRefusedError } from './jobs/shared/errors.js';
export { UrlGuard, UrlGuardOptionsSchema } from './jobs/shared/url-guard.js';
export type { GuardedTarget, ResolvedAddress, ResolveHost, UrlGuardOptionsInput } from './jobs/shared/url-guard.js';
export { closeAgents, createAgents, fetchBuffered, guardedRequest, readBodyLimited, startDeadline } from './jobs/shared/guarded-http.js';
export type { BufferedResponse, Deadline, FetchBufferedOptions, GuardedRequestOptions, GuardedResponse, HttpAgents } from './jobs/shared/guarded-http.js';
export { createScrapeJob, ResultsSavedOutputSchema } from './jobs/scrape/scrape-job.js';
export type { ResultsSavedOutput } from './jobs/scrape/scrape-job.js';
export { parseScrapeJobOptions, ScrapeJobOptionsSchema } from './jobs/scrape/config.js';
export type { ScrapeJobConfig, ScrapeJobOptions, ScrapeProviderDeps, ScrapeProviderFactory } from './jobs/scrape/config.js';
export { CrawlResumeStateSchema, SiteCrawledOutputSchema } from './jobs/scrape/crawl-state.js';
export type { CrawlResumeState, SiteCrawledOutput } from './jobs/scrape/crawl-state.js';
export { isHtmlContentType } from './jobs/scrape/provider.js';
export type { ScrapeFetchRequest, ScrapeFetchResult, ScrapeProvider } from './jobs/scrape/provider.js';
export { createHttpScrapeProvider, DEFAULT_USER_AGENT, HttpScrapeProviderOptionsSchema } from './jobs/scrape/http-scrape-provider.js';
export type { HttpScrapeProviderOptions } from './jobs/scrape/http-scrape-provider.js';
export { createFirecrawlProvider, FirecrawlProviderOptionsSchema } from './jobs/scrape/firecrawl-provider.js';
export type { FirecrawlProviderOptions } from './jobs/scrape/firecrawl-provider.js';
export { ScrapeErrorCode, ScrapeProviderError, StartPageFailedError } from './jobs/scrape/errors.js';
export { PageFailureReason, PageRecordSchema } from './jobs/scrape/page-record.js';
export type { PageFailure, PageRecord } from './jobs/scrape/page-record.js';
export { productsFromJsonLd, ScrapedProductSchema } from './jobs/scrape/json-ld-products.js';
export type { ScrapedProduct } from './jobs/scrape/json-ld-products.js';
export { extractHtml } from './jobs/scrape/html-extract.js';
export type { ExtractedHtml } from './jobs/scrape/html-extract.js';
export { allowAllPolicy, disallowAllPolicy, productToken, robotsPolicyFor } from './jobs/scrape/robots.js';
export type { RobotsPolicy } from './jobs/scrape/robots.js';
export { BlobNotFoundError, LocalFolderBlobReader } from './jobs/shared/blob-reader.js';
export type { BlobReader, BlobReadOptions } from './jobs/shared/blob-reader.js';
export {
  BlobAccessDeniedError,
  BlobStoreErrorCode,
  BlobStoreUnavailableError,
  BlobTooLargeError,
  S3BlobStore,
  S3BlobStoreOptionsSchema,
} from './jobs/shared/s3-blob-store.js';
export type { S3BlobStoreOptions } from './jobs/shared/s3-blob-store.js';
export { defaultArtifactsDir, prefixFolderName } from './artifacts/prefix-folder.js';
export { ArtifactSweeper, ArtifactSweepAction, ArtifactSweepOptionsSchema, decideArtifactSweep, isSweepableArtifactStore } from './artifacts/artifact-sweeper.js';
export type { ArtifactJobEntry, ArtifactSweeperDeps, ArtifactSweepOptions, ArtifactSweepResult, SweepableArtifactStore } from './artifacts/artifact-sweeper.js';
export { openFileSource, readOpenedFile, readOpenedFileChunks } from './jobs/shared/file-source.js';
export type { FileSourceOptions, OpenedFileSource } from './jobs/shared/file-source.js';
export { FileSourceError, FileSourceFailureReason, isFileSourceError } from './jobs/shared/errors.js';
export { describeContentKind, safeMediaType } from './jobs/shared/content-kind.js';
export { createXmlImportJob } from './jobs/xml-import/xml-import-job.js';
export { parseXmlImportJobOptions, XmlImportJobOptionsSchema } from './jobs/xml-import/config.js';
export type { XmlImportJobConfig, XmlImportJobOptions } from './jobs/xml-import/config.js';
export { FeedFetchedOutputSchema } from './jobs/xml-import/feed-fetch.js';
export type { FeedFetchedOutput } from './jobs/xml-import/feed-fetch.js';
export { MAX_KEPT_PRODUCT_FAILURES, ProductsImportedOutputSchema, XmlImportResumeStateSchema } from './jobs/xml-import/import-products.js';
export type { ProductsImportedOutput, XmlImportResumeState } from './jobs/xml-import/import-products.js';
export { MemoryProductStore } from './jobs/xml-import/product-store.js';
export type { ImportedProduct, ProductStore } from './jobs/xml-import/product-store.js';
export { RedisProductStore, RedisProductStoreOptionsSchema } from './jobs/xml-import/redis-product-store.js';
export type { RedisProductStoreOptions } from './jobs/xml-import/redis-product-store.js';
export { SupabaseProductStore, SupabaseProductStoreOptionsSchema } from './jobs/xml-import/supabase-product-store.js';
export type { SupabaseProductStoreOptions } from './jobs/xml-import/supabase-product-store.js';
export { productKeys } from './jobs/xml-import/keys.js';
export type { ProductKeys } from './jobs/xml-import/keys.js';
export { createProductValidator, MAX_FIELD_CHARS, MAX_FIELD_VALUES, pathsOfMapping } from './jobs/xml-import/product-schema.js';
export type { ProductValidation, ProductValidator } from './jobs/xml-import/product-schema.js';
export { FeedRecordReader } from './jobs/xml-import/record-reader.js';
export type { FeedRecordReaderOptions, RecordValues } from './jobs/xml-import/record-reader.js';
export { scanProlog } from './jobs/xml-import/prolog-scan.js';
export type { PrologInfo, PrologScan } from './jobs/xml-import/prolog-scan.js';
export { FeedUnavailableError } from './jobs/xml-import/errors.js';
export { HostLanes } from './jobs/scrape/host-lanes.js';
export type { CrawlEntry, LaneLimits, TakeResult } from './jobs/scrape/host-lanes.js';
export { artifactSweepOf, createArtifactStoreFromConfig, createBlobStoreFromConfig, createJobsFromConfig, parseWorkerEnv, storeRetentionOf, tracerFromConfig, WorkerEnvSchema } from './entry/worker-env.js';
export type { WorkerEnvConfig } from './entry/worker-env.js';
export { DocumentTruthSchema, nameKey, scoreDocument, scoreTotals, TruthProductSchema } from './jobs/pdf/materials/material-scoring.js';
export type { DocumentScore, DocumentTruth, ScoredProperty, TruthProduct } from './jobs/pdf/materials/material-scoring.js';
