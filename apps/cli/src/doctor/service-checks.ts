import diagnostics from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { Alerter } from '@kai-jobs/monitor';
import { createJobStore, StoreKind, type StoreEnvConfig } from '@kai-jobs/queue';
import { toError } from '@kai-jobs/queue';
import { envValue, type Environment } from '../config/cli-env.js';
import { check, CheckStatus, type CheckResult } from './check-types.js';

/**
 * Watches Node's HTTP client (diagnostics channel) for the answers to envelope requests sent
 * to `dsn`'s host: the Alerter's `flush()` also resolves when an event was dropped (refused,
 * timed out), so the status code is what tells "accepted" from "sent and lost".
 */
function watchEnvelopeAnswers(dsn: string): { statuses: number[]; stop(): void } {
  const target = new URL(dsn);
  const statuses: number[] = [];
  const onFinish = (message: unknown): void => {
    const { request, response } = message as { request: ClientRequest; response: IncomingMessage };
    if (request.host === target.hostname && /\/api\/[^/]+\/envelope\/?/.test(request.path)) statuses.push(response.statusCode ?? 0);
  };
  diagnostics.subscribe('http.client.response.finish', onFinish);
  return { statuses, stop: () => diagnostics.unsubscribe('http.client.response.finish', onFinish) };
}

/**
 * `SENTRY_DSN` set and a test event accepted: sends one with the Alerter's `captureMessage`,
 * flushes, and checks Sentry's answer; warn without a DSN (alerts then go to the log only).
 */
export async function checkSentry(env: Environment, flushTimeoutMs = 5000): Promise<CheckResult> {
  const dsn = envValue(env, 'SENTRY_DSN');
  if (dsn === undefined) {
    return check('sentry', CheckStatus.Warn, 'SENTRY_DSN is not set: alerts go to the monitor\'s log only', 'set SENTRY_DSN (from the environment or a secret store; never commit it)');
  }
  let alerter: Alerter;
  try {
    alerter = new Alerter({ dsn, environment: envValue(env, 'SENTRY_ENVIRONMENT') ?? 'production', flushTimeoutMs, sendTimeoutMs: flushTimeoutMs });
  } catch (error) {
    return check('sentry', CheckStatus.Fail, toError(error).message, 'fix SENTRY_DSN: https://<public key>@<host>/<project id>');
  }
  const answers = watchEnvelopeAnswers(dsn);
  try {
    const eventId = alerter.captureMessage('kai-jobs doctor: test event (alerts reach Sentry)', 'info', {
      tags: { source: 'kai-jobs-doctor' },
      fingerprint: ['kai-jobs-doctor-test-event'],
    });
    await alerter.flush(flushTimeoutMs);
    const status = answers.statuses[0];
    if (status !== undefined && status >= 200 && status < 300) {
      return check('sentry', CheckStatus.Ok, `test event ${eventId} accepted by Sentry (HTTP ${status}; look for "kai-jobs doctor: test event")`);
    }
    if (status !== undefined) {
      return check('sentry', CheckStatus.Fail, `Sentry refused the test event (HTTP ${status})`, 'check SENTRY_DSN: its public key and project id must match a project that accepts events');
    }
    return check('sentry', CheckStatus.Fail, `Sentry did not accept the test event within ${flushTimeoutMs} ms (no answer)`, 'check SENTRY_DSN and that this host can reach Sentry over HTTPS');
  } finally {
    answers.stop();
    await alerter.close();
  }
}

/**
 * With `STATUS_STORE=supabase`: the project answers and the kai-jobs migrations are applied —
 * read functions of the status store (`kai_now`, `kai_list_jobs`) and of the checkpoint store
 * (`kai_list_checkpoints`) answer, through supabase-js, as the workers will call them.
 */
export async function checkSupabase(choice: StoreEnvConfig): Promise<CheckResult> {
  if (choice.kind !== StoreKind.Supabase) return check('supabase', CheckStatus.Ok, 'not configured (STATUS_STORE=redis)');
  const store = createJobStore({ ...choice, requestTimeoutMs: 5000 });
  const where = `${choice.url} (schema ${choice.schema})`;
  try {
    const now = await store.now();
    await store.list({ type: 'pdf', status: 'pending', limit: 1 });
    await store.listCheckpoints({ id: 'kai-jobs-doctor-probe', type: 'pdf' });
    return check('supabase', CheckStatus.Ok, `${where} answers, migrations applied (kai_now, kai_list_jobs, kai_list_checkpoints); clock skew ${Math.abs(Date.now() - now)} ms`);
  } catch (error) {
    const message = toError(error).message;
    if (/PGRST202|PGRST106|could not find the function|function .* does not exist|schema cache|migrations applied/i.test(message)) {
      return check('supabase', CheckStatus.Fail, `${where} answers but the kai-jobs functions are missing from the schema (${message})`, 'apply the migrations: "supabase db push" (see supabase/README.md)');
    }
    if (/JWT|401|403|permission|invalid api key/i.test(message)) {
      return check('supabase', CheckStatus.Fail, `${where} refused the key (${message})`, 'set SUPABASE_SERVICE_ROLE_KEY to the project\'s service role key');
    }
    return check('supabase', CheckStatus.Fail, `${where} is unreachable or failing (${message})`, 'check SUPABASE_URL and the network; see supabase/README.md');
  } finally {
    await store.close();
  }
}
