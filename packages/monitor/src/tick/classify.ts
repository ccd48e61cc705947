import type { JobState } from 'bullmq';
import { BullClassification } from './decision-types.js';

/** What BullMQ knows of a job: its state and, when active, whether its lock is held. */
export interface BullView {
  state: JobState | 'unknown' | 'missing';
  /** True when the job's lock key exists (only meaningful while active). */
  lockHeld: boolean;
  /**
   * The lock's value — the token of the attempt holding the job, which that attempt writes as
   * its fence once it has claimed the row. Null when no lock is held or it was not read.
   */
  lockToken?: string | null;
  failedReason: string | null;
}

/**
 * Classifies a stuck-work candidate against BullMQ's view — a pure function. The row says
 * the job is unfinished; BullMQ says where the job really is.
 */
export function classify(view: BullView): BullClassification {
  switch (view.state) {
    case 'active':
      return view.lockHeld ? BullClassification.Hung : BullClassification.LockExpired;
    case 'waiting':
    case 'delayed':
    case 'prioritized':
    case 'waiting-children':
      return BullClassification.Recovering;
    case 'failed':
      return BullClassification.FailedByBullmq;
    case 'completed':
      return BullClassification.CompletedInBullmq;
    case 'missing':
    case 'unknown':
      return BullClassification.Lost;
    default: {
      const exhaustive: never = view.state;
      return exhaustive;
    }
  }
}
