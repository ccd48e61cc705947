import { mkdtempSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArtifactSweepAction, ArtifactSweeper, decideArtifactSweep, defaultArtifactsDir, LocalFolderArtifactStore, prefixFolderName } from '../src/index.js';

const options = { completedRetentionMs: 1000, failedRetentionMs: 5000, orphanGraceMs: 300 };
const entry = { jobId: 'j', modifiedAtMs: 10_000 };

describe('decideArtifactSweep', () => {
  it('keeps the artifacts of pending and running jobs, however old', () => {
    for (const status of ['pending', 'processing', 'scraping'] as const) {
      expect(decideArtifactSweep(entry, { status, completedAt: null, updatedAt: 0 }, 1e12, options)).toBe(ArtifactSweepAction.Keep);
    }
  });

  it('deletes a finished job\'s artifacts once its retention (by outcome) has passed since it finished', () => {
    const completed = { status: 'completed' as const, completedAt: 10_000, updatedAt: 10_000 };
    expect(decideArtifactSweep(entry, completed, 10_999, options)).toBe(ArtifactSweepAction.Keep);
    expect(decideArtifactSweep(entry, completed, 11_000, options)).toBe(ArtifactSweepAction.DeleteExpired);
    const failed = { status: 'failed' as const, completedAt: null, updatedAt: 10_000 };
    expect(decideArtifactSweep(entry, failed, 14_999, options)).toBe(ArtifactSweepAction.Keep);
    expect(decideArtifactSweep(entry, failed, 15_000, options)).toBe(ArtifactSweepAction.DeleteExpired);
  });

  it('deletes orphans (no row) only once untouched for the grace period', () => {
    expect(decideArtifactSweep(entry, null, 10_299, options)).toBe(ArtifactSweepAction.Keep);
    expect(decideArtifactSweep(entry, null, 10_300, options)).toBe(ArtifactSweepAction.DeleteOrphan);
  });
});

describe('ArtifactSweeper over a local folder', () => {
  it('lists job folders with their newest write and deletes what the decision says', async () => {
    const store = new LocalFolderArtifactStore(mkdtempSync(join(tmpdir(), 'kai-sweep-')));
    await store.put('done/stage_a/out.json', '{}');
    await store.put('running/stage_a/out.json', '{}');
    await store.put('orphan/stage_a/out.json', '{}');
    // The orphan was last written an hour ago (its folder and its stage folder).
    const hourAgo = new Date(Date.now() - 3_600_000);
    for (const dir of ['orphan/stage_a', 'orphan']) utimesSync(join(store.folder, dir), hourAgo, hourAgo);
    const listed = Object.fromEntries((await store.listJobs()).map((job) => [job.jobId, job.modifiedAtMs]));
    expect(Object.keys(listed).sort()).toEqual(['done', 'orphan', 'running']);
    expect(listed['orphan']).toBeLessThan(Date.now() - 3_000_000);
    const rows = {
      done: { status: 'completed' as const, completedAt: Date.now() - 10_000, updatedAt: Date.now() - 10_000 },
      running: { status: 'processing' as const, completedAt: null, updatedAt: Date.now() - 1e9 },
    };
    const sweeper = new ArtifactSweeper(
      { store, getRow: async (id) => rows[id as keyof typeof rows] ?? null, now: async () => Date.now() },
      { completedRetentionMs: 5000, orphanGraceMs: 60_000, intervalMs: 0 },
    );
    expect(await sweeper.runOnce()).toEqual({ scanned: 3, expired: 1, orphans: 1, errors: 0 });
    expect((await store.listJobs()).map((job) => job.jobId)).toEqual(['running']);
    expect(await store.list('running')).toEqual(['running/stage_a/out.json']);
  });

  it('gives each key prefix its own default folder', () => {
    expect(prefixFolderName('{kai}:staging')).toBe('_kai__staging');
    expect(prefixFolderName('..')).toBe('__');
    expect(defaultArtifactsDir('kai')).toBe(join(tmpdir(), 'kai-jobs-artifacts', 'kai'));
    expect(defaultArtifactsDir('kai')).not.toBe(defaultArtifactsDir('kai-test'));
  });
});
