import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { processingFailureAlert } from '../recovery/processing-alert.js';
import { FailureKind } from '../recovery/recovery-decision.js';
import type { StatusStore } from '../status/types.js';
import type { StatusStoreContractHarness } from './status-store-contract.js';

/**
 * The alert outbox and failure kind every {@link StatusStore} adapter must have: the alert is
 * written by the same atomic step as the transition (none when the compare-and-set loses), is
 * numbered per job, stays pending until marked, and is marked once.
 */
export function runAlertOutboxContract(adapterName: string, harness: Pick<StatusStoreContractHarness, 'setup'>): void {
  const withStore = (name: string, body: (store: StatusStore) => Promise<void>): void => {
    it(name, async () => {
      const { store, cleanup } = await harness.setup();
      try {
        await body(store);
      } finally {
        await cleanup();
      }
    }, 15_000);
  };

  const runningScrape = async (store: StatusStore): Promise<string> => {
    const id = randomUUID();
    await store.create({ id, type: 'scrape', payload: { sessionId: id, sourceUrl: 'https://example.com/' }, refs: { sessionId: id, sourceUrl: 'https://example.com/' } });
    await store.markProcessing(id, { fence: 'attempt-1', workerId: 'w1' });
    return id;
  };

  describe(`Alert outbox contract: ${adapterName}`, () => {
    withStore('a failing transition writes its alert, the failure kind on the row and in the history, in one step', async (store) => {
      const id = await runningScrape(store);
      const result = await store.recoverWithAlert(id, {
        expectedFence: 'attempt-1',
        expectedRestartCount: 0,
        action: 'fail',
        error: 'no update for 30 min',
        failureKind: FailureKind.Stuck,
        history: { event: 'recovery:failed', reason: 'update_timeout' },
        alert: { kind: 'stuck-scraping-session', reason: 'update_timeout', stuckForMs: 1_800_000 },
      });
      expect(result.applied).toBe(true);
      expect(result.incident).toBe(1);
      expect(result.row).toMatchObject({ status: 'failed', failureKind: 'stuck', error: 'no update for 30 min' });
      const history = await store.history(id);
      expect(history.at(-1)).toMatchObject({ event: 'recovery:failed', failureKind: 'stuck', incident: 1 });
      const pending = await store.pendingAlerts('scrape');
      expect(pending).toEqual([
        expect.objectContaining({ type: 'scrape', jobId: id, incident: 1, alert: { kind: 'stuck-scraping-session', reason: 'update_timeout', stuckForMs: 1_800_000 } }),
      ]);
      expect(await store.pendingAlerts('pdf')).toEqual([]);
    });

    withStore('a lost compare-and-set writes no alert', async (store) => {
      const id = await runningScrape(store);
      const input = {
        expectedFence: 'attempt-1',
        expectedRestartCount: 0,
        action: 'fail' as const,
        failureKind: FailureKind.Stuck,
        history: { event: 'recovery:failed' },
        alert: { kind: 'stuck-scraping-session' },
      };
      const [first, second] = await Promise.all([store.recoverWithAlert(id, input), store.recoverWithAlert(id, input)]);
      expect([first.applied, second.applied].sort()).toEqual([false, true]);
      expect([first.incident, second.incident].sort()).toEqual([1, null]);
      expect(await store.pendingAlerts('scrape')).toHaveLength(1);
    });

    withStore('a restart without an alert writes none; incidents of one job are numbered 1, 2, …', async (store) => {
      const id = randomUUID();
      await store.create({ id, type: 'pdf', payload: { documentId: id }, refs: { documentId: id } });
      await store.markProcessing(id, { fence: 'a1', workerId: 'w1' });
      const quiet = await store.recoverWithAlert(id, { expectedFence: 'a1', expectedRestartCount: 0, action: 'restart', history: { event: 'recovery:restarted' } });
      expect(quiet).toMatchObject({ applied: true, incident: null });
      expect(quiet.row?.failureKind ?? null).toBeNull();
      await store.markProcessing(id, { fence: 'a2', workerId: 'w1' });
      const restarted = await store.recoverWithAlert(id, { expectedFence: 'a2', expectedRestartCount: 1, action: 'restart', history: { event: 'recovery:restarted' }, alert: { kind: 'stuck-job' } });
      expect(restarted.incident).toBe(1);
      await store.markProcessing(id, { fence: 'a3', workerId: 'w1' });
      const failed = await store.recoverWithAlert(id, { expectedFence: 'a3', expectedRestartCount: 2, action: 'fail', failureKind: FailureKind.Stuck, history: { event: 'recovery:failed' }, alert: { kind: 'stuck-job' } });
      expect(failed.incident).toBe(2);
      expect((await store.pendingAlerts('pdf')).map((alert) => alert.incident).sort()).toEqual([1, 2]);
    });

    withStore("a worker's final failure writes its processing alert in the same step; a refused failure writes none", async (store) => {
      const id = await runningScrape(store);
      // A superseded attempt's failure is refused, with no alert.
      await expect(store.fail(id, 'attempt-0', 'late', null, { alert: processingFailureAlert({ error: 'late', stage: null, attempt: 1 }) })).rejects.toThrow();
      expect(await store.pendingAlerts('scrape')).toEqual([]);
      const row = await store.fail(id, 'attempt-1', 'parser exploded', 'pages_scraped', { alert: processingFailureAlert({ error: 'parser exploded', stage: 'pages_scraped', attempt: 1 }) });
      expect(row).toMatchObject({ status: 'failed', failureKind: FailureKind.Processing, error: 'parser exploded' });
      const pending = await store.pendingAlerts('scrape');
      expect(pending.map((alert) => [alert.jobId, alert.incident])).toEqual([[id, 1]]);
      expect(pending[0]?.alert).toEqual({ processingFailure: true, failureKind: 'processing', error: 'parser exploded', stage: 'pages_scraped', attempt: 1 });
      expect((await store.history(id)).at(-1)).toMatchObject({ event: 'failed', failureKind: 'processing', incident: 1 });
      // Finished: a second failure is refused and writes no second alert.
      await expect(store.fail(id, 'attempt-1', 'again', null, { alert: processingFailureAlert({ error: 'again', stage: null, attempt: 1 }) })).rejects.toThrow();
      expect(await store.pendingAlerts('scrape')).toHaveLength(1);
      // Without the option, no alert (callers that raise none).
      const quiet = await runningScrape(store);
      await store.fail(quiet, 'attempt-1', 'quiet');
      expect((await store.pendingAlerts('scrape')).map((alert) => alert.jobId)).toEqual([id]);
    });

    withStore('markAlertSent removes an alert from the pending ones, once', async (store) => {
      const id = await runningScrape(store);
      await store.recoverWithAlert(id, { expectedFence: 'attempt-1', expectedRestartCount: 0, action: 'fail', failureKind: FailureKind.Stuck, history: { event: 'recovery:failed' }, alert: { kind: 'stuck-scraping-session' } });
      expect(await store.markAlertSent('scrape', id, 1)).toBe(true);
      expect(await store.markAlertSent('scrape', id, 1)).toBe(false);
      expect(await store.pendingAlerts('scrape')).toEqual([]);
    });
  });
}
