import { assert, assertEquals, assertMatch } from './assert.ts';
import { errorResponse } from '../_shared/http.ts';
import { handleXmlImport } from '../xml-import-orchestrator/handler.ts';
import { bullJob, deadPort, expectReportedFailure, platformRow, post, sentryEvents, withEnv } from './support.ts';

const test = (name: string, fn: () => Promise<void>) => Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });

test('xml-import-orchestrator: creates the pending import row and enqueues its xml-import job; no Sentry event', async () => {
  const before = (await sentryEvents()).length;
  const response = await handleXmlImport(
    post({ source_name: 'acme-tiles', feed_url: 'https://feeds.example.com/acme.xml', field_mapping: { sku: 'code', name: 'title' }, batch_size: 50 }),
  );
  assertEquals(response.status, 201);
  const body = await response.json();
  assertEquals(body.job_id, body.import_job_id);
  const row = await platformRow('data_import_jobs', body.import_job_id);
  assert(row !== null, 'the data_import_jobs row exists');
  assertEquals(row.status, 'pending');
  const payload = row.payload as Record<string, unknown>;
  assertEquals(payload.sourceName, 'acme-tiles');
  assertEquals(payload.source, { kind: 'url', url: 'https://feeds.example.com/acme.xml' });
  assertEquals(payload.fieldMapping, { sku: 'code', name: 'title' });
  const job = await bullJob('xml-import', body.import_job_id);
  assertEquals(job?.state, 'waiting');
  assertEquals((await sentryEvents()).length, before);
});

test('xml-import-orchestrator: bad input is a 400 naming the field, reported once with source_name', async () => {
  const { error, event } = await expectReportedFailure(
    () => handleXmlImport(post({ source_name: 'acme-tiles', feed_url: 'https://feeds.example.com/a.xml', field_mapping: { sku: 'code' } })),
    'InputError',
  );
  assertEquals(error.field, 'field_mapping.name');
  assertEquals(event.tags?.function, 'xml-import-orchestrator');
  assertEquals(event.tags?.error_type, 'xml_import_job_failed');
  assertEquals(event.tags?.source_name, 'acme-tiles');
  assertEquals(event.fingerprint, ['xml-import-job-failed', 'acme-tiles']);
  assertEquals(errorResponse(error).status, 400);
  const noName = await expectReportedFailure(() => handleXmlImport(post({ feed_url: 'https://feeds.example.com/a.xml' })), 'InputError');
  assertEquals(noName.error.field, 'source_name');
  assertEquals(noName.event.fingerprint, ['xml-import-job-failed', 'unknown']);
});

test('xml-import-orchestrator: the board refusing is reported once with job_id; the row is marked failed', async () => {
  const { error, event } = await withEnv({ KAI_JOBS_BOARD_TOKEN: 'wrong-token' }, () =>
    expectReportedFailure(() => handleXmlImport(post({ source_name: 'refused-feed', feed_url: 'https://feeds.example.com/r.xml' })), 'EnqueueError'),
  );
  assertEquals(error.boardStatus, 401);
  assertEquals(event.tags?.step, 'enqueue');
  assertEquals(event.fingerprint, ['xml-import-job-failed', 'refused-feed']);
  const importJobId = event.tags?.job_id as string;
  assertMatch(importJobId, /^[0-9a-f-]{36}$/);
  assertEquals(event.contexts?.xml_import_job_failed?.job_id, importJobId);
  const row = await platformRow('data_import_jobs', importJobId);
  assertEquals(row?.status, 'failed');
  assertEquals(await bullJob('xml-import', importJobId), null);

  // The board unreachable: 503, retryable.
  const away = await withEnv({ KAI_JOBS_BOARD_URL: `http://127.0.0.1:${deadPort()}/` }, () =>
    expectReportedFailure(() => handleXmlImport(post({ source_name: 'away-feed', feed_url: 'https://feeds.example.com/w.xml' })), 'EnqueueError'),
  );
  assertEquals(away.error.boardStatus, null);
  assertEquals(errorResponse(away.error).status, 503);
  assertEquals(away.event.fingerprint, ['xml-import-job-failed', 'away-feed']);
});

test('xml-import-orchestrator: Supabase down is reported once and answered 503', async () => {
  const { error, event } = await withEnv({ SUPABASE_URL: `http://127.0.0.1:${deadPort()}` }, () =>
    expectReportedFailure(() => handleXmlImport(post({ source_name: 'down-feed', feed_url: 'https://feeds.example.com/d.xml' })), 'DatabaseError'),
  );
  assertEquals(event.tags?.step, 'create_row');
  assertEquals(event.fingerprint, ['xml-import-job-failed', 'down-feed']);
  assertEquals(errorResponse(error).status, 503);
});
