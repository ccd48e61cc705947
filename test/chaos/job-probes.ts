/**
 * Reads a chaos scenario's jobs while it runs: waiting for a history entry, and the times
 * BullMQ was told to bring a job back (its `delayed` events), both in the store's clock.
 */
import type { HistoryEntry, StatusStore } from '@kai-jobs/queue';
import { waitFor } from '@kai-jobs/queue/testing';
import type { EnqueuedRef, Scenario } from './scenario.js';

/** Resolves with the first history entry of `job` whose event is `event` (e.g. `recovery:restarted`). */
export async function waitForHistory(rows: StatusStore, job: EnqueuedRef, event: string, timeoutMs: number): Promise<HistoryEntry> {
  let found: HistoryEntry | undefined;
  await waitFor(
    async () => {
      found = (await rows.history(job.id, 1000)).find((entry) => entry.event === event);
      return found !== undefined;
    },
    { timeoutMs, intervalMs: 100, message: `${job.type} job ${job.id} has no ${event} history entry after ${timeoutMs} ms` },
  );
  return found as HistoryEntry;
}

/**
 * The times (ms, as written into BullMQ's events stream) at which BullMQ was told to bring
 * `job` back from its delayed set — one per `moveToDelayed` or delayed add. BullMQ takes them
 * from the clock of the process that moved the job.
 */
export async function delayedUntil(scenario: Scenario, job: EnqueuedRef): Promise<number[]> {
  const queue = scenario.client.queue(job.type);
  const key = queue.keys.events as string;
  const entries = await scenario.redis.admin.xrange(key, '-', '+');
  const times: number[] = [];
  for (const [, fields] of entries) {
    const record = new Map<string, string>();
    for (let index = 0; index + 1 < fields.length; index += 2) record.set(fields[index] as string, fields[index + 1] as string);
    if (record.get('event') === 'delayed' && record.get('jobId') === job.id) times.push(Number(record.get('delay')));
  }
  return times;
}
