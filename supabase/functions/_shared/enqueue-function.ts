/**
 * The shape both functions share: read and check the input, create the platform's `pending`
 * row, enqueue the job on the board with the row's id as the job id, answer 201. Every failure
 * is reported once to Sentry with the platform's alert tags and fingerprint and re-thrown (the
 * `Deno.serve` wrapper answers it); a row created before a refused enqueue is marked `failed`.
 */
import { enqueueOnBoard } from './board.ts';
import { readFunctionEnv, type FunctionEnv } from './env.ts';
import { EdgeFunctionError, InputError, toError } from './errors.ts';
import { json, readJsonObject } from './http.ts';
import { createPendingRow, markRowFailed, platformClient, type PlatformTable } from './platform-rows.ts';
import { captureException, flush, type CaptureContext } from './sentry.ts';

/** What is known about the request when it fails, for the alert. */
export interface FailureFacts {
  /** The row's id, once created. */
  rowId: string | null;
  /** The raw request body, once parsed (its fields may be invalid). */
  body: Record<string, unknown> | null;
  /** The error. */
  error: Error;
  /** Where it failed (`config`, `validate`, `create_row`, `enqueue`, or `unexpected`). */
  step: string;
}

/** One function's specifics. */
export interface EnqueueFunctionSpec<Input> {
  /** The platform's function name: the `function` tag. */
  name: string;
  table: PlatformTable;
  jobType: 'scrape' | 'xml-import';
  /** Checks the body; throws {@link InputError} naming the field. */
  parse(body: Record<string, unknown>): Input;
  /** The kai-jobs payload for the row `rowId`. */
  payload(input: Input, rowId: string): Record<string, unknown>;
  /** The Sentry context of a failure: tags, contexts, fingerprint. */
  alert(facts: FailureFacts): CaptureContext;
  /** The 201 body's name for the row id (`session_id`, `import_job_id`). */
  idField: string;
  /** Flush timeout before answering (ms). Default 2000. */
  flushTimeoutMs?: number;
  /** Reads the environment. Default {@link readFunctionEnv}. */
  readEnv?: () => FunctionEnv;
}

/** Builds the request handler of an enqueueing function. */
export function createEnqueueHandler<Input>(spec: EnqueueFunctionSpec<Input>): (req: Request) => Promise<Response> {
  return async (req) => {
    let body: Record<string, unknown> | null = null;
    let rowId: string | null = null;
    // Set once the row exists: marks it failed when a later step fails.
    let markFailed: ((message: string) => Promise<string | null>) | null = null;
    try {
      body = await readJsonObject(req);
      const input = spec.parse(body);
      const env = (spec.readEnv ?? readFunctionEnv)();
      const client = platformClient(env);
      rowId = crypto.randomUUID();
      await createPendingRow(client, spec.table, rowId);
      const id = rowId;
      markFailed = (message) => markRowFailed(client, spec.table, id, message);
      const job = await enqueueOnBoard(env, spec.jobType, spec.payload(input, rowId), rowId);
      return json(201, { [spec.idField]: rowId, job_id: job.id, job_type: job.type, created: job.created });
    } catch (caught) {
      const error = toError(caught);
      const step = error instanceof EdgeFunctionError ? error.step : 'unexpected';
      const context = spec.alert({ rowId: markFailed === null ? null : rowId, body, error, step });
      if (markFailed !== null) {
        const problem = await markFailed(error.message);
        if (problem !== null) context.extra = { ...context.extra, row_not_marked_failed: problem };
      }
      captureException(error, { ...context, level: error instanceof InputError ? 'warning' : 'error' });
      await flush(spec.flushTimeoutMs ?? 2000);
      throw error;
    }
  };
}
