import { randomBytes } from 'node:crypto';
import { scrubSecrets, toError, type JobType, type Logger } from '@kai-jobs/queue';

/** How an attempt ended, as its transaction's `outcome` tag says. */
export const AttemptOutcome = {
  Completed: 'completed',
  /** Failed for good (a permanent error, retries used up, or cancelled). */
  Failed: 'failed',
  /** Failed; BullMQ retries it with the backoff policy. */
  Retrying: 'retrying',
  /** Stopped on the monitor's request (stuck): restarts from its checkpoint. */
  Restarted: 'restarted',
  /** Handed back to the queue at shutdown. */
  HandedBack: 'handed_back',
  /** Another attempt took the job over (fenced off). */
  Lost: 'lost',
  /** Put back for a moment without running (a crash suspect beside another one). */
  Deferred: 'deferred',
} as const;
/** One of {@link AttemptOutcome}. */
export type AttemptOutcome = (typeof AttemptOutcome)[keyof typeof AttemptOutcome];

/**
 * The `job_type` tag value of each job type — the values the platform's alerts already use
 * (`pdf_processing`, `web_scraping`, `xml_import`), so one Sentry query covers alerts and traces.
 */
export const SENTRY_JOB_TYPE_TAGS: Record<JobType, string> = {
  pdf: 'pdf_processing',
  scrape: 'web_scraping',
  'xml-import': 'xml_import',
};

/** One stage run within an attempt. */
export interface StageSpanRecord {
  stage: string;
  /** Wall-clock ms. */
  startedAt: number;
  endedAt: number;
  /** `ok`: checkpointed; `error`: the stage failed; `aborted`: stopped (restart, shutdown, lost). */
  status: 'ok' | 'error' | 'aborted';
}

/** What one attempt did: becomes one Sentry transaction with a span per stage. */
export interface AttemptRecord {
  jobId: string;
  type: JobType;
  workerId: string;
  attempt: number;
  restartCount: number;
  /** Wall-clock ms. */
  startedAt: number;
  endedAt: number;
  outcome: AttemptOutcome;
  /** The stage it ended in (the last one run), if any. */
  stage: string | null;
  error: string | null;
  /** A recovery drill's canary: tagged so dashboards keep it out of production figures. */
  drill: boolean;
  stages: StageSpanRecord[];
}

/** Receives each finished attempt. */
export interface AttemptTracer {
  /** Records one attempt (sampled; never throws, never waits for the network). */
  record(attempt: AttemptRecord): void;
  /** Sends what is queued (up to `timeoutMs`) and stops. */
  close(timeoutMs?: number): Promise<void>;
}

function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

/** Sentry's span status of an outcome: `failure_rate()` counts `internal_error`, not `cancelled`/`aborted`. */
function statusOf(outcome: AttemptOutcome): string {
  switch (outcome) {
    case AttemptOutcome.Completed:
      return 'ok';
    case AttemptOutcome.Failed:
    case AttemptOutcome.Retrying:
      return 'internal_error';
    case AttemptOutcome.Restarted:
    case AttemptOutcome.HandedBack:
    case AttemptOutcome.Deferred:
      return 'cancelled';
    case AttemptOutcome.Lost:
      return 'aborted';
    default: {
      const exhaustive: never = outcome;
      return String(exhaustive);
    }
  }
}

const STAGE_STATUS = { ok: 'ok', error: 'internal_error', aborted: 'cancelled' } as const;

/** The tags every transaction and span of an attempt carries, named as the alerts name them. */
export function attemptTags(record: AttemptRecord): Record<string, string> {
  return {
    job_type: SENTRY_JOB_TYPE_TAGS[record.type],
    kai_job_type: record.type,
    stage: record.stage ?? 'none',
    outcome: record.outcome,
    restart_count: String(record.restartCount),
    recovery: record.restartCount > 0 ? 'true' : 'false',
    attempt: String(record.attempt),
    drill: record.drill ? 'true' : 'false',
    worker_id: record.workerId,
  };
}

/**
 * The Sentry transaction event of an attempt: `transaction` `<type> attempt`, op
 * `queue.process`, its status from the outcome, the tags of {@link attemptTags}, and one
 * child span per stage (op `job.stage`, description and `stage` tag the stage's name,
 * status from how the stage ended). Pure: ids are passed in.
 */
export function attemptTransactionEvent(record: AttemptRecord, ids: { traceId: string; spanId: string; nextSpanId(): string }): Record<string, unknown> {
  const tags = attemptTags(record);
  const seconds = (ms: number): number => ms / 1000;
  return {
    type: 'transaction',
    transaction: `${record.type} attempt`,
    transaction_info: { source: 'task' },
    start_timestamp: seconds(record.startedAt),
    timestamp: seconds(Math.max(record.endedAt, record.startedAt)),
    tags,
    contexts: {
      trace: {
        trace_id: ids.traceId,
        span_id: ids.spanId,
        op: 'queue.process',
        status: statusOf(record.outcome),
        data: { 'messaging.message.id': record.jobId, 'messaging.destination.name': record.type },
      },
      kai_job: {
        job_id: record.jobId,
        attempt: record.attempt,
        restart_count: record.restartCount,
        outcome: record.outcome,
        stage: record.stage,
        ...(record.error === null ? {} : { error: record.error }),
      },
    },
    spans: record.stages.map((stage) => ({
      trace_id: ids.traceId,
      parent_span_id: ids.spanId,
      span_id: ids.nextSpanId(),
      op: 'job.stage',
      description: stage.stage,
      origin: 'manual',
      start_timestamp: seconds(stage.startedAt),
      timestamp: seconds(Math.max(stage.endedAt, stage.startedAt)),
      status: STAGE_STATUS[stage.status],
      tags: { ...tags, stage: stage.stage, stage_status: stage.status },
      data: { 'kai.stage': stage.stage, 'kai.job_type': tags['job_type'], 'kai.outcome': record.outcome, 'kai.restart_count': record.restartCount },
    })),
  };
}

/** Options of {@link createSentryAttemptTracer}. */
export interface SentryAttemptTracerOptions {
  /** The DSN (a secret, from the environment). */
  dsn: string;
  environment: string;
  release?: string;
  /** Share of attempts sent, 0–1 (`SENTRY_TRACES_SAMPLE_RATE`). */
  sampleRate: number;
  /** Per-request deadline of the transport (ms). Default 5000. */
  sendTimeoutMs?: number;
  /** Sampling source (tests pin it). Default `Math.random`. */
  random?: () => number;
  logger: Logger;
}

/**
 * An {@link AttemptTracer} sending each sampled attempt as a Sentry transaction through a
 * dedicated `NodeClient` — never `Sentry.init`, so no global integration is installed.
 * `@sentry/node` is imported here, lazily: a process without a DSN never loads it.
 */
export async function createSentryAttemptTracer(options: SentryAttemptTracerOptions): Promise<AttemptTracer> {
  const { NodeClient, makeNodeTransport, defaultStackParser } = await import('@sentry/node');
  const timeoutMs = options.sendTimeoutMs ?? 5000;
  const client = new NodeClient({
    dsn: options.dsn,
    environment: options.environment,
    ...(options.release === undefined ? {} : { release: options.release }),
    transport: makeNodeTransport,
    transportOptions: { bufferSize: 200 },
    stackParser: defaultStackParser,
    integrations: [],
    enableRuntimeChannelInjection: false,
    sendClientReports: false,
    // Sampled here, per attempt; the SDK sends what it is given.
    tracesSampleRate: 1,
    beforeSendTransaction: (event) => scrubSecrets(event),
  });
  const random = options.random ?? Math.random;
  const logger = options.logger.child({ component: 'attempt-tracer' });
  return {
    record(attempt) {
      if (options.sampleRate <= 0 || random() >= options.sampleRate) return;
      try {
        const event = attemptTransactionEvent(attempt, { traceId: hex(16), spanId: hex(8), nextSpanId: () => hex(8) });
        client.captureEvent(event as Parameters<typeof client.captureEvent>[0]);
      } catch (error) {
        logger.warn('could not send the attempt transaction', { jobId: attempt.jobId, error: toError(error).message });
      }
    },
    async close(closeTimeoutMs = timeoutMs) {
      try {
        await client.close(closeTimeoutMs);
      } catch (error) {
        logger.debug('closing the Sentry client failed', { error: toError(error).message });
      }
    },
  };
}
