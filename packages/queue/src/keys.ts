import { jobCatalog, type JobType } from './catalog/index.js';

/**
 * The only place kai-jobs builds the Redis keys of this package. Every key of a queue
 * starts with `<prefix>:{<queue>}:` — the braces are the Redis Cluster hash tag that
 * keeps a queue's BullMQ keys and kai-jobs keys in one slot, so one Lua script can
 * touch them together on a cluster too.
 */

/** `<prefix>:{<queue>}` — the base of every key of one queue, and BullMQ's `prefix`. */
export function queueKeyBase(prefix: string, queueName: string): string {
  return `${prefix}:{${queueName}}`;
}

/** The BullMQ `prefix` option for a queue, so BullMQ's keys carry the same hash tag. */
export function bullPrefix(prefix: string, queueName: string): string {
  return queueKeyBase(prefix, queueName);
}

/** Keys of the job-status store for one job type. */
export interface StatusKeys {
  /** `<prefix>:{<queue>}:` — passed to Lua scripts that build per-job keys. */
  readonly base: string;
  /** Hash: one status row. */
  row(jobId: string): string;
  /** String: idempotency key → job id. */
  idempotency(key: string): string;
  /** List: the job's history, newest last. */
  history(jobId: string): string;
  /** Sorted set: running jobs scored by last heartbeat (store time, ms). */
  readonly heartbeatIndex: string;
  /** Sorted set: unfinished jobs scored by last update or last check (store time, ms). */
  readonly updateIndex: string;
  /** Sorted set: unfinished jobs with per-job thresholds. */
  readonly overrideIndex: string;
  /** Sorted set per status: job ids scored by last update, for listing. */
  stateIndex(status: string): string;
  /**
   * Hash: the linked `background_jobs` row of a scraping session or import (its
   * `refs.backgroundJobId`), written by the same scripts as the session's row. Under the
   * queue's hash tag, so those scripts stay in one slot on Redis Cluster.
   */
  backgroundJob(backgroundJobId: string): string;
  /**
   * Hash: the alert outbox — field `<job id>:<incident>`, value the alert JSON — written by the
   * recovery script with the transition that raises the alert, removed once it is delivered.
   */
  readonly alertOutbox: string;
}

/** Builds the status-store keys of `type` under `prefix`. */
export function statusKeys(prefix: string, type: JobType): StatusKeys {
  const base = `${queueKeyBase(prefix, jobCatalog[type].queueName)}:`;
  return {
    base,
    row: (jobId) => `${base}status:${jobId}`,
    idempotency: (key) => `${base}idem:${key}`,
    history: (jobId) => `${base}history:${jobId}`,
    heartbeatIndex: `${base}status-idx:heartbeat`,
    updateIndex: `${base}status-idx:updated`,
    overrideIndex: `${base}status-idx:overrides`,
    stateIndex: (status) => `${base}status-idx:state:${status}`,
    backgroundJob: (backgroundJobId) => `${base}background-job:${backgroundJobId}`,
    alertOutbox: `${base}alert-outbox`,
  };
}

/** Pub/sub channel on which abort requests for running jobs are published. */
export function abortChannel(prefix: string): string {
  return `${prefix}:abort-requests`;
}

/**
 * Hash of the worker processes' status-write lag: field = worker id, value = JSON
 * `{pendingJobs, oldestPendingMs, at}`. Not per queue: a worker process runs several queues,
 * and the monitor reads all of it in one HGETALL.
 */
export function writeLagKey(prefix: string): string {
  return `${prefix}:workers:write-lag`;
}

/** Keys of the worker registry (fast failover): which worker processes are alive. */
export interface WorkerRegistryKeys {
  /** Hash: worker id → the worker's registry entry (JSON). */
  readonly registry: string;
  /** Hash: worker id → the store time (ms) of the worker's last registry heartbeat. */
  readonly heartbeats: string;
}

/**
 * Builds the worker-registry keys under `prefix`: `<prefix>:workers:registry` and
 * `<prefix>:workers:heartbeats`. Two keys that are never written in one script, so they
 * need no shared hash tag on a cluster.
 */
export function workerRegistryKeys(prefix: string): WorkerRegistryKeys {
  return {
    registry: `${prefix}:workers:registry`,
    heartbeats: `${prefix}:workers:heartbeats`,
  };
}

/** The pattern matching every key under `prefix` (for test cleanup and `doctor`). */
export function allKeysPattern(prefix: string): string {
  return `${prefix}:*`;
}

/**
 * The checkpoint keys of one job type. They share the queue's `{hash-tag}` with the status
 * rows, so a checkpoint save checks the row's fence in the same script.
 */
export interface CheckpointKeys {
  /** Hash: `<stage>` → checkpoint metadata JSON, `<stage>#data` → the data JSON. */
  checkpoints(jobId: string): string;
  /** Hash: `<stage>` → intra-stage resume state JSON. */
  resumeStates(jobId: string): string;
}

/** Checkpoint keys of `type` under `prefix`. */
export function checkpointKeys(prefix: string, type: JobType): CheckpointKeys {
  const base = `${queueKeyBase(prefix, jobCatalog[type].queueName)}:`;
  return {
    checkpoints: (jobId) => `${base}checkpoints:${jobId}`,
    resumeStates: (jobId) => `${base}resume:${jobId}`,
  };
}
