import { z } from 'zod';
import type { JobType } from '../catalog/index.js';
import type { OutboxAlert } from './outbox-types.js';

const OutboxEntrySchema = z.object({
  jobId: z.string(),
  incident: z.number().int().positive(),
  at: z.number(),
  alert: z.record(z.string(), z.unknown()),
});

/**
 * Decodes one alert outbox entry (a JSON string from Redis, or the object a SQL function
 * returned); null for an entry that cannot be read, which is skipped rather than blocking
 * the outbox.
 */
export function decodeOutboxEntry(type: JobType, value: unknown): OutboxAlert | null {
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value) as unknown;
    } catch {
      return null;
    }
  }
  const entry = OutboxEntrySchema.safeParse(parsed);
  if (!entry.success) return null;
  return { type, ...entry.data };
}
