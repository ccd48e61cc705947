import { describe, expect, it } from 'vitest';
import {
  decideAttemptFailure,
  decideCancel,
  decideFailover,
  decideOperatorRestart,
  decidePendingRepair,
  decideShutdownHandBack,
  decideStuck,
  recoverySnapshotOf,
  RecoveryPolicy,
  type RecoverySnapshot,
} from '../src/index.js';

/** A running PDF job with one restart, a valid checkpoint, its type allowing 3 restarts. */
function snapshot(overrides: Partial<RecoverySnapshot> = {}): RecoverySnapshot {
  return {
    type: 'pdf',
    status: 'processing',
    restartCount: 1,
    maxRestarts: 3,
    recovery: RecoveryPolicy.RestartFromCheckpoint,
    hasValidCheckpoint: true,
    ...overrides,
  };
}

/** The fields of a decision a table compares. */
function brief(decision: { action: string; failureKind?: string; restartNumber?: number }): Record<string, unknown> {
  return {
    action: decision.action,
    ...(decision.failureKind === undefined ? {} : { failureKind: decision.failureKind }),
    ...(decision.restartNumber === undefined ? {} : { restartNumber: decision.restartNumber }),
  };
}

describe('decideStuck (the tick)', () => {
  const table: [string, Partial<RecoverySnapshot>, Record<string, unknown>][] = [
    ['under the limit with a checkpoint: restart', {}, { action: 'restart', restartNumber: 2 }],
    ['at the type limit: fail (stuck)', { restartCount: 3 }, { action: 'fail', failureKind: 'stuck' }],
    ['pdf limit 1 after one restart: fail', { maxRestarts: 1 }, { action: 'fail', failureKind: 'stuck' }],
    ['no valid checkpoint: fail', { hasValidCheckpoint: false }, { action: 'fail', failureKind: 'stuck' }],
    ['auto-restart off: fail', { autoRestart: false }, { action: 'fail', failureKind: 'stuck' }],
    ['a type failed when stuck (scrape): fail', { type: 'scrape', recovery: RecoveryPolicy.Fail }, { action: 'fail', failureKind: 'stuck' }],
    ['scraping status counts as running', { type: 'xml-import', status: 'scraping', recovery: RecoveryPolicy.Fail }, { action: 'fail', failureKind: 'stuck' }],
    ['completed: leave', { status: 'completed' }, { action: 'leave' }],
    ['failed: leave', { status: 'failed' }, { action: 'leave' }],
    ['missing row: leave', { status: null }, { action: 'leave' }],
  ];
  for (const [name, overrides, expected] of table) {
    it(name, () => expect(brief(decideStuck(snapshot(overrides)))).toEqual(expected));
  }
});

describe('decideFailover (a vanished worker)', () => {
  const table: [string, Partial<RecoverySnapshot>, Record<string, unknown>][] = [
    ['under the type limit: restart (hand back, fenced)', {}, { action: 'restart', restartNumber: 2 }],
    ['at the type limit: leave to the lock and the tick', { restartCount: 3 }, { action: 'leave' }],
    ["pdf limit 1 after one restart: leave, whatever other types allow", { maxRestarts: 1 }, { action: 'leave' }],
    ['a finished row: requeue without a restart', { status: 'completed' }, { action: 'requeue' }],
    ['no row: requeue without a restart', { status: null }, { action: 'requeue' }],
  ];
  for (const [name, overrides, expected] of table) {
    it(name, () => expect(brief(decideFailover(snapshot(overrides)))).toEqual(expected));
  }
});

describe('decideOperatorRestart and decideCancel (the CLI)', () => {
  const table: [string, Partial<RecoverySnapshot>, { force?: boolean }, Record<string, unknown>][] = [
    ['running under the limit: restart', {}, {}, { action: 'restart', restartNumber: 2 }],
    ['pending: restart', { status: 'pending' }, {}, { action: 'restart', restartNumber: 2 }],
    ['at the type limit: refuse', { restartCount: 3 }, {}, { action: 'refuse' }],
    ['at the type limit with force: restart', { restartCount: 3 }, { force: true }, { action: 'restart', restartNumber: 4 }],
    ['finished: refuse', { status: 'completed' }, { force: true }, { action: 'refuse' }],
    ['missing: refuse', { status: null }, {}, { action: 'refuse' }],
  ];
  for (const [name, overrides, options, expected] of table) {
    it(`restart: ${name}`, () => expect(brief(decideOperatorRestart(snapshot(overrides), options))).toEqual(expected));
  }
  it('cancel: an unfinished job fails (cancelled)', () => expect(brief(decideCancel(snapshot()))).toEqual({ action: 'fail', failureKind: 'cancelled' }));
  it('cancel: a finished job is left', () => expect(brief(decideCancel(snapshot({ status: 'failed' })))).toEqual({ action: 'leave' }));
});

describe('decidePendingRepair (run by the tick)', () => {
  const table: [string, Partial<RecoverySnapshot>, Parameters<typeof decidePendingRepair>[1], Record<string, unknown>][] = [
    ['pending without a BullMQ job: requeue', { status: 'pending' }, 'missing', { action: 'requeue' }],
    ['pending, BullMQ job failed: requeue', { status: 'pending' }, 'failed', { action: 'requeue' }],
    ['pending, BullMQ job completed: requeue', { status: 'pending' }, 'completed', { action: 'requeue' }],
    ['pending and queued: leave', { status: 'pending' }, 'queued', { action: 'leave' }],
    ['pending and active: leave', { status: 'pending' }, 'active', { action: 'leave' }],
    ['running: leave (the tick judges it as stuck work)', {}, 'missing', { action: 'leave' }],
  ];
  for (const [name, overrides, bullState, expected] of table) {
    it(name, () => expect(brief(decidePendingRepair(snapshot(overrides), bullState))).toEqual(expected));
  }
});

describe("decideAttemptFailure (a worker's failed attempt) and decideShutdownHandBack", () => {
  const table: [string, Partial<RecoverySnapshot>, Parameters<typeof decideAttemptFailure>[1], Record<string, unknown>][] = [
    ['transient, attempts left: requeue (BullMQ retries)', {}, { permanent: false, attemptsMade: 1, attempts: 3 }, { action: 'requeue' }],
    ['transient, last attempt: fail (processing)', {}, { permanent: false, attemptsMade: 3, attempts: 3 }, { action: 'fail', failureKind: 'processing' }],
    ['permanent: fail at once (processing)', {}, { permanent: true, attemptsMade: 1, attempts: 3 }, { action: 'fail', failureKind: 'processing' }],
    ['row already finished (fenced off): leave', { status: 'failed' }, { permanent: true, attemptsMade: 1, attempts: 3 }, { action: 'leave' }],
  ];
  for (const [name, overrides, failure, expected] of table) {
    it(name, () => expect(brief(decideAttemptFailure(snapshot(overrides), failure))).toEqual(expected));
  }
  const shutdownTable: [string, Partial<RecoverySnapshot>, { superseded?: boolean }, Record<string, unknown>][] = [
    ['shutdown: a running job is requeued without a restart', {}, {}, { action: 'requeue' }],
    ['shutdown: a running job at its restart limit is still requeued (no restart counted)', { restartCount: 3 }, {}, { action: 'requeue' }],
    ['shutdown: a pending row (restarted meanwhile) of this attempt is requeued', { status: 'pending' }, {}, { action: 'requeue' }],
    ['shutdown: a completed job is left', { status: 'completed' }, {}, { action: 'leave' }],
    ['shutdown: a cancelled or failed job is left (not handed back)', { status: 'failed' }, {}, { action: 'leave' }],
    ['shutdown: a missing row is left', { status: null }, {}, { action: 'leave' }],
    ['shutdown: another attempt holds the job: left', {}, { superseded: true }, { action: 'leave' }],
  ];
  for (const [name, overrides, attempt, expected] of shutdownTable) {
    it(name, () => expect(brief(decideShutdownHandBack(snapshot(overrides), attempt))).toEqual(expected));
  }
});

describe('recoverySnapshotOf: every path judges a row with its own type\'s limit and policy', () => {
  it('takes the type from the catalog, the limit from the caller when given', () => {
    const row = { type: 'scrape' as const, status: 'scraping' as const, restartCount: 2 };
    expect(recoverySnapshotOf(row, 'scrape')).toMatchObject({ type: 'scrape', status: 'scraping', restartCount: 2, recovery: RecoveryPolicy.Fail, hasValidCheckpoint: false });
    expect(recoverySnapshotOf(row, 'scrape', { maxRestarts: 1 }).maxRestarts).toBe(1);
    expect(recoverySnapshotOf({ type: 'pdf', status: 'processing', restartCount: 0 }, 'pdf').recovery).toBe(RecoveryPolicy.RestartFromCheckpoint);
    expect(recoverySnapshotOf(null, 'pdf')).toMatchObject({ status: null, restartCount: 0 });
  });
  it('a cancel decided from it fails an unfinished row of any type, leaves a finished one', () => {
    expect(brief(decideCancel(recoverySnapshotOf({ type: 'xml-import', status: 'processing', restartCount: 0 }, 'xml-import')))).toEqual({ action: 'fail', failureKind: 'cancelled' });
    expect(brief(decideCancel(recoverySnapshotOf({ type: 'pdf', status: 'completed', restartCount: 0 }, 'pdf')))).toEqual({ action: 'leave' });
  });
});
