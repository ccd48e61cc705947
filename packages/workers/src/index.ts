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
