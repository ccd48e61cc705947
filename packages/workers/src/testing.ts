/**
 * `@kai-jobs/workers/testing` — a stage context for unit tests of stages: no Redis, no
 * BullMQ. It records heartbeats, progress, counters, resume states and checkpoints, and
 * can abort, like Temporal's MockActivityEnvironment.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createMemoryLogger,
  validatePayload,
  type CapturedLogLine,
  type Counters,
  type JobType,
  type PayloadInput,
  type StageName,
} from '@kai-jobs/queue';
import { scopeArtifactStore, type ArtifactStore } from './artifacts/artifact-store.js';
import { LocalFolderArtifactStore } from './artifacts/local-folder-artifact-store.js';
import { CpuPool } from './cpu/cpu-pool.js';
import type { StageContext } from './stage-context.js';
import { stageOutputsOf, type StageDefinition, type StagedJobDefinition, type StageOutputs } from './staged-job.js';

/** Everything a {@link TestStageContext} recorded. */
export interface StageRecording {
  progress: { percent: number; detail?: string }[];
  counters: Counters[];
  resumeStates: unknown[];
  scraping: number;
  /** Heartbeats are the runtime's; a stage test sees none unless it calls `heartbeat()`. */
  heartbeats: number;
  logs: CapturedLogLine[];
}

/** A stage context for tests, with its recording and an `abort`. */
export interface TestStageContext<T extends JobType> extends StageContext<T> {
  readonly recording: StageRecording;
  /** Aborts the context's signal with `reason`. */
  abort(reason?: unknown): void;
  /** Records one heartbeat (tests of code that heartbeats manually). */
  heartbeat(): void;
}

/** Options of {@link createTestStageContext}. */
export interface TestStageContextOptions<T extends JobType> {
  type: T;
  stage: StageName<T>;
  /** The producer's payload; validated with the catalog schema like the runtime does. */
  payload: PayloadInput<T>;
  jobId?: string;
  attempt?: number;
  /** The artifact store; default a fresh temporary folder. */
  artifacts?: ArtifactStore;
  /** State an interrupted attempt saved (what the runtime passes on resume). */
  resumeState?: unknown;
  /** A CPU pool to use (shared across tests); default one created lazily and closed by `close()`. */
  cpuPool?: CpuPool;
}

/** Creates a recording stage context; call `close()` on the returned handle when done. */
export function createTestStageContext<T extends JobType>(
  options: TestStageContextOptions<T>,
): TestStageContext<T> & { close(): Promise<void>; artifactStore: ArtifactStore } {
  const controller = new AbortController();
  const logger = createMemoryLogger({ jobId: options.jobId ?? 'test-job', stage: options.stage });
  const recording: StageRecording = { progress: [], counters: [], resumeStates: [], scraping: 0, heartbeats: 0, logs: logger.lines };
  const jobId = options.jobId ?? 'test-job';
  const artifactStore = options.artifacts ?? new LocalFolderArtifactStore(mkdtempSync(join(tmpdir(), 'kai-artifacts-')));
  let pool = options.cpuPool;
  const ownsPool = pool === undefined;
  const context = {
    jobId,
    type: options.type,
    payload: validatePayload(options.type, options.payload),
    stage: options.stage,
    attempt: options.attempt ?? 1,
    signal: controller.signal,
    logger,
    artifacts: scopeArtifactStore(artifactStore, jobId, options.stage),
    artifactStore,
    resumeState: options.resumeState ?? null,
    recording,
    async progress(percent: number, detail?: string) {
      if (!Number.isFinite(percent) || percent < 0 || percent > 100) throw new Error(`progress ${percent} is outside 0–100`);
      recording.progress.push(detail === undefined ? { percent } : { percent, detail });
    },
    async setCounters(counters: Counters) {
      recording.counters.push({ ...counters });
    },
    async markScraping() {
      recording.scraping += 1;
    },
    async saveResumeState(state: unknown) {
      recording.resumeStates.push(structuredClone(state));
    },
    runInWorkerThread(task, input, transfer) {
      pool ??= new CpuPool({ size: 2 });
      return pool.run(task, input, { signal: controller.signal, ...(transfer ? { transfer } : {}) });
    },
    throwIfAborted() {
      controller.signal.throwIfAborted();
    },
    abort(reason?: unknown) {
      controller.abort(reason ?? new Error('aborted by test'));
    },
    heartbeat() {
      recording.heartbeats += 1;
    },
    async close() {
      if (ownsPool) await pool?.close();
    },
  } satisfies TestStageContext<T> & { close(): Promise<void>; artifactStore: ArtifactStore };
  return context;
}

/**
 * Runs every stage of a staged job in order in test contexts (no Redis), passing each
 * stage the outputs before it, and returns the outputs, the result and each stage's recording.
 */
export async function runStagesForTest<T extends JobType>(
  job: StagedJobDefinition<T>,
  options: Omit<TestStageContextOptions<T>, 'stage' | 'resumeState'>,
): Promise<{ outputs: StageOutputs; result: unknown; recordings: Map<string, StageRecording> }> {
  const outputs = new Map<string, unknown>();
  const recordings = new Map<string, StageRecording>();
  const pool = options.cpuPool ?? new CpuPool({ size: 2 });
  const artifacts = options.artifacts ?? new LocalFolderArtifactStore(mkdtempSync(join(tmpdir(), 'kai-artifacts-')));
  try {
    for (const stage of job.stages as readonly StageDefinition<T>[]) {
      const ctx = createTestStageContext({ ...options, stage: stage.name, cpuPool: pool, artifacts });
      const raw = await stage.run(ctx, stageOutputsOf(outputs));
      outputs.set(stage.name, stage.output.parse(raw));
      recordings.set(stage.name, ctx.recording);
    }
    const payload = validatePayload(options.type, options.payload);
    const result = await job.result(stageOutputsOf(outputs), { jobId: options.jobId ?? 'test-job', payload });
    return { outputs: stageOutputsOf(outputs), result, recordings };
  } finally {
    if (options.cpuPool === undefined) await pool.close();
  }
}
