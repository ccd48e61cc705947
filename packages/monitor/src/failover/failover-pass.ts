import type { JobHandBack } from './hand-back.js';
import type { MissingWorker } from './liveness.js';

/** How a pass of the watcher went. */
export const FailoverPassStatus = {
  /** Fast failover is turned off. */
  Disabled: 'disabled',
  /** The client list cannot show worker connections (see `checkClientListUsable`): nothing is done. */
  Unusable: 'unusable',
  /** Another watcher holds the lease. */
  Follower: 'follower',
  /** The client list did not show this watcher's own connection this time: nothing was decided. */
  Untrusted: 'untrusted',
  /** This watcher leads and looked. */
  Leader: 'leader',
} as const;
/** One of {@link FailoverPassStatus}. */
export type FailoverPassStatus = (typeof FailoverPassStatus)[keyof typeof FailoverPassStatus];

/** A worker the pass failed over. */
export interface WorkerFailover {
  workerId: string;
  host: string;
  pid: number;
  /** Time since its last sign of life (ms, store clock). */
  goneForMs: number;
  /** Each active job it held, and what became of it. */
  jobs: JobHandBack[];
  /** True when its registry entry was removed (every job dealt with). */
  removed: boolean;
}

/** What one pass found and did (`runOnce()`). */
export interface FailoverPass {
  status: FailoverPassStatus;
  /** Why (unusable, untrusted). */
  detail: string | null;
  /** Fencing epoch of this watcher's leadership term, when it leads. */
  leaderEpoch: number | null;
  /** The store's clock when the client list was read (ms). */
  storeNow: number | null;
  /** Workers in the registry. */
  registered: number;
  /** Workers missing from the client list but not (yet) dead. */
  missing: MissingWorker[];
  /** Workers found dead and failed over. */
  failedOver: WorkerFailover[];
  /** When the next pass is due (ms from now): sooner than the interval when a grace period ends first. */
  nextCheckInMs: number;
}
