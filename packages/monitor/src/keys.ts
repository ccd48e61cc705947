/**
 * The only place the monitor package builds Redis keys. (Metrics keys are built in
 * `@kai-jobs/queue`, because the workers write metrics too.)
 */

/** Longest reason kept in a dedupe key; longer ones are cut (they are free text at worst). */
const MAX_REASON_LENGTH = 200;

/**
 * `<prefix>:alerts:dedupe:<kind>:<jobId>:<attempt>:<reason>` — held while an alert of
 * that kind for that job, attempt and reason has been sent, so replicas and retries send
 * it once.
 */
export function alertDedupeKey(prefix: string, kind: string, jobId: string, attempt: number, reason: string): string {
  const cut = reason.length > MAX_REASON_LENGTH ? reason.slice(0, MAX_REASON_LENGTH) : reason;
  return `${prefix}:alerts:dedupe:${kind}:${jobId}:${attempt}:${cut}`;
}
