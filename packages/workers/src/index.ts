/**
 * `@kai-jobs/workers` — the staged worker runtime and the job processors.
 */
export { artifactKey, scopeArtifactStore } from './artifacts/artifact-store.js';
export type { ArtifactBody, ArtifactStore, ScopedArtifactStore } from './artifacts/artifact-store.js';
export { LocalFolderArtifactStore } from './artifacts/local-folder-artifact-store.js';
export { CpuPool, CpuTaskError } from './cpu/cpu-pool.js';
export type { CpuPoolOptions } from './cpu/cpu-pool.js';
export { defineCpuTask } from './cpu/cpu-task.js';
export type { CpuTask } from './cpu/cpu-task.js';
export { ArtifactNotFoundError, InvalidArtifactKeyError, PermanentJobError, WorkerErrorCode } from './errors.js';
export type { StageContext } from './stage-context.js';
export { defineStage, defineStagedJob, JobDefinitionError, stageOutputsOf } from './staged-job.js';
export type { StageDefinition, StagedJobDefinition, StageOutputs } from './staged-job.js';
export { AbortCause, AttemptAbortedError, LostJobError, StageOutputInvalidError } from './errors.js';
export { defaultConcurrency, WorkerRuntimeOptionsSchema } from './runtime/config.js';
export type { ResolvedWorkerRuntimeOptions, WorkerRuntimeOptions } from './runtime/config.js';
export { HeartbeatBatcher } from './runtime/heartbeat-batcher.js';
export type { HeartbeatBatcherDeps } from './runtime/heartbeat-batcher.js';
export { ProgressReporter } from './runtime/progress-reporter.js';
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
export { loadPdfjs, openPdfDocument, PdfOpenFailure, PdfPurpose, PdfUnreadableError } from './jobs/pdf/pdfjs.js';
export type { Pdfjs } from './jobs/pdf/pdfjs.js';
export type { BlobSource } from './jobs/pdf/source-reader.js';
export { pdfKeys } from './jobs/pdf/keys.js';
export type { PdfKeys } from './jobs/pdf/keys.js';
export { installArrayBufferTransferPolyfill, transferToFixedLength } from './jobs/pdf/array-buffer-transfer-polyfill.js';
export { decodePageTexts, encodePageTexts, pageTextFromRuns, PageTextSchema } from './jobs/pdf/page-text.js';
export type { PageText, TextRun } from './jobs/pdf/page-text.js';
export { chunkPages, TextChunkSchema } from './jobs/pdf/chunking.js';
export type { ChunkingOptions, TextChunk } from './jobs/pdf/chunking.js';
export { PdfLoadedOutputSchema, PdfMetadataSchema } from './jobs/pdf/stages/pdf-loaded.js';
export type { PdfLoadedOutput, PdfMetadata } from './jobs/pdf/stages/pdf-loaded.js';
export { TextExtractedOutputSchema } from './jobs/pdf/stages/text-extracted.js';
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
export { AnthropicMaterialExtractor, AnthropicMaterialExtractorOptionsSchema } from './jobs/pdf/materials/anthropic-material-extractor.js';
export type { AnthropicMaterialExtractorOptions } from './jobs/pdf/materials/anthropic-material-extractor.js';
export { InMemoryMaterialStore } from './jobs/pdf/materials/material-store.js';
export type { MaterialStore } from './jobs/pdf/materials/material-store.js';
export { RedisMaterialStore, RedisMaterialStoreOptionsSchema } from './jobs/pdf/materials/redis-material-store.js';
export type { RedisMaterialStoreOptions } from './jobs/pdf/materials/redis-material-store.js';

// Helpers shared by the job processors.
export { ArtifactIntegrityError, JobHelperErrorCode, ProviderRequestError, ProviderResponseError } from './jobs/shared/errors.js';
export { HttpRetryOptionsSchema, retryDelayMs } from './jobs/shared/http-retry.js';
export type { HttpRetryDeps, HttpRetryOptions } from './jobs/shared/http-retry.js';
