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

/** Keys of the failover watcher's leader lease. */
export interface FailoverLeaseKeys {
  /** String `<epoch>|<watcherId>` with a TTL: held by the one watcher that acts. */
  readonly lease: string;
  /** Counter: the fencing epoch, incremented each time the lease is taken. */
  readonly epoch: string;
}

/**
 * Builds the lease keys under `prefix`: `<prefix>:monitor:{failover}:lease` and
 * `…:epoch`. The `{failover}` hash tag keeps both in one slot, so one script takes the lease
 * and its epoch together on a Redis Cluster too.
 */
export function failoverLeaseKeys(prefix: string): FailoverLeaseKeys {
  const base = `${prefix}:monitor:{failover}`;
  return { lease: `${base}:lease`, epoch: `${base}:epoch` };
}

/**
 * String: the Sentry Crons check-in id of the tick now running (its `in_progress`), removed when
 * the tick finishes. One left behind belongs to a tick whose monitor died: the next tick closes it.
 */
export function cronOpenCheckInKey(prefix: string): string {
  return `${prefix}:{monitor}:cron-open-check-in`;
}
