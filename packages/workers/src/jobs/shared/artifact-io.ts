import { createHash } from 'node:crypto';
import type { ArtifactRef } from '@kai-jobs/queue';
import type { ScopedArtifactStore } from '../../artifacts/artifact-store.js';
import { ArtifactIntegrityError } from './errors.js';

/** Hex sha256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Reads an earlier stage's artifact by its checkpointed ref and checks its sha256, so a stage
 * resumed on another worker works on exactly the bytes the earlier stage produced.
 */
export async function readVerifiedArtifact(artifacts: ScopedArtifactStore, ref: ArtifactRef): Promise<Buffer> {
  const bytes = await artifacts.getByKey(ref.key);
  const actual = sha256Hex(bytes);
  if (actual !== ref.sha256) throw new ArtifactIntegrityError(ref.key, ref.sha256, actual);
  return bytes;
}

/** Encodes records as JSON lines (one JSON value per line, `\n`-terminated). */
export function toJsonLines(records: Iterable<unknown>): string {
  let out = '';
  for (const record of records) out += `${JSON.stringify(record)}\n`;
  return out;
}

/** Decodes JSON lines; blank lines are skipped. */
export function fromJsonLines(text: string): unknown[] {
  const records: unknown[] = [];
  for (const line of text.split('\n')) if (line.trim() !== '') records.push(JSON.parse(line));
  return records;
}
