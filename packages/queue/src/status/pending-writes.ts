import type { JobType } from '../catalog/index.js';
import type { HistoryEntryInput, ProgressUpdate } from './types.js';

/** How far behind a process's status writes are. */
export interface WriteLag {
  /** Jobs with at least one status write (or heartbeat) not yet applied to the store. */
  pendingJobs: number;
  /** Age of the oldest write not yet applied (ms); 0 when nothing is pending. */
  oldestPendingMs: number;
}

/** A job's completion or failure waiting to be applied. Never dropped. */
export type PendingFinish =
  | { kind: 'complete'; result: unknown }
  | { kind: 'fail'; error: string; stage: string | null; alert?: Record<string, unknown> };

/**
 * The writes of one attempt (one job and fence) not yet applied, coalesced: the latest value of
 * every progress field, the history entries in order, and the completion or failure. They are
 * applied in that order — progress, history, finish — so a finish lands after the progress
 * written before it.
 */
export interface PendingEntry {
  readonly key: string;
  readonly jobId: string;
  /** The fence the writes carry; null for history appended without one. */
  readonly fence: string | null;
  progress: ProgressUpdate | null;
  history: HistoryEntryInput[];
  finish: PendingFinish | null;
  /** When the entry got its first unapplied write (clock ms). */
  sinceMs: number;
}

/** A heartbeat waiting to be written. */
export interface PendingBeat {
  id: string;
  type: JobType;
  fence: string;
  sinceMs: number;
}

/** Merges two progress updates: the later value of every field wins, counters field by field. */
export function mergeProgress(current: ProgressUpdate | null, next: ProgressUpdate): ProgressUpdate {
  if (current === null) return { ...next, ...(next.counters ? { counters: { ...next.counters } } : {}) };
  const counters = current.counters || next.counters ? { ...current.counters, ...next.counters } : undefined;
  return { ...current, ...next, ...(counters ? { counters } : {}) };
}

function isEmpty(entry: PendingEntry): boolean {
  return entry.progress === null && entry.history.length === 0 && entry.finish === null;
}

/**
 * The buffer of a {@link OutageTolerantJobStore}: pure bookkeeping, no I/O. Bounded to
 * `maxEntries` attempts: when full, the oldest entry without a finish is dropped (its
 * progress and history), never a completion or failure — so the bound can be exceeded only
 * by finishing entries, at most one per job.
 */
export class PendingWrites {
  private readonly entries = new Map<string, PendingEntry>();
  /** Entries per job, oldest first (an index: lookups by job are frequent). */
  private readonly byJob = new Map<string, PendingEntry[]>();
  private readonly beats = new Map<string, PendingBeat>();

  constructor(
    private readonly maxEntries: number,
    private readonly maxHistoryPerEntry: number,
  ) {}

  private entryFor(jobId: string, fence: string | null, now: number): { entry: PendingEntry; evicted: PendingEntry | null } {
    const key = `${jobId}\u0000${fence ?? ''}`;
    const existing = this.entries.get(key);
    if (existing !== undefined) return { entry: existing, evicted: null };
    let evicted: PendingEntry | null = null;
    if (this.entries.size >= this.maxEntries) {
      for (const candidate of this.entries.values()) {
        if (candidate.finish === null) {
          evicted = candidate;
          this.remove(candidate);
          break;
        }
      }
    }
    const entry: PendingEntry = { key, jobId, fence, progress: null, history: [], finish: null, sinceMs: now };
    this.entries.set(key, entry);
    const ofJob = this.byJob.get(jobId);
    if (ofJob === undefined) this.byJob.set(jobId, [entry]);
    else ofJob.push(entry);
    return { entry, evicted };
  }

  /** Queues a progress write (merged into the attempt's pending progress). Returns an entry dropped to stay in bounds. */
  addProgress(jobId: string, fence: string, update: ProgressUpdate, now: number): PendingEntry | null {
    const { entry, evicted } = this.entryFor(jobId, fence, now);
    entry.progress = mergeProgress(entry.progress, update);
    return evicted;
  }

  /**
   * Queues a history entry behind the job's newest pending attempt (or on its own). Beyond
   * `maxHistoryPerEntry` the oldest is dropped: history is a record, not state. Returns what
   * was dropped.
   */
  addHistory(jobId: string, entry: HistoryEntryInput, now: number): PendingEntry | null {
    const newest = this.byJob.get(jobId)?.at(-1);
    const target = newest === undefined ? this.entryFor(jobId, null, now) : { entry: newest, evicted: null };
    target.entry.history.push(entry);
    if (target.entry.history.length > this.maxHistoryPerEntry) target.entry.history.shift();
    return target.evicted;
  }

  /** Queues the attempt's completion or failure; its pending heartbeat is dropped (the finish ends it). */
  addFinish(jobId: string, fence: string, finish: PendingFinish, now: number): PendingEntry | null {
    const { entry, evicted } = this.entryFor(jobId, fence, now);
    entry.finish = finish;
    const beat = this.beats.get(jobId);
    if (beat !== undefined && beat.fence === fence) this.beats.delete(jobId);
    return evicted;
  }

  /** Queues heartbeats (the latest per job). */
  addBeats(beats: readonly { id: string; type: JobType; fence: string }[], now: number): void {
    for (const beat of beats) {
      const existing = this.beats.get(beat.id);
      const sinceMs = existing !== undefined && existing.fence === beat.fence ? existing.sinceMs : now;
      this.beats.set(beat.id, { ...beat, sinceMs });
    }
  }

  /** Pending heartbeats. */
  pendingBeats(): PendingBeat[] {
    return [...this.beats.values()];
  }

  /** Forgets heartbeats once written (only those still carrying the same fence). */
  removeBeats(written: readonly PendingBeat[]): void {
    for (const beat of written) {
      if (this.beats.get(beat.id)?.fence === beat.fence) this.beats.delete(beat.id);
    }
  }

  /** Pending entries, oldest first. */
  all(): PendingEntry[] {
    return [...this.entries.values()];
  }

  /** The job's pending entries, oldest first. */
  entriesOf(jobId: string): PendingEntry[] {
    return [...(this.byJob.get(jobId) ?? [])];
  }

  /** True while the job has a write not yet applied (heartbeats aside). */
  hasJob(jobId: string): boolean {
    return this.byJob.has(jobId);
  }

  /** Removes an entry (applied, or fenced off). */
  remove(entry: PendingEntry): void {
    if (!this.entries.delete(entry.key)) return;
    const rest = (this.byJob.get(entry.jobId) ?? []).filter((other) => other !== entry);
    if (rest.length === 0) this.byJob.delete(entry.jobId);
    else this.byJob.set(entry.jobId, rest);
  }

  /** Removes the entry if nothing is left in it. */
  removeIfEmpty(entry: PendingEntry): void {
    if (isEmpty(entry)) this.remove(entry);
  }

  /** True when nothing at all is pending. */
  get isEmpty(): boolean {
    return this.entries.size === 0 && this.beats.size === 0;
  }

  /** Pending entries (attempts), heartbeats aside. */
  get size(): number {
    return this.entries.size;
  }

  /** How far behind the writes are at `now`, counting `waits` (writes made elsewhere, still waiting for the store) too. */
  lag(now: number, waits: Iterable<{ jobId: string; sinceMs: number }> = []): WriteLag {
    const jobs = new Set<string>();
    let oldest = Number.POSITIVE_INFINITY;
    for (const wait of waits) {
      jobs.add(wait.jobId);
      oldest = Math.min(oldest, wait.sinceMs);
    }
    for (const entry of this.entries.values()) {
      jobs.add(entry.jobId);
      oldest = Math.min(oldest, entry.sinceMs);
    }
    for (const beat of this.beats.values()) {
      jobs.add(beat.id);
      oldest = Math.min(oldest, beat.sinceMs);
    }
    return { pendingJobs: jobs.size, oldestPendingMs: jobs.size === 0 ? 0 : Math.max(0, now - oldest) };
  }

  /** Drops everything (on close, after the last flush). Returns what was dropped. */
  clear(): { entries: number; beats: number } {
    const dropped = { entries: this.entries.size, beats: this.beats.size };
    this.entries.clear();
    this.byJob.clear();
    this.beats.clear();
    return dropped;
  }
}
