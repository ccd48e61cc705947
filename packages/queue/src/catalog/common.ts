import { z } from 'zod';

/**
 * Where a job reads its input from. A discriminated union rather than a bare string,
 * so a producer says what it means and a worker never guesses from a prefix.
 */
export const SourceSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('file'),
    /** Absolute or worker-relative path on the worker's file system. */
    path: z.string().min(1),
  }),
  z.object({
    kind: z.literal('url'),
    /** An http(s) URL the worker downloads. */
    url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
  }),
  z.object({
    kind: z.literal('storage'),
    /** A key in the configured blob store (e.g. a Supabase Storage path). */
    key: z.string().min(1),
  }),
  z.object({
    kind: z.literal('inline'),
    /**
     * The bytes themselves, base64, for small inputs that no worker could otherwise reach.
     * Bounded by the payload size limit (1 MiB of JSON).
     */
    base64: z
      .string()
      .min(4)
      .max(768 * 1024)
      .regex(/^[A-Za-z0-9+/]+={0,2}$/, { message: 'expected base64' }),
  }),
  z.object({
    /**
     * The recovery drill's canary: a one-page PDF the worker writes itself from this line of
     * text (`canaryPdf`), so the drill's job data carries a spec, not a document. Internal:
     * public enqueues refuse it (see `INTERNAL_PAYLOAD_FIELDS`).
     */
    kind: z.literal('canary'),
    text: z.string().min(1).max(200),
  }),
]);
/** Where a job reads its input from. */
export type Source = z.infer<typeof SourceSchema>;

/** A non-empty identifier of a platform row (uuid or any opaque id). */
export const IdSchema = z.string().min(1).max(200);

/** Per-job overrides of the monitor's thresholds; a canary job needs seconds, not minutes. */
export const ThresholdOverridesSchema = z
  .object({
    /** Declare the job crashed when its heartbeat is older than this (ms). */
    heartbeatTimeoutMs: z.number().int().positive().optional(),
    /** Declare the job stuck when it made no progress for this long (ms). */
    updateTimeoutMs: z.number().int().positive().optional(),
  })
  .strict();
/** Per-job overrides of the monitor's thresholds. */
export type ThresholdOverrides = z.infer<typeof ThresholdOverridesSchema>;
