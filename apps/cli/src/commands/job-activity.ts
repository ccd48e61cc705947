import type { BullJobView, HistoryEntry, StatusRow } from '@kai-jobs/queue';
import { formatTime } from '../output/format.js';
import type { CheckpointReport } from './job-inspection.js';

/** BullMQ states of a job that no worker runs right now but one will take. */
const QUEUED_STATES: ReadonlySet<string> = new Set(['waiting', 'prioritized', 'delayed', 'waiting-children']);
/** History events after which a job is back in the queue with its row still saying it runs. */
const HAND_BACK_EVENTS: ReadonlySet<string> = new Set(['shutdown:handed-back', 'recovery:restarted', 'recovery:readded']);

/** What a job is doing now, from its row and BullMQ's state together. */
export interface JobActivity {
  /** The row's status, or `waiting` when the row says a worker runs it but BullMQ has it queued. */
  status: string;
  /** Why it is waiting although the row says otherwise (`handed back at shutdown by w-1`), else null. */
  note: string | null;
  /** The worker holding it now; null when none does (queued, finished, or handed back). */
  heldBy: string | null;
  /** The worker that ran it last, when it is not held now. */
  lastWorker: string | null;
}

/**
 * Decides what `status` says a job is doing. The row keeps `processing` and the worker's
 * id after a hand-back (a worker shutting down, a monitor restart) until the next worker
 * claims it; BullMQ's state says it is queued. Showing it as processing "held by" a stopped
 * worker would send an operator after the wrong process.
 */
export function jobActivity(row: StatusRow, bullmq: BullJobView, history: readonly HistoryEntry[]): JobActivity {
  const running = row.status === 'processing' || row.status === 'scraping';
  if (running && QUEUED_STATES.has(bullmq.state)) {
    const handBack = [...history].reverse().find((entry) => HAND_BACK_EVENTS.has(entry.event));
    const by = typeof handBack?.['workerId'] === 'string' ? handBack['workerId'] : row.workerId;
    const stage = typeof handBack?.['stage'] === 'string' ? ` in ${handBack['stage']}` : '';
    const how =
      handBack === undefined
        ? 'queued again'
        : handBack.event === 'shutdown:handed-back'
          ? `handed back at shutdown${by === null ? '' : ` by ${by}`}${stage} ${formatTime(handBack.at)}`
          : `handed back by a restart ${formatTime(handBack.at)}`;
    const next = bullmq.state === 'delayed' ? 'runs again after its delay' : 'the next free worker resumes it';
    return { status: 'waiting', note: `${how}; ${next} (the row says ${row.status} until then)`, heldBy: null, lastWorker: by };
  }
  if (running && bullmq.state === 'active') return { status: row.status, note: null, heldBy: row.workerId ?? bullmq.processedBy, lastWorker: null };
  return { status: row.status, note: null, heldBy: null, lastWorker: row.workerId };
}

/** The heading of the checkpoints section: where a restart would resume, when one can. */
export function checkpointsHeading(row: StatusRow, checkpoints: CheckpointReport): string {
  if (row.status === 'completed') return 'checkpoints (the job is completed):';
  if (checkpoints.checkpoints.length === 0) return 'checkpoints (none yet: a restart starts from the first stage):';
  if (checkpoints.resumeFrom === null) return 'checkpoints (every stage is saved: a restart only completes the job):';
  return `checkpoints (a restart resumes at ${checkpoints.resumeFrom}):`;
}
