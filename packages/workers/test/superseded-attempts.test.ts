import { describe, expect, it } from 'vitest';
import { silentLogger, type StatusRow } from '@kai-jobs/queue';
import { abortSupersededAttempts } from '../src/runtime/superseded-attempts.js';

function row(id: string, fence: string, status: StatusRow['status']): Pick<StatusRow, 'id' | 'fence' | 'status'> {
  return { id, fence, status };
}

describe('abortSupersededAttempts', () => {
  it('stops the attempts whose job moved on while cut off, not one whose own completion landed before the drop', async () => {
    const attempts = ['ours', 'moved', 'completed-by-it', 'completed-elsewhere'].map((jobId) => ({
      jobId,
      token: `${jobId}-token`,
      controller: new AbortController(),
    }));
    const rows = new Map([
      ['ours', row('ours', 'ours-token', 'processing')],
      ['moved', row('moved', 'another-token', 'processing')],
      // Chaos scenario 2 (Redis restart): the completion was written, its reply lost in the drop.
      ['completed-by-it', row('completed-by-it', 'completed-by-it-token', 'completed')],
      ['completed-elsewhere', row('completed-elsewhere', 'another-token', 'completed')],
    ]);
    const locks = new Map([
      ['ours', 'ours-token'],
      ['moved', 'another-token'],
      ['completed-by-it', 'completed-by-it-token'],
    ]);
    const lost = await abortSupersededAttempts(attempts, {
      store: { get: (id) => Promise.resolve((rows.get(id) as StatusRow | undefined) ?? null) },
      readLock: (id) => Promise.resolve(locks.get(id) ?? null),
      logger: silentLogger,
    });
    expect(lost.sort()).toEqual(['completed-elsewhere', 'moved']);
    expect(attempts.filter((attempt) => attempt.controller.signal.aborted).map((attempt) => attempt.jobId).sort()).toEqual(['completed-elsewhere', 'moved']);
  });
});
