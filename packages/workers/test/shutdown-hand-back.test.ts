import { describe, expect, it } from 'vitest';
import type { StatusRow } from '@kai-jobs/queue';
import { shutdownHandBackDecision } from '../src/runtime/restart-hand-back.js';

/** A row as the store returns it, held by the attempt with fence `t1`. */
function row(): StatusRow {
  return { id: 'j1', type: 'pdf', status: 'processing', fence: 't1', restartCount: 0 } as StatusRow;
}

describe('shutdownHandBackDecision: the shutdown hand-back judged by decideShutdownHandBack from the row as read', () => {
  const table: [string, StatusRow | null | undefined, string][] = [
    ['its own running row: requeue', row(), 'requeue'],
    ['row unreadable (store outage): judged from the attempt itself, requeue', undefined, 'requeue'],
    ['cancelled meanwhile (failed): leave', { ...row(), status: 'failed', fence: null }, 'leave'],
    ['completed: leave', { ...row(), status: 'completed' }, 'leave'],
    ['row gone: leave', null, 'leave'],
    ['another attempt holds it (fence superseded): leave', { ...row(), fence: 't2' }, 'leave'],
    ['restarted by the monitor meanwhile (pending, new fence): requeue — what the restart asks of this attempt', { ...row(), status: 'pending', fence: 'recovery:1:x', restartCount: 1 }, 'requeue'],
  ];
  for (const [name, input, action] of table) {
    it(name, () => expect(shutdownHandBackDecision('pdf', input, 't1').action).toBe(action));
  }
});
