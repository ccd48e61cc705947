/**
 * The chaos invariants' rules on hand-made snapshots: a clean run passes, and every rule
 * fires on the fault it exists to catch (otherwise a green chaos run would prove nothing).
 */
import { describe, expect, it } from 'vitest';
import { jobCatalog, type StatusRow } from '@kai-jobs/queue';
import type { Checkpoint } from '@kai-jobs/checkpoint';
import type { ReceivedEvent } from '@kai-jobs/monitor/testing';
import { findViolations, type ChaosSnapshot, type JobSnapshot } from './invariants.js';

const STAGES = jobCatalog.pdf.stages;

function row(id: string, change: Partial<StatusRow> = {}): StatusRow {
  return {
    id,
    type: 'pdf',
    status: 'completed',
    attempt: 1,
    fence: null,
    workerId: 'w1',
    restartCount: 0,
    progress: 100,
    currentStage: null,
    progressDetail: null,
    resumedFrom: null,
    lastHeartbeat: 1,
    createdAt: 1,
    updatedAt: 1,
    startedAt: 1,
    completedAt: 2,
    durationMs: 1,
    error: null,
    errorStage: null,
    result: {},
    counters: {},
    refs: {},
    payload: {},
    idempotencyKey: null,
    heartbeatTimeoutMs: null,
    updateTimeoutMs: null,
    ...change,
  };
}

function checkpoint(jobId: string, stage: string, attempt: number): Checkpoint {
  const stageIndex = STAGES.indexOf(stage as (typeof STAGES)[number]);
  return { jobId, stage, stageIndex, data: {}, dataJson: '{}', sha256: '', schemaVersion: 1, attempt, fence: `f${attempt}`, createdAt: 1, bytes: 2 };
}

/** A job that ran its stages in the given attempts (stage index → attempts), committing each stage in its last one. */
function job(id: string, attemptsByStage: number[][], change: Partial<JobSnapshot> = {}): JobSnapshot {
  const runs = attemptsByStage.flatMap((attempts, index) => attempts.map((attempt) => ({ jobId: id, stage: STAGES[index] as string, attempt, workerId: `w${attempt}` })));
  const commits = attemptsByStage.map((attempts, index) => ({ jobId: id, stage: STAGES[index] as string, attempt: Math.max(...attempts), workerId: 'w' }));
  return {
    id,
    type: 'pdf',
    row: row(id, { attempt: Math.max(...attemptsByStage.flat()) }),
    history: [{ event: 'completed', at: 2 }],
    checkpoints: attemptsByStage.map((attempts, index) => checkpoint(id, STAGES[index] as string, Math.max(...attempts))),
    runs,
    commits,
    bullState: 'completed',
    ...change,
  };
}

const alertFor = (jobId: string): ReceivedEvent => ({ tags: { job_id: jobId } });
const snapshot = (jobs: JobSnapshot[], change: Partial<ChaosSnapshot> = {}): ChaosSnapshot => ({ jobs, rowsInFlight: [], alerts: [], ...change });

describe('chaos invariants', () => {
  it('hold for a job resumed after a crash in stage 3 (stages 1-2 not re-run)', () => {
    const resumed = job('j1', [[1], [1], [1, 2], [2], [2]], { row: row('j1', { attempt: 2, restartCount: 1 }) });
    expect(findViolations(snapshot([resumed, job('j2', [[1], [1], [1], [1], [1]])]))).toEqual([]);
  });

  it('catch a stage that ran again after a later stage had started (a finished stage re-run)', () => {
    const rerun = job('j1', [[1], [1, 2], [1, 2], [2], [2]]);
    expect(findViolations(snapshot([rerun]))).toEqual(expect.arrayContaining([expect.stringContaining('stage text_extracted ran again in attempt(s) 2 after attempt 1')]));
  });

  it('catch a stage committed twice, and a checkpoint written by an older attempt than the last run', () => {
    const twice = job('j1', [[1], [1], [1], [1], [1]]);
    twice.commits.push({ jobId: 'j1', stage: 'pdf_loaded', attempt: 2, workerId: 'zombie' });
    const stale = job('j2', [[1], [1], [1], [1], [1, 2]]);
    stale.checkpoints[4] = checkpoint('j2', STAGES[4] as string, 1);
    const found = findViolations(snapshot([twice, stale]));
    expect(found).toEqual(expect.arrayContaining([expect.stringContaining('j1: stage pdf_loaded committed 2 times'), expect.stringContaining("j2: stage materials_extracted's checkpoint was written by attempt 1")]));
  });

  it('catch a lost job, a missing checkpoint, a double completion, a row left processing', () => {
    const lost = job('lost', [[1], [1], [1], [1], [1]], { row: null });
    const noCheckpoint = job('nocp', [[1], [1], [1], [1], [1]]);
    noCheckpoint.checkpoints.pop();
    const doubled = job('doubled', [[1], [1], [1], [1], [1]], { history: [{ event: 'completed', at: 1 }, { event: 'completed', at: 2 }] });
    const found = findViolations(snapshot([lost, noCheckpoint, doubled], { rowsInFlight: [row('other', { status: 'processing', attempt: 3 })] }));
    expect(found).toEqual(
      expect.arrayContaining([
        'lost: lost: no status row',
        'nocp: completed without a checkpoint of stage materials_extracted',
        'doubled: history has 2 completed and 0 failed entries, expected 1 and 0',
        'other: row left processing (attempt 3, worker w1)',
      ]),
    );
  });

  it('catch the wrong outcome, too many restarts, a BullMQ state that disagrees', () => {
    const failed = job('f', [[1], [1], [1], [1], [1]], { row: row('f', { status: 'failed', error: 'boom', restartCount: 4 }), history: [{ event: 'failed', at: 1 }], bullState: 'failed' });
    const found = findViolations(snapshot([failed], { alerts: [alertFor('f')] }));
    expect(found).toEqual(
      expect.arrayContaining([
        'f: status failed, expected completed (error: boom)',
        'f: BullMQ state failed, expected completed',
        'f: restarted 4 times, limit 3',
        'f: 1 alert(s), expected 0',
      ]),
    );
  });

  it('demand exactly the expected alerts and the expected failure reason', () => {
    const poison = job('p', [[1, 2, 3, 4]], {
      row: row('p', { status: 'failed', error: 'restart limit reached', restartCount: 3 }),
      history: [{ event: 'failed', at: 1 }],
      bullState: 'failed',
      checkpoints: [],
    });
    const expectFailed = { outcome: () => ({ status: 'failed' as const, error: /restart limit/ }) };
    expect(findViolations(snapshot([poison], { alerts: [alertFor('p')] }), expectFailed)).toEqual([]);
    expect(findViolations(snapshot([poison], { alerts: [alertFor('p'), alertFor('p')] }), expectFailed)).toEqual(['p: 2 alert(s), expected 1']);
    expect(findViolations(snapshot([poison], { alerts: [alertFor('p')] }), { outcome: () => ({ status: 'failed', error: /poison/ }) })).toEqual([
      'p: failed with "restart limit reached", expected an error matching /poison/',
    ]);
    expect(findViolations(snapshot([poison], { alerts: [alertFor('p'), alertFor('stranger')] }), expectFailed)).toEqual(['stranger: 1 alert(s) for a job the scenario did not enqueue']);
  });

  it('attribute a scraping or import alert to its queue job by its context, not by the platform id it is tagged with', () => {
    const session = job('queue-id-1', [[1], [1], [1], [1], [1]], {
      row: row('queue-id-1', { status: 'failed', error: 'stuck' }),
      history: [{ event: 'failed', at: 1 }],
      bullState: 'failed',
    });
    const stuckSession: ReceivedEvent = { tags: { session_id: 'platform-session-9' }, contexts: { stuck_scraping_session: { session_id: 'platform-session-9', queue_job_id: 'queue-id-1' } } };
    const failedOnly = { outcome: () => ({ status: 'failed' as const, error: /stuck/ }) };
    expect(findViolations(snapshot([session], { alerts: [stuckSession] }), failedOnly)).toEqual([]);
    expect(findViolations(snapshot([session], { alerts: [] }), failedOnly)).toEqual(['queue-id-1: 0 alert(s), expected 1']);
  });
});
