import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArtifactRef } from '@kai-jobs/queue';
import type { ScopedArtifactStore } from '../../../artifacts/artifact-store.js';
import { readVerifiedArtifact } from '../../shared/artifact-io.js';

/**
 * Runs `use` with a local path of the PDF artifact, for the CPU-pool threads that open it:
 * the artifact's own file when the store is on disk, otherwise a temporary copy (verified
 * against `ref.sha256`) removed when `use` settles. The threads check the sha256 again on open.
 */
export async function withLocalPdf<T>(artifacts: ScopedArtifactStore, ref: ArtifactRef, use: (path: string) => Promise<T>): Promise<T> {
  const own = artifacts.localPathOfKey(ref.key);
  if (own !== null) return use(own);
  const folder = await mkdtemp(join(tmpdir(), 'kai-pdf-'));
  try {
    const path = join(folder, 'document.pdf');
    await writeFile(path, await readVerifiedArtifact(artifacts, ref));
    return await use(path);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
