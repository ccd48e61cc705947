import { z } from 'zod';

/** The restart/retry backoff policy: exponential with jitter, a base and a cap. */
export const BackoffPolicySchema = z
  .object({
    /** Delay before the first retry (ms). Default 1000. */
    baseMs: z.number().int().nonnegative().default(1000),
    /** Largest delay (ms). Default 60000. */
    capMs: z.number().int().nonnegative().default(60_000),
    /** Fraction of the delay that is randomised away (0 = none, 1 = full jitter). Default 0.5. */
    jitterRatio: z.number().min(0).max(1).default(0.5),
    /** Restarts allowed before a job is failed for good. Default 3. */
    maxRestarts: z.number().int().nonnegative().default(3),
  })
  .strict()
  .superRefine((policy, ctx) => {
    if (policy.capMs < policy.baseMs) {
      ctx.addIssue({ code: 'custom', path: ['capMs'], message: `must be at least baseMs (${policy.baseMs})` });
    }
  });
/** What callers pass for a backoff policy. */
export type BackoffPolicyInput = z.input<typeof BackoffPolicySchema>;
/** A resolved backoff policy. */
export type BackoffPolicy = z.output<typeof BackoffPolicySchema>;

/**
 * Delay before retry number `retry` (1-based): `min(cap, base·2^(retry−1))`, of which a
 * `jitterRatio` share is randomised ("equal jitter"), so a fleet of failed jobs does not
 * come back at the same instant. `random` is injected for tests (returns [0, 1)).
 */
export function backoffDelayMs(policy: BackoffPolicy, retry: number, random: () => number = Math.random): number {
  if (!Number.isInteger(retry) || retry < 1) throw new RangeError(`retry must be a positive integer, got ${retry}`);
  const exponential = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(retry - 1, 52));
  const jitter = exponential * policy.jitterRatio * random();
  return Math.round(exponential - jitter);
}

/** True while a job with `restartCount` restarts done may be restarted once more. */
export function mayRestart(policy: BackoffPolicy, restartCount: number): boolean {
  return restartCount < policy.maxRestarts;
}
