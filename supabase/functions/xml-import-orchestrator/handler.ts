/**
 * `xml-import-orchestrator`: starts an XML product import. POST a JSON body
 * `{ source_name, feed_url, record_element?, field_mapping?, batch_size?, background_job_id? }`;
 * it creates the `data_import_jobs` row (`pending`) and enqueues a kai-jobs `xml-import` job
 * with the import's id as the job id, answering 201 `{ import_job_id, job_id, job_type, created }`.
 * A failure is reported to Sentry once — fingerprint `['xml-import-job-failed', source_name]`,
 * tag `function: xml-import-orchestrator` — and answered 400 (bad input, naming the field) or 5xx.
 */
import { createEnqueueHandler, type FailureFacts } from '../_shared/enqueue-function.ts';
import { InputError } from '../_shared/errors.ts';
import { optionalInteger, optionalString, refuseUnknownFields, requiredHttpUrl, requiredString } from '../_shared/http.ts';
import type { CaptureContext } from '../_shared/sentry.ts';

/** The function's name, as the platform's alert rules know it. */
export const FUNCTION_NAME = 'xml-import-orchestrator';

const FIELDS = ['source_name', 'feed_url', 'record_element', 'field_mapping', 'batch_size', 'background_job_id'] as const;

/** A checked request. */
export interface XmlImportInput {
  sourceName: string;
  feedUrl: string;
  recordElement?: string;
  fieldMapping?: Record<string, string>;
  batchSize?: number;
  backgroundJobId?: string;
}

/** Checks the body; throws `InputError` naming the first bad field. */
export function parseXmlImportInput(body: Record<string, unknown>): XmlImportInput {
  refuseUnknownFields(body, FIELDS);
  const input: XmlImportInput = { sourceName: requiredString(body, 'source_name'), feedUrl: requiredHttpUrl(body, 'feed_url') };
  const recordElement = optionalString(body, 'record_element', 100);
  const batchSize = optionalInteger(body, 'batch_size', 1, 10_000);
  const backgroundJobId = optionalString(body, 'background_job_id');
  const mapping = body['field_mapping'];
  if (mapping !== undefined && mapping !== null) {
    if (typeof mapping !== 'object' || Array.isArray(mapping)) throw new InputError('field_mapping', 'must be an object of product field → element path');
    for (const [field, path] of Object.entries(mapping)) {
      if (typeof path !== 'string' || path === '') throw new InputError(`field_mapping.${field}`, 'must be a non-empty element path');
    }
    for (const required of ['sku', 'name']) {
      if (!(required in mapping)) throw new InputError(`field_mapping.${required}`, 'is required');
    }
    input.fieldMapping = mapping as Record<string, string>;
  }
  if (recordElement !== undefined) input.recordElement = recordElement;
  if (batchSize !== undefined) input.batchSize = batchSize;
  if (backgroundJobId !== undefined) input.backgroundJobId = backgroundJobId;
  return input;
}

function text(value: unknown): string {
  return typeof value === 'string' && value.trim() !== '' ? value : 'unknown';
}

/** The platform's alert for a failed import: the same tags and fingerprint as the monitor's `xml-import-job-failed`. */
export function xmlImportFailureContext({ rowId, body, error, step }: FailureFacts): CaptureContext {
  const sourceName = text(body?.['source_name']);
  const importJobId = text(rowId);
  return {
    tags: {
      function: FUNCTION_NAME,
      error_type: 'xml_import_job_failed',
      job_id: importJobId,
      source_name: sourceName,
      step,
    },
    contexts: {
      xml_import_job_failed: {
        job_id: importJobId,
        source_name: sourceName,
        feed_url: typeof body?.['feed_url'] === 'string' ? body['feed_url'] : null,
        background_job_id: typeof body?.['background_job_id'] === 'string' ? body['background_job_id'] : null,
        step,
        error_message: error.message,
      },
    },
    fingerprint: ['xml-import-job-failed', sourceName],
  };
}

/** The request handler (exported for tests; `index.ts` serves it). */
export const handleXmlImport = createEnqueueHandler<XmlImportInput>({
  name: FUNCTION_NAME,
  table: 'data_import_jobs',
  jobType: 'xml-import',
  idField: 'import_job_id',
  parse: parseXmlImportInput,
  payload: ({ feedUrl, ...input }, importJobId) => ({ ...input, importJobId, source: { kind: 'url', url: feedUrl } }),
  alert: xmlImportFailureContext,
});
