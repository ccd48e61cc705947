import { z } from 'zod';
import type { RedisClient } from './connection.js';
import { abortChannel } from './keys.js';

/** What a worker should do with a job it is asked to abort. */
export const AbortAction = {
  /** Stop and fail the job for good (operator cancel). */
  Cancel: 'cancel',
  /** Stop and let the job be retried from its checkpoint (monitor restart of a hung job). */
  Restart: 'restart',
} as const;
/** One of {@link AbortAction}. */
export type AbortAction = (typeof AbortAction)[keyof typeof AbortAction];

/** A request, published to every worker, to abort one running job. */
export const AbortRequestSchema = z.object({
  jobId: z.string().min(1),
  action: z.enum([AbortAction.Cancel, AbortAction.Restart]),
  reason: z.string(),
  /** Delay before the restarted attempt may run (ms), decided by the backoff policy. */
  delayMs: z.number().int().nonnegative().optional(),
  /**
   * Only the attempt holding this fence (its BullMQ lock token) stops; absent, whatever attempt
   * runs the job. A monitor names the attempt it found hung, so a request that arrives late, or is
   * sent again, never stops a newer attempt of the same job.
   */
  fence: z.string().min(1).optional(),
});
/** A request to abort one running job. */
export type AbortRequest = z.infer<typeof AbortRequestSchema>;

/**
 * Publishes an abort request. Fire and forget on purpose: a worker that misses it still
 * stops at its next write, because the cancel or restart changed the row's fence.
 * Returns how many subscribers received it.
 */
export async function publishAbortRequest(redis: RedisClient, prefix: string, request: AbortRequest): Promise<number> {
  const message = JSON.stringify(AbortRequestSchema.parse(request));
  return Number(await redis.publish(abortChannel(prefix), message));
}

/** Parses a message from the abort channel; undefined for anything malformed. */
export function parseAbortRequest(message: string): AbortRequest | undefined {
  try {
    const result = AbortRequestSchema.safeParse(JSON.parse(message));
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}
