import type { HistoryEntry } from '@kai-jobs/queue';

/** History entries shown on a job's page on the board (the newest). */
export const BOARD_HISTORY_LIMIT = 50;

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function seconds(ms: unknown): string {
  const value = num(ms);
  if (value === null) return '?';
  return value >= 1000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
}

function inStage(entry: HistoryEntry): string {
  const stage = text(entry['stage']);
  return stage === null ? '' : ` in ${stage}`;
}

function byWorker(entry: HistoryEntry): string {
  const worker = text(entry['workerId']);
  return worker === null ? '' : ` by ${worker}`;
}

/**
 * One history entry as one short line: what happened, where and why. Known events read as
 * sentences; any other event shows its name and fields, so nothing the store records is hidden.
 */
export function describeHistoryEntry(entry: HistoryEntry): string {
  const body = ((): string => {
    switch (entry.event) {
      case 'created':
        return 'created';
      case 'processing': {
        const resumed = text(entry['resumedFrom']);
        return `claimed${byWorker(entry)} (attempt ${num(entry['attempt']) ?? '?'})${resumed === null ? '' : `, resuming after ${resumed}`}`;
      }
      case 'resumed': {
        const restored = Array.isArray(entry['restored']) ? (entry['restored'] as unknown[]).join(', ') : '';
        return `resumed from ${text(entry['from']) ?? 'the result'}${byWorker(entry)}${restored === '' ? '' : ` (restored ${restored})`}`;
      }
      case 'failover':
        return `failed over: worker ${text(entry['workerId']) ?? '?'} vanished (gone ${seconds(entry['goneForMs'])})${inStage(entry)}; restart ${num(entry['restartNumber']) ?? '?'}`;
      case 'recovery:restarted':
        return `restarted by the monitor (${text(entry['reason']) ?? '?'})${inStage(entry)}: ${text(entry['why']) ?? ''}`;
      case 'recovery:failed':
        return `failed by the monitor (${text(entry['reason']) ?? '?'})${inStage(entry)}: ${text(entry['why']) ?? ''}`;
      case 'recovery:readded':
        return `re-added by the monitor: ${text(entry['why']) ?? ''}`;
      case 'shutdown:handed-back':
        return `handed back at shutdown${byWorker(entry)}${inStage(entry)}`;
      case 'attempt:failed':
        return `attempt ${num(entry['attempt']) ?? '?'} failed${inStage(entry)}, retried: ${text(entry['error']) ?? ''}`;
      case 'checkpoint:invalid':
        return `checkpoint ${text(entry['stage']) ?? '?'} invalid, not used: ${text(entry['reason']) ?? ''}`;
      case 'deferred':
        return `deferred for ${seconds(entry['delayMs'])}${byWorker(entry)} (${text(entry['reason']) ?? '?'})`;
      case 'drill:hanging':
        return `recovery drill: hanging${inStage(entry)} until aborted`;
      case 'completed':
        return 'completed';
      case 'failed':
        return `failed${inStage(entry)}${text(entry['error']) === null ? '' : `: ${text(entry['error'])}`}`;
      default: {
        const { event, at: _at, ...fields } = entry;
        const shown = Object.entries(fields)
          .filter(([, value]) => value !== null && value !== undefined && typeof value !== 'object')
          .map(([key, value]) => `${key}=${String(value)}`);
        return shown.length === 0 ? event : `${event} ${shown.join(' ')}`;
      }
    }
  })();
  return `${new Date(entry.at).toISOString()} ${body.trim()}`;
}

/** A job's history as the lines its page on the board shows, oldest first. */
export function describeHistory(entries: readonly HistoryEntry[]): string[] {
  return entries.map(describeHistoryEntry);
}
