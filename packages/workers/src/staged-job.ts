import type { z } from 'zod';
import { jobCatalog, KaiJobsError, type JobType, type Result, type StageName } from '@kai-jobs/queue';
import type { StageContext } from './stage-context.js';
import { WorkerErrorCode } from './errors.js';

/** The outputs of the stages that ran (or were restored from checkpoints) before this one. */
export interface StageOutputs {
  /** The output of `stage`, typed by its schema; throws if that stage has not run. */
  get<O extends z.ZodType>(stage: StageDefinition<JobType, string, O>): z.output<O>;
  /** The raw output by stage name, or undefined. */
  byName(stage: string): unknown;
  /** Stage names with an output, in order. */
  names(): string[];
}

/** One stage: its name, the schema of its output (the checkpoint) and what it does. */
export interface StageDefinition<T extends JobType = JobType, S extends string = StageName<T>, O extends z.ZodType = z.ZodType> {
  readonly name: S;
  /** Schema of the stage's output; the output is validated before it is checkpointed. */
  readonly output: O;
  /** Bump when the output's shape changes: older checkpoints are then invalid and the stage re-runs. Default 1. */
  readonly schemaVersion?: number;
  /** Share of the job's overall progress. Default 1 (all stages equal). */
  readonly weight?: number;
  /** Runs the stage. Throw `PermanentJobError` for input that retrying cannot fix. */
  run(ctx: StageContext<T>, previous: StageOutputs): Promise<z.input<O>>;
}

/** Declares a stage (keeps its output type for `previous.get(stage)`). */
export function defineStage<T extends JobType, S extends StageName<T>, O extends z.ZodType>(
  definition: StageDefinition<T, S, O>,
): StageDefinition<T, S, O> {
  return definition;
}

/** A job type's stages and how its result is made from their outputs. */
export interface StagedJobDefinition<T extends JobType = JobType> {
  readonly type: T;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each stage has its own output type
  readonly stages: readonly StageDefinition<T, StageName<T>, any>[];
  /** Builds the job's result (validated by the catalog's result schema) from every stage's output. */
  result(outputs: StageOutputs, ctx: { jobId: string; payload: StageContext<T>['payload'] }): Result<T> | Promise<Result<T>>;
}

/** Thrown when a staged job definition does not match the catalog. */
export class JobDefinitionError extends KaiJobsError {
  override name = 'JobDefinitionError' as const;
  constructor(message: string) {
    super(WorkerErrorCode.JobDefinitionInvalid, message, { retryable: false });
  }
}

/**
 * Declares the stages of a catalog job type. The stage names must be the catalog's, in
 * the catalog's order: the status rows, alerts and checkpoints all use those names.
 */
export function defineStagedJob<T extends JobType>(definition: StagedJobDefinition<T>): StagedJobDefinition<T> {
  const expected = jobCatalog[definition.type].stages as readonly string[];
  const actual = definition.stages.map((stage) => stage.name as string);
  if (expected.length !== actual.length || expected.some((name, index) => actual[index] !== name)) {
    throw new JobDefinitionError(
      `${definition.type} stages must be [${expected.join(', ')}] in that order; got [${actual.join(', ')}]`,
    );
  }
  for (const stage of definition.stages) {
    if ((stage.weight ?? 1) <= 0) throw new JobDefinitionError(`stage ${stage.name}: weight must be positive`);
    if (!Number.isInteger(stage.schemaVersion ?? 1) || (stage.schemaVersion ?? 1) < 1) {
      throw new JobDefinitionError(`stage ${stage.name}: schemaVersion must be a positive integer`);
    }
  }
  return definition;
}

/** A {@link StageOutputs} over a plain map. */
export function stageOutputsOf(outputs: ReadonlyMap<string, unknown>): StageOutputs {
  return {
    get(stage) {
      if (!outputs.has(stage.name)) throw new Error(`stage ${stage.name} has no output yet`);
      return outputs.get(stage.name) as never;
    },
    byName: (stage) => outputs.get(stage),
    names: () => [...outputs.keys()],
  };
}
