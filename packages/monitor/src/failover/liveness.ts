import type { WorkerRegistryEntry } from '@kai-jobs/queue';

/** The earliest a first sighting of a vanished worker is confirmed by a second look (ms). */
export const CONFIRM_DELAY_MS = 100;

/** What the watcher remembers of a registered worker between two looks (store times, ms). */
export interface WorkerSighting {
  /** When its client name was last seen in the client list (this leadership term only). */
  lastSeenAt: number | null;
  /** When it was first found missing in the current absence; null while present. */
  missingSince: number | null;
  /** Its registry heartbeat when it was first found missing. */
  heartbeatWhenMissing: number | null;
}

/** A worker found dead: gone for the grace period or longer, and no heartbeat since. */
export interface DeadWorker {
  entry: WorkerRegistryEntry;
  /** Time since its last sign of life (ms, store clock). */
  goneForMs: number;
}

/** A worker found missing but not (yet) dead. */
export interface MissingWorker {
  workerId: string;
  /** Time since its last sign of life (ms, store clock). */
  goneForMs: number;
  /** When to look again to decide (ms from now). */
  recheckInMs: number;
}

/** One look at the registry and the client list. */
export interface LivenessInput {
  /** The store's clock right after the client list was read (ms). */
  storeNow: number;
  /** Client names connected now. */
  liveNames: ReadonlySet<string>;
  entries: ReadonlyMap<string, WorkerRegistryEntry>;
  /** Registry heartbeats (store time, ms). */
  heartbeats: ReadonlyMap<string, number>;
  /** Sightings from the previous look (same leadership term). */
  sightings: ReadonlyMap<string, WorkerSighting>;
  /**
   * Store time from which the watcher has been looking without a break (its leadership term
   * or its connection began then, plus an allowance for workers still reconnecting after a
   * Redis restart): nobody is dated as gone from earlier than this.
   */
  observingSince: number;
  graceMs: number;
}

/** The verdict of one look. */
export interface LivenessVerdict {
  /** Sightings to keep for the next look (workers no longer registered are dropped). */
  sightings: Map<string, WorkerSighting>;
  dead: DeadWorker[];
  missing: MissingWorker[];
}

/**
 * Decides which registered workers are dead, from one look at the client list and the
 * registry heartbeats plus what earlier looks saw. A worker is dead when its client name is
 * missing now and was already missing at an earlier look, its heartbeat has not moved since
 * then, and its last sign of life — the last look that saw its name, or its last heartbeat,
 * whichever is later, and never earlier than `observingSince` — is `graceMs` or more ago.
 * Two looks are needed so one odd client list never fails anybody over; all times are the
 * store's, so no two clocks are compared.
 */
export function assessLiveness(input: LivenessInput): LivenessVerdict {
  const { storeNow, graceMs } = input;
  const sightings = new Map<string, WorkerSighting>();
  const dead: DeadWorker[] = [];
  const missing: MissingWorker[] = [];
  for (const [workerId, entry] of input.entries) {
    const before = input.sightings.get(workerId);
    if (input.liveNames.has(entry.clientName)) {
      sightings.set(workerId, { lastSeenAt: storeNow, missingSince: null, heartbeatWhenMissing: null });
      continue;
    }
    const heartbeat = input.heartbeats.get(workerId) ?? null;
    const lastSeenAt = before?.lastSeenAt ?? null;
    const confirmed = before !== undefined && before.missingSince !== null && before.heartbeatWhenMissing === heartbeat;
    const sighting: WorkerSighting = confirmed
      ? (before as WorkerSighting)
      : { lastSeenAt, missingSince: storeNow, heartbeatWhenMissing: heartbeat };
    sightings.set(workerId, sighting);
    // Knowing nothing else, date the absence from this look (never fail over on a stale record alone).
    const lastSignOfLife = Math.max(lastSeenAt ?? -Infinity, heartbeat ?? -Infinity);
    const since = Math.max(Number.isFinite(lastSignOfLife) ? lastSignOfLife : (sighting.missingSince as number), input.observingSince);
    const goneForMs = Math.max(0, storeNow - since);
    if (confirmed && goneForMs >= graceMs) {
      dead.push({ entry, goneForMs });
    } else {
      const untilGrace = graceMs - goneForMs;
      missing.push({ workerId, goneForMs, recheckInMs: Math.max(confirmed ? 1 : CONFIRM_DELAY_MS, untilGrace) });
    }
  }
  return { sightings, dead, missing };
}
