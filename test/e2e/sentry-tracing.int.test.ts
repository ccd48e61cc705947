import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSentryReceiver, type ReceivedTransaction, type SentryReceiver } from '@kai-jobs/monitor/testing';
import { silentLogger } from '@kai-jobs/queue';
import { useRedisTestContext } from '@kai-jobs/queue/testing';
import { createSentryAttemptTracer, type AttemptRecord } from '@kai-jobs/workers';
import { client, pdf, syntheticRuntime } from './helpers.js';

const ctx = useRedisTestContext(import.meta.url);
let receiver: SentryReceiver;

beforeEach(async () => {
  receiver = await startSentryReceiver();
});
afterEach(async () => {
  await receiver.close();
});

/** `[description, status, stage tag, outcome tag]` of each span. */
function spans(transaction: ReceivedTransaction | undefined): (string | undefined)[][] {
  return (transaction?.spans ?? []).map((span) => [span.description, span.status, span.tags?.['stage'], span.tags?.['outcome']]);
}

describe('Sentry tracing: a transaction per attempt, a span per stage', () => {
  it('sends each attempt with its stages to Sentry, tagged as the alerts are (job type, stage, outcome, restart count)', async () => {
    const tracer = await createSentryAttemptTracer({ dsn: receiver.dsn, environment: 'test', release: 'kai-jobs@test', sampleRate: 1, logger: silentLogger });
    const worker = await syntheticRuntime(ctx, 'w-trace', { tracer });
    const jobs = client(ctx);
    // Attempt 1 fails in text_extracted (BullMQ retries it); attempt 2 resumes there and completes.
    const { id } = await jobs.enqueue('pdf', pdf('fail:text_extracted'));
    await jobs.waitForResult(id, { timeoutMs: 20_000 });
    const [failed, completed] = await receiver.waitForTransactions(2, 10_000);
    await worker.close();

    expect(failed).toMatchObject({
      transaction: 'pdf attempt',
      environment: 'test',
      release: 'kai-jobs@test',
      tags: { job_type: 'pdf_processing', kai_job_type: 'pdf', stage: 'text_extracted', outcome: 'retrying', restart_count: '0', recovery: 'false', attempt: '1', drill: 'false', worker_id: 'w-trace' },
      contexts: {
        trace: { op: 'queue.process', status: 'internal_error' },
        kai_job: { job_id: id, attempt: 1, outcome: 'retrying', error: 'synthetic transient failure in text_extracted' },
      },
    });
    expect(spans(failed)).toEqual([
      ['pdf_loaded', 'ok', 'pdf_loaded', 'retrying'],
      ['text_extracted', 'internal_error', 'text_extracted', 'retrying'],
    ]);
    expect(completed).toMatchObject({
      tags: { job_type: 'pdf_processing', stage: 'materials_extracted', outcome: 'completed', attempt: '2' },
      contexts: { trace: { op: 'queue.process', status: 'ok' } },
    });
    expect(spans(completed)).toEqual(
      ['text_extracted', 'tiles_generated', 'embeddings_created', 'materials_extracted'].map((stage) => [stage, 'ok', stage, 'completed']),
    );
    // Spans hang off the attempt's transaction, in time order, inside it.
    const trace = completed?.contexts?.['trace'] as { trace_id: string; span_id: string };
    for (const span of completed?.spans ?? []) {
      expect(span).toMatchObject({ op: 'job.stage', parent_span_id: trace.span_id, trace_id: trace.trace_id, tags: { job_type: 'pdf_processing', restart_count: '0' } });
      expect(span.start_timestamp).toBeGreaterThanOrEqual(completed?.start_timestamp as number);
      expect(span.timestamp).toBeLessThanOrEqual(completed?.timestamp as number);
    }
    expect(receiver.errors).toEqual([]);
  });

  it('samples: at SENTRY_TRACES_SAMPLE_RATE 0.25 an attempt whose draw is 0.3 is not sent, one of 0.2 is', async () => {
    const draws = [0.3, 0.2];
    const tracer = await createSentryAttemptTracer({ dsn: receiver.dsn, environment: 'test', sampleRate: 0.25, random: () => draws.shift() ?? 1, logger: silentLogger });
    const record = (jobId: string): AttemptRecord => ({
      jobId,
      type: 'xml-import',
      workerId: 'w',
      attempt: 2,
      restartCount: 1,
      startedAt: Date.now() - 1000,
      endedAt: Date.now(),
      outcome: 'failed',
      stage: 'products_upserted',
      error: 'boom',
      drill: false,
      stages: [],
    });
    tracer.record(record('dropped'));
    tracer.record(record('sent'));
    await tracer.close(5000);
    expect(receiver.transactions.map((transaction) => (transaction.contexts?.['kai_job'] as { job_id: string }).job_id)).toEqual(['sent']);
    expect(receiver.transactions[0]?.tags).toMatchObject({ job_type: 'xml_import', outcome: 'failed', restart_count: '1', recovery: 'true' });
  });
});
