import { createHash } from 'node:crypto';
import { z } from 'zod';
import { CheckpointTooLargeError } from '../errors.js';
import type { JobRef } from './types.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** How long finished rows, their history and idempotency keys are kept by default: 7 days. */
export const DEFAULT_FINISHED_RETENTION_MS = 7 * DAY_MS;
/** How long checkpoints are kept after the job's last save by default: 7 days. */
export const DEFAULT_CHECKPOINT_RETENTION_MS = 7 * DAY_MS;
/** History entries kept per job by default. */
export const DEFAULT_MAX_HISTORY_ENTRIES = 200;
/** Default largest checkpoint or resume state: 256 KiB of JSON. */
export const DEFAULT_MAX_CHECKPOINT_BYTES = 256 * 1024;

/**
 * Retention and size limits of a job store: the one place they are set (both adapters and
 * the factory take this object, so the row and its checkpoints cannot be kept for different
 * times by two stores).
 */
export const StoreRetentionSchema = z
  .object({
    /** How long finished rows, their history and idempotency keys are kept (ms). Default 7 days. */
    finishedRetentionMs: z.number().int().positive().default(DEFAULT_FINISHED_RETENTION_MS),
    /** How long checkpoints and resume states are kept after the job's last save or finish (ms). Default 7 days. */
    checkpointRetentionMs: z.number().int().positive().default(DEFAULT_CHECKPOINT_RETENTION_MS),
    /** History entries kept per job (oldest dropped; Redis). Default 200. */
    maxHistoryEntries: z.number().int().min(10).max(10_000).default(DEFAULT_MAX_HISTORY_ENTRIES),
    /** Largest checkpoint data or resume state, as UTF-8 JSON (bytes). Default 256 KiB. */
    maxCheckpointBytes: z.number().int().positive().default(DEFAULT_MAX_CHECKPOINT_BYTES),
  })
  .strict();
/** What callers pass as a store's `retention`. */
export type StoreRetentionInput = z.input<typeof StoreRetentionSchema>;
/** Resolved {@link StoreRetentionSchema}. */
export type StoreRetention = z.output<typeof StoreRetentionSchema>;

/** Hex sha256 of a checkpoint's (or resume state's) stored JSON text. */
export function checkpointSha256(json: string): string {
  return createHash('sha256').update(json, 'utf8').digest('hex');
}

/** A value as the store keeps it: its JSON text, size and hash. */
export interface EncodedJson {
  json: string;
  bytes: number;
  sha256: string;
}

/** Encodes `value` for a checkpoint or resume state of `stage`; refuses data over `maxBytes`. */
export function encodeStoredJson(job: JobRef, stage: string, value: unknown, maxBytes: number): EncodedJson {
  const json = JSON.stringify(value ?? null);
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > maxBytes) throw new CheckpointTooLargeError(job.id, stage, bytes, maxBytes);
  return { json, bytes, sha256: checkpointSha256(json) };
}
