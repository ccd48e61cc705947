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
