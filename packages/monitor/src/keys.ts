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

/** Keys of the monitor's own state (its last tick, its recent decisions, stall-event dedupe). */
export interface MonitorStateKeys {
  /** Hash: the last tick's summary (JSON fields), written at the end of every tick. */
  readonly lastTick: string;
  /** List: the latest decisions (JSON), newest first, capped. */
  readonly decisions: string;
  /** String per BullMQ `stalled` event id, so replicas record each stall once. */
  stallSeen(eventId: string): string;
}

/**
 * Builds the monitor-state keys under `prefix`. They share the `{monitor}` hash tag: a tick
 * records its summary and decisions in one MULTI, which Redis Cluster allows only in one slot.
 */
export function monitorStateKeys(prefix: string): MonitorStateKeys {
  const base = `${prefix}:{monitor}`;
  return {
    lastTick: `${base}:last-tick`,
    decisions: `${base}:decisions`,
    stallSeen: (eventId) => `${base}:stall-seen:${eventId}`,
  };
}
