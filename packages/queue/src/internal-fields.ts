import type { JobType, PayloadInput } from './catalog/index.js';
import type { PdfStage } from './catalog/pdf.js';
import type { EnqueuedJob, EnqueueOptions, JobClient } from './client/job-client.js';
import type { FieldIssue } from './errors.js';

/**
 * Payload fields that only kai-jobs itself may set. The catalog's schemas accept them (a
 * worker must be able to read a stored payload that has one), but no public enqueue does:
 * `JobClient.enqueue`/`enqueueBulk` — and so the board's HTTP API, the CLI's `enqueue` and
 * the edge functions — refuse a payload carrying one with a validation error naming the
 * field. kai-jobs' own code sets them through {@link enqueueRecoveryDrill}.
 */
export const INTERNAL_PAYLOAD_FIELDS: readonly { type: JobType; path: readonly string[]; why: string }[] = [
  {
    type: 'pdf',
    path: ['options', 'drill'],
    why: 'the recovery-drill switch makes a job hang on purpose; only `kai-jobs drill` (the monitor\'s drill) sets it, never a public payload',
  },
];

/** Issues for every internal field present in `payload` (present at all, whatever its value). */
export function internalFieldIssues(type: JobType, payload: unknown): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const field of INTERNAL_PAYLOAD_FIELDS) {
    if (field.type !== type) continue;
    let current: unknown = payload;
    let present = true;
    for (const segment of field.path) {
      if (current === null || typeof current !== 'object' || !Object.hasOwn(current, segment)) {
        present = false;
        break;
      }
      current = (current as Record<string, unknown>)[segment];
    }
    if (present) {
      issues.push({ path: field.path.join('.'), message: `not accepted in a public payload: ${field.why}`, expected: 'nothing' });
    }
  }
  const source = payload !== null && typeof payload === 'object' ? (payload as { source?: { kind?: unknown } }).source : undefined;
  if (source?.kind === 'canary') {
    issues.push({
      path: 'source.kind',
      message: "not accepted in a public payload: a 'canary' source is the recovery drill's, which only `kai-jobs drill` (the monitor's drill) enqueues",
      expected: "'file', 'url', 'storage' or 'inline'",
    });
  }
  return issues;
}

/**
 * True when `payload` is a recovery drill's (it carries `options.drill`). Public enqueues
 * refuse that field, so a payload that has it was enqueued by {@link enqueueRecoveryDrill}:
 * metrics, the monitoring page and the recoveries list keep such jobs apart from production.
 */
export function isDrillPayload(payload: unknown): boolean {
  if (payload === null || typeof payload !== 'object') return false;
  const options = (payload as { options?: unknown }).options;
  if (options === null || typeof options !== 'object') return false;
  const drill = (options as { drill?: unknown }).drill;
  return drill !== undefined && drill !== null;
}

/** The recovery drill's switch: the job's first run hangs in this stage until it is aborted. */
export interface DrillSwitch {
  hangOnceInStage: PdfStage;
}

/** A client's enqueue that accepts internal fields. */
export type InternalEnqueue = (type: 'pdf', payload: PayloadInput<'pdf'>, options: EnqueueOptions) => Promise<EnqueuedJob<'pdf'>>;

/** Each client's enqueue that accepts internal fields; only this module can reach it. */
const internalEnqueues = new WeakMap<JobClient, InternalEnqueue>();

/** Called by `createJobClient`: registers the client's internal enqueue. */
export function registerInternalEnqueue(client: JobClient, enqueue: InternalEnqueue): void {
  internalEnqueues.set(client, enqueue);
}

/**
 * The recovery drill's enqueue: a PDF job whose first run hangs in `drill.hangOnceInStage`
 * until aborted, so the monitor must find it and restart it from its checkpoint. The one
 * way to set `options.drill` — kai-jobs' own code calls it (the monitor's drill, tests); a
 * payload arriving from outside cannot, because it is a function call, not a field.
 * Throws `TypeError` for a client `createJobClient` did not make.
 */
export function enqueueRecoveryDrill(
  client: JobClient,
  payload: PayloadInput<'pdf'>,
  drill: DrillSwitch,
  options: EnqueueOptions = {},
): Promise<EnqueuedJob<'pdf'>> {
  const enqueue = internalEnqueues.get(client);
  if (enqueue === undefined) throw new TypeError('enqueueRecoveryDrill needs a client made by createJobClient');
  return enqueue('pdf', { ...payload, options: { ...payload.options, drill } }, options);
}
