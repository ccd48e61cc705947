import { describe, expect, it } from 'vitest';
import { BackoffPolicySchema } from '@kai-jobs/checkpoint';
import type { StaleCandidate, StatusRow } from '@kai-jobs/queue';
import { classify, decide, typeSettings, MonitorOptionsSchema, type DecisionInput } from '../src/index.js';

const options = MonitorOptionsSchema.parse({});
const backoff = BackoffPolicySchema.parse({ baseMs: 1000, capMs: 8000, jitterRatio: 0 });

function row(overrides: Partial<StatusRow> = {}): StatusRow {
  return {
    id: 'j1', type: 'pdf', status: 'processing', attempt: 1, fence: 'f', workerId: 'w1', restartCount: 0, progress: 40,
    currentStage: 'tiles_generated', progressDetail: null, resumedFrom: null, lastHeartbeat: 1000, createdAt: 0, updatedAt: 1000,
    startedAt: 0, completedAt: null, durationMs: null, error: null, errorStage: null, result: null, counters: {}, refs: {},
    payload: {}, idempotencyKey: null, heartbeatTimeoutMs: null, updateTimeoutMs: null, ...overrides,
  };
}

function input(overrides: Partial<DecisionInput> & { row?: Partial<StatusRow> } = {}): DecisionInput {
  const { row: rowOverrides, ...rest } = overrides;
  const candidate: StaleCandidate = { row: row(rowOverrides), reason: 'update_timeout', ageMs: 400_000, storeNow: 401_000 };
  return {
    candidate,
    classification: 'hung',
    settings: typeSettings(options, candidate.row.type),
    autoRestart: true,
    backoff,
    lastValidCheckpointStage: 'text_extracted',
    workerBehind: false,
    random: () => 0,
    ...rest,
  };
}

describe('classify', () => {
  it('maps BullMQ states to what the monitor does with them', () => {
    expect(classify({ state: 'active', lockHeld: true, failedReason: null })).toBe('hung');
    expect(classify({ state: 'active', lockHeld: false, failedReason: null })).toBe('lock_expired');
    for (const state of ['waiting', 'delayed', 'prioritized', 'waiting-children'] as const) {
      expect(classify({ state, lockHeld: false, failedReason: null })).toBe('recovering');
    }
    expect(classify({ state: 'failed', lockHeld: false, failedReason: 'job stalled more than allowable limit' })).toBe('failed_by_bullmq');
    expect(classify({ state: 'completed', lockHeld: false, failedReason: null })).toBe('completed_in_bullmq');
    expect(classify({ state: 'missing', lockHeld: false, failedReason: null })).toBe('lost');
  });
});

describe('decide', () => {
  it('restarts a stuck PDF job from its checkpoint with exponential backoff', () => {
    expect(decide(input())).toMatchObject({ action: 'restart', restartNumber: 1, delayMs: 1000, checkpointStage: 'text_extracted' });
    expect(decide(input({ row: { restartCount: 2 } }))).toMatchObject({ action: 'restart', restartNumber: 3, delayMs: 4000 });
    for (const classification of ['failed_by_bullmq', 'completed_in_bullmq', 'lost'] as const) {
      expect(decide(input({ classification })).action).toBe('restart');
    }
  });

  it('fails a foreign row (the platform’s own, no kai-jobs bookkeeping) whatever BullMQ says, and never restarts it', () => {
    for (const classification of ['hung', 'lost', 'recovering', 'lock_expired'] as const) {
      for (const status of ['pending', 'processing'] as const) {
        const decided = decide({
          ...input({ classification, row: { status, fence: null, payload: null, attempt: 0 } }),
          candidate: { row: row({ status, fence: null, payload: null, attempt: 0 }), reason: 'heartbeat_timeout', ageMs: 1_200_000, storeNow: 1, foreign: true },
        });
        expect(decided, `${status} ${classification}`).toMatchObject({ action: 'fail', reason: 'heartbeat_timeout', checkpointStage: null });
        expect(decided.why).toContain("platform's other writers");
      }
    }
    // The same row without the flag is kai-jobs' own: restarted from its checkpoint as before.
    expect(decide(input()).action).toBe('restart');
  });

  it('fails the fourth stuck episode, a job without a checkpoint, or with auto-restart off', () => {
    expect(decide(input({ row: { restartCount: 3 } }))).toMatchObject({ action: 'fail', why: 'hung: restart limit reached (3 of 3)' });
    expect(decide(input({ lastValidCheckpointStage: null }))).toMatchObject({ action: 'fail', why: 'hung: no valid checkpoint to restart from' });
    expect(decide(input({ autoRestart: false })).action).toBe('fail');
  });

  it('fails stuck scraping sessions and imports, whatever their checkpoints', () => {
    for (const type of ['scrape', 'xml-import'] as const) {
      const decision = decide(input({ row: { type }, settings: typeSettings(options, type) }));
      expect(decision).toMatchObject({ action: 'fail', why: `hung: ${type} jobs are failed when stuck` });
    }
  });

  it('leaves jobs already on their way back, with an expired lock, or whose worker is behind on writes', () => {
    expect(decide(input({ classification: 'recovering' })).action).toBe('leave');
    expect(decide(input({ classification: 'lock_expired' })).action).toBe('leave');
    expect(decide(input({ workerBehind: true })).action).toBe('leave');
  });

  it('judges a hung job by the attempt holding its lock: a new attempt that has not claimed the row yet is left alone', () => {
    // Chaos scenario 2 (Redis restart): a job re-taken after a stall while its row still told
    // of the old attempt's stale heartbeat was restarted (or failed) as hung, with an alert.
    expect(decide(input({ lockToken: 'f' })).action).toBe('restart');
    expect(decide(input({ lockToken: 'new-attempt' }))).toMatchObject({ action: 'leave', why: 'a new attempt holds the lock and has not claimed the row yet' });
    expect(decide(input({ lockToken: 'new-attempt', lastValidCheckpointStage: null })).action).toBe('leave');
    expect(decide(input({ lockToken: null })).action).toBe('restart');
  });

  it('leaves a candidate whose row moved while the tick ran: judged again, not on the old snapshot', () => {
    expect(decide(input({ changedSinceFound: true }))).toMatchObject({ action: 'leave', why: expect.stringMatching(/^its row moved while the tick ran/) });
    expect(decide(input({ changedSinceFound: false })).action).toBe('restart');
  });

  it('re-adds a pending row without a BullMQ job; leaves a queued one; re-asks a missed abort', () => {
    expect(decide(input({ row: { status: 'pending' }, classification: 'lost' }))).toMatchObject({ action: 'readd', reason: 'pending_without_job' });
    expect(decide(input({ row: { status: 'pending' }, classification: 'recovering' })).action).toBe('leave');
    // Active with a lock: the attempt the last restart stopped is asked again, by its fence; any
    // other holder is a new attempt whose claim has not landed yet, and is left alone.
    expect(decide(input({ row: { status: 'pending' }, classification: 'hung', stoppedFence: 'w1:7' }))).toMatchObject({ action: 'leave', resendAbort: true, abortFence: 'w1:7' });
    const claiming = decide(input({ row: { status: 'pending', restartCount: 0, fence: null }, classification: 'hung', stoppedFence: null }));
    expect(claiming).toMatchObject({ action: 'leave', why: 'pending and active in BullMQ: a new attempt is claiming it' });
    expect(claiming.resendAbort).toBeUndefined();
  });

  it('honours per-type overrides of the restart limit and recovery', () => {
    const custom = MonitorOptionsSchema.parse({ types: { pdf: { maxRestarts: 1 }, scrape: { recovery: 'restart-from-checkpoint' } } });
    expect(decide(input({ row: { restartCount: 1 }, settings: typeSettings(custom, 'pdf') })).action).toBe('fail');
    expect(decide(input({ row: { type: 'scrape' }, settings: typeSettings(custom, 'scrape') })).action).toBe('restart');
    expect(typeSettings(options, 'scrape')).toEqual({ heartbeatTimeoutMs: null, updateTimeoutMs: 1_800_000, recovery: 'fail', maxRestarts: 3 });
    expect(typeSettings(options, 'pdf')).toMatchObject({ heartbeatTimeoutMs: 900_000, updateTimeoutMs: 300_000 });
  });
});
