import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PayloadInput } from '@kai-jobs/queue';
import {
  LocalFolderArtifactStore,
  stageOutputsOf,
  type ArtifactStore,
  type FeedFetchedOutput,
  type ProductsImportedOutput,
  type StagedJobDefinition,
} from '@kai-jobs/workers';
import { createTestStageContext, type StageRecording } from '@kai-jobs/workers/testing';

/** A fresh artifact store in a temporary folder. */
export function tempArtifacts(): LocalFolderArtifactStore {
  return new LocalFolderArtifactStore(mkdtempSync(join(tmpdir(), 'kai-xml-artifacts-')));
}

/** Runs `feed_fetched` alone; returns its validated output and recording. */
export async function runFeedFetched(
  job: StagedJobDefinition<'xml-import'>,
  payload: PayloadInput<'xml-import'>,
  artifacts: ArtifactStore,
  jobId = 'import-job',
): Promise<{ output: FeedFetchedOutput; recording: StageRecording }> {
  const stage = job.stages[0];
  if (stage === undefined) throw new Error('no stage');
  const ctx = createTestStageContext({ type: 'xml-import', stage: 'feed_fetched', payload, artifacts, jobId });
  try {
    const output = stage.output.parse(await stage.run(ctx, stageOutputsOf(new Map()))) as FeedFetchedOutput;
    return { output, recording: ctx.recording };
  } finally {
    await ctx.close();
  }
}

/** Options of {@link runProductsImported}. */
export interface RunImportOptions {
  resumeState?: unknown;
  jobId?: string;
  /** Called with the context before the stage runs (to hook saveResumeState). */
  prepare?: (ctx: ReturnType<typeof createTestStageContext<'xml-import'>>) => void;
}

/** Runs `products_imported` alone after `feed`; returns its output and recording. */
export async function runProductsImported(
  job: StagedJobDefinition<'xml-import'>,
  payload: PayloadInput<'xml-import'>,
  artifacts: ArtifactStore,
  feed: FeedFetchedOutput,
  options: RunImportOptions = {},
): Promise<{ output: ProductsImportedOutput; recording: StageRecording }> {
  const stage = job.stages[1];
  if (stage === undefined) throw new Error('no stage');
  const ctx = createTestStageContext({
    type: 'xml-import',
    stage: 'products_imported',
    payload,
    artifacts,
    jobId: options.jobId ?? 'import-job',
    ...(options.resumeState === undefined ? {} : { resumeState: options.resumeState }),
  });
  options.prepare?.(ctx);
  try {
    const output = stage.output.parse(await stage.run(ctx, stageOutputsOf(new Map([['feed_fetched', feed]])))) as ProductsImportedOutput;
    return { output, recording: ctx.recording };
  } finally {
    await ctx.close();
  }
}
