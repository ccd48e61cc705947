/**
 * Enqueues a job through the kai-jobs board's HTTP API: `POST <board>/api/jobs/<type>` with
 * the payload as JSON, `Authorization: Bearer <KAI_JOBS_BOARD_TOKEN>`, `Job-Id` set to the
 * platform row's id (so the job's status row is that row) and `Idempotency-Key` derived from
 * it (so a retried call never enqueues twice).
 */
import type { FunctionEnv } from './env.ts';
import { EnqueueError, toError } from './errors.ts';

/** The board's answer to an accepted job. */
export interface EnqueuedJob {
  id: string;
  type: string;
  /** False when the job already existed (a retried call): nothing new was enqueued. */
  created: boolean;
}

/** Enqueues one job; throws {@link EnqueueError} with the board's status and message when refused. */
export async function enqueueOnBoard(
  env: Pick<FunctionEnv, 'boardUrl' | 'boardToken' | 'boardTimeoutMs'>,
  type: 'scrape' | 'xml-import',
  payload: Record<string, unknown>,
  jobId: string,
): Promise<EnqueuedJob> {
  const url = new URL(`api/jobs/${type}`, env.boardUrl);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${env.boardToken}`,
        'content-type': 'application/json',
        'job-id': jobId,
        'idempotency-key': `${type}:${jobId}`,
      },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(env.boardTimeoutMs),
    });
  } catch (error) {
    throw new EnqueueError(`the board at ${url.origin} could not be reached: ${toError(error).message}`, null, { cause: error });
  }
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // A proxy's HTML error page: the status says enough.
  }
  if (response.status !== 201) {
    const issues = Array.isArray(body['issues'])
      ? ` (${(body['issues'] as { path?: string; message?: string }[]).map((issue) => `${issue.path}: ${issue.message}`).join('; ')})`
      : '';
    const message = typeof body['message'] === 'string' ? body['message'] : text.slice(0, 200);
    throw new EnqueueError(`the board refused the ${type} job with HTTP ${response.status}: ${message}${issues}`, response.status);
  }
  return { id: String(body['id']), type: String(body['type']), created: body['created'] === true };
}
