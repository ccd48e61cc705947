import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { JobRef, JobStore } from '@kai-jobs/queue';
import { latestValidCheckpoints } from '../validation.js';

/** What a job-store adapter provides to run the checkpoint contract suite. */
export interface CheckpointStoreContractHarness {
  /** A fresh job store; `cleanup` removes its data. */
  setup(): Promise<{ store: JobStore; cleanup(): Promise<void> }>;
  /** Rewrites a stored checkpoint's data text (to simulate corruption) without touching its recorded hash. */
  tamper(store: JobStore, job: JobRef, stage: string, mutate: (dataJson: string) => string): Promise<void>;
}

const StagesSchema = {
  a: z.object({ pages: z.number().int() }),
  b: z.object({ text: z.string() }),
  c: z.object({ tiles: z.array(z.string()) }),
};
const stages = [
  { name: 'a', schema: StagesSchema.a },
  { name: 'b', schema: StagesSchema.b },
  { name: 'c', schema: StagesSchema.c, schemaVersion: 2 },
];

async function errorName(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return (error as Error).name;
  }
}

/** The checkpoint behaviour every {@link JobStore} adapter must have (run by the Redis and Supabase adapters). */
export function runCheckpointStoreContract(adapterName: string, harness: CheckpointStoreContractHarness): void {
  const withStores = (
    name: string,
    body: (stores: { store: JobStore; job: JobRef }) => Promise<void>,
  ): void => {
    it(name, async () => {
      const { store, cleanup } = await harness.setup();
      try {
        const job: JobRef = { id: randomUUID(), type: 'pdf' };
        await store.create({ id: job.id, type: job.type, payload: {} });
        await store.markProcessing(job.id, { fence: 'fence-1', workerId: 'w1' });
        await body({ store, job });
      } finally {
        await cleanup();
      }
    }, 15_000);
  };

  describe(`JobStore checkpoint contract: ${adapterName}`, () => {
    withStores('saves checkpoints with hash, version, attempt and fence, and lists them in stage order', async ({ store, job }) => {
      await store.saveCheckpoint(job, { stage: 'b', stageIndex: 1, data: { text: 'hello' }, fence: 'fence-1', schemaVersion: 1, attempt: 1 });
      const saved = await store.saveCheckpoint(job, { stage: 'a', stageIndex: 0, data: { pages: 3 }, fence: 'fence-1', schemaVersion: 1, attempt: 1 });
      expect(saved.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(saved.createdAt).toBeGreaterThan(0);
      const listed = await store.listCheckpoints(job);
      expect(listed.map((c) => [c.stage, c.stageIndex, c.data, c.attempt, c.fence, c.schemaVersion])).toEqual([
        ['a', 0, { pages: 3 }, 1, 'fence-1', 1],
        ['b', 1, { text: 'hello' }, 1, 'fence-1', 1],
      ]);
      expect(listed[0]?.sha256).toBe(saved.sha256);
      const validation = await latestValidCheckpoints(store, job, stages);
      expect(validation.resumeIndex).toBe(2);
      expect(validation.invalid).toEqual([]);
    });

    withStores('rejects a save or resume state from a superseded attempt', async ({ store, job }) => {
      await store.markProcessing(job.id, { fence: 'fence-2', workerId: 'w2' });
      expect(
        await errorName(store.saveCheckpoint(job, { stage: 'a', stageIndex: 0, data: { pages: 1 }, fence: 'fence-1', schemaVersion: 1, attempt: 1 })),
      ).toBe('StaleFenceError');
      expect(await errorName(store.saveResumeState(job, { stage: 'a', state: { n: 1 }, fence: 'fence-1', attempt: 1 }))).toBe(
        'StaleFenceError',
      );
      expect(await store.listCheckpoints(job)).toEqual([]);
      await store.saveCheckpoint(job, { stage: 'a', stageIndex: 0, data: { pages: 1 }, fence: 'fence-2', schemaVersion: 1, attempt: 2 });
      expect((await store.listCheckpoints(job)).map((c) => c.attempt)).toEqual([2]);
    });

    withStores('refuses saves for a finished or unknown job', async ({ store, job }) => {
      await store.complete(job.id, 'fence-1', {});
      expect(
        await errorName(store.saveCheckpoint(job, { stage: 'a', stageIndex: 0, data: { pages: 1 }, fence: 'fence-1', schemaVersion: 1, attempt: 1 })),
      ).toBe('InvalidTransitionError');
      expect(
        await errorName(
          store.saveCheckpoint({ id: randomUUID(), type: 'pdf' }, { stage: 'a', stageIndex: 0, data: {}, fence: 'f', schemaVersion: 1, attempt: 1 }),
        ),
      ).toBe('JobNotFoundError');
    });

    withStores('writes the status progress in the same step', async ({ store, job }) => {
      await store.saveCheckpoint(job, {
        stage: 'a',
        stageIndex: 0,
        data: { pages: 1 },
        fence: 'fence-1',
        schemaVersion: 1,
        attempt: 1,
        progress: { nextStage: 'b', percent: 20 },
      });
      expect(await store.get(job.id)).toMatchObject({ currentStage: 'b', progress: 20 });
    });

    withStores('saveAndComplete writes the last checkpoint and completes the job in one step', async ({ store, job }) => {
      await store.completeWithCheckpoint(
        job,
        { stage: 'c', stageIndex: 2, data: { tiles: ['t'] }, fence: 'fence-1', schemaVersion: 2, attempt: 1 },
        { pages: 9 },
      );
      expect(await store.get(job.id)).toMatchObject({ status: 'completed', result: { pages: 9 }, progress: 100 });
      expect((await store.listCheckpoints(job)).map((c) => c.stage)).toEqual(['c']);
      expect((await store.history(job.id)).map((entry) => entry.event)).toEqual(['created', 'processing', 'completed']);
      const again = await store
        .completeWithCheckpoint(job, { stage: 'c', stageIndex: 2, data: { tiles: [] }, fence: 'fence-1', schemaVersion: 2, attempt: 1 }, {})
        .catch((e: Error) => e.name);
      expect(again).toBe('InvalidTransitionError');
      expect((await store.listCheckpoints(job))[0]?.data).toEqual({ tiles: ['t'] });
    });

    withStores('completeWithCheckpoint from a superseded attempt changes nothing', async ({ store, job }) => {
      await store.markProcessing(job.id, { fence: 'fence-2', workerId: 'w2' });
      const error = await store
        .completeWithCheckpoint(job, { stage: 'a', stageIndex: 0, data: { pages: 1 }, fence: 'fence-1', schemaVersion: 1, attempt: 1 }, {})
        .catch((e: Error) => e.name);
      expect(error).toBe('StaleFenceError');
      expect((await store.get(job.id))?.status).toBe('processing');
      expect(await store.listCheckpoints(job)).toEqual([]);
    });

    withStores('refuses a checkpoint over the size limit, pointing at the artifact store', async ({ store, job }) => {
      const error = await store
        .saveCheckpoint(job, { stage: 'b', stageIndex: 1, data: { text: 'x'.repeat(300 * 1024) }, fence: 'fence-1', schemaVersion: 1, attempt: 1 })
        .catch((e: Error) => e);
      expect((error as Error).name).toBe('CheckpointTooLargeError');
      expect((error as Error).message).toMatch(/artifacts\.put/);
      expect(await store.listCheckpoints(job)).toEqual([]);
    });

    withStores('detects corruption, schema failures, version changes and gaps, each with its reason', async ({ store, job }) => {
      const save = (stage: string, stageIndex: number, data: unknown, schemaVersion = 1) =>
        store.saveCheckpoint(job, { stage, stageIndex, data, fence: 'fence-1', schemaVersion, attempt: 1 });
      await save('a', 0, { pages: 2 });
      await save('b', 1, { text: 'abc' });
      await save('c', 2, { tiles: ['t1'] }, 1);
      // c was saved with schema version 1; the stage is at version 2.
      let validation = await latestValidCheckpoints(store, job, stages);
      expect(validation.resumeIndex).toBe(2);
      expect(validation.invalid).toEqual([expect.objectContaining({ stage: 'c', reason: 'schema_version_mismatch' })]);

      // Flip one byte of b: hash mismatch; c then lacks a valid earlier stage.
      await harness.tamper(store, job, 'b', (json) => json.replace('abc', 'abd'));
      validation = await latestValidCheckpoints(store, job, stages);
      expect(validation.resumeIndex).toBe(1);
      expect(validation.invalid.map((i) => [i.stage, i.reason])).toEqual([
        ['b', 'sha256_mismatch'],
        ['c', 'missing_earlier_stage'],
      ]);

      // Data that hashes right but fails its schema.
      await save('b', 1, { text: 42 });
      validation = await latestValidCheckpoints(store, job, stages);
      expect(validation.invalid[0]).toMatchObject({ stage: 'b', reason: 'schema_invalid' });
      expect(validation.invalid[0]?.detail).toMatch(/^text:/);
    });

    withStores('keeps a running stage resume state until the stage checkpoint is saved', async ({ store, job }) => {
      expect(await store.loadResumeState(job, 'b')).toBeNull();
      await store.saveResumeState(job, { stage: 'b', state: { batches: 3, cursor: 1500 }, fence: 'fence-1', attempt: 1 });
      expect(await store.loadResumeState(job, 'b')).toMatchObject({
        stage: 'b',
        state: { batches: 3, cursor: 1500 },
        attempt: 1,
        fence: 'fence-1',
      });
      await store.saveCheckpoint(job, { stage: 'b', stageIndex: 1, data: { text: 't' }, fence: 'fence-1', schemaVersion: 1, attempt: 1 });
      expect(await store.loadResumeState(job, 'b')).toBeNull();
    });

    withStores('clear removes everything; expire keeps it for the retention window', async ({ store, job }) => {
      await store.saveCheckpoint(job, { stage: 'a', stageIndex: 0, data: { pages: 1 }, fence: 'fence-1', schemaVersion: 1, attempt: 1 });
      await store.expireCheckpoints(job);
      expect(await store.listCheckpoints(job)).toHaveLength(1);
      await store.clearCheckpoints(job);
      expect(await store.listCheckpoints(job)).toEqual([]);
    });
  });
}
