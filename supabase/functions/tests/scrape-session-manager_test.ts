import { assert, assertEquals, assertMatch } from './assert.ts';
import { errorResponse, serve } from '../_shared/http.ts';
import { handleScrapeSession } from '../scrape-session-manager/handler.ts';
import { bullJob, deadPort, expectReportedFailure, platformRow, post, sentryEvents, withEnv } from './support.ts';

const test = (name: string, fn: () => Promise<void>) => Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });

test('scrape-session-manager: creates the pending session row and enqueues its scrape job; no Sentry event', async () => {
  const before = (await sentryEvents()).length;
  const response = await handleScrapeSession(post({ source_url: 'https://shop.example.com/catalogue', max_pages: 5 }));
  assertEquals(response.status, 201);
  const body = await response.json();
  assertMatch(body.session_id, /^[0-9a-f-]{36}$/);
  assertEquals(body.job_id, body.session_id);
  assertEquals(body.created, true);

  // The platform's row is the job's row: adopted by kai-jobs (payload set), still pending.
  const row = await platformRow('scraping_sessions', body.session_id);
  assert(row !== null, 'the scraping_sessions row exists');
  assertEquals(row.status, 'pending');
  assertEquals((row.payload as Record<string, unknown>).sourceUrl, 'https://shop.example.com/catalogue');
  assertEquals((row.payload as Record<string, unknown>).maxPages, 5);
  const job = await bullJob('scrape', body.session_id);
  assert(job !== null, 'the BullMQ job exists');
  assertEquals(job.state, 'waiting');
  assertEquals((await sentryEvents()).length, before);
});

test('scrape-session-manager: bad input is a 400 naming the field, reported once with the source_url', async () => {
  const { error, event } = await expectReportedFailure(() => handleScrapeSession(post({ source_url: 'ftp://shop.example.com/' })), 'InputError');
  assertEquals(error.field, 'source_url');
  assertEquals(event.tags?.function, 'scrape-session-manager');
  assertEquals(event.tags?.error_type, 'scraping_session_failed');
  assertEquals(event.tags?.step, 'validate');
  assertEquals(event.tags?.source_url, 'ftp://shop.example.com/');
  assertEquals(event.fingerprint, ['scraping-session-failed', 'ftp://shop.example.com/']);
  assertEquals(event.level, 'warning');
  const answer = errorResponse(error);
  assertEquals(answer.status, 400);
  const body = await answer.json();
  assertEquals(body.field, 'source_url');
  assertMatch(body.message, /source_url: must be an http\(s\) URL/);

  const missing = await expectReportedFailure(() => handleScrapeSession(post({ max_pages: 3 })), 'InputError');
  assertEquals(missing.error.field, 'source_url');
  assertEquals(missing.event.fingerprint, ['scraping-session-failed', 'unknown']);
  const typo = await expectReportedFailure(() => handleScrapeSession(post({ source_url: 'https://a.example/', maxPages: 3 })), 'InputError');
  assertEquals(typo.error.field, 'maxPages');
});

test('scrape-session-manager: the board refusing the job is reported once with the ids; the row is marked failed', async () => {
  const sourceUrl = 'https://refused.example.com/';
  // An invalid regular expression passes the function's checks; the board's schema refuses it.
  const { error, event } = await expectReportedFailure(
    () => handleScrapeSession(post({ source_url: sourceUrl, include_patterns: ['(unclosed'] })),
    'EnqueueError',
  );
  assertEquals(error.boardStatus, 400);
  assertMatch(error.message, /payload\.includePatterns\[0\]: pattern "\(unclosed" is not an RE2 regular expression/);
  assertEquals(event.tags?.function, 'scrape-session-manager');
  assertEquals(event.tags?.step, 'enqueue');
  assertEquals(event.fingerprint, ['scraping-session-failed', sourceUrl]);
  assertEquals(event.environment, 'edge-test');
  const sessionId = event.tags?.session_id as string;
  assertMatch(sessionId, /^[0-9a-f-]{36}$/);
  assertEquals(event.contexts?.scraping_session_failed?.session_id, sessionId);
  const row = await platformRow('scraping_sessions', sessionId);
  assertEquals(row?.status, 'failed');
  assertMatch(String(row?.error_message), /the board refused the scrape job with HTTP 400/);
  assertEquals(await bullJob('scrape', sessionId), null);

  // A wrong token: the board answers 401.
  const auth = await withEnv({ KAI_JOBS_BOARD_TOKEN: 'wrong-token' }, () =>
    expectReportedFailure(() => handleScrapeSession(post({ source_url: sourceUrl })), 'EnqueueError'),
  );
  assertEquals(auth.error.boardStatus, 401);
  assertEquals(errorResponse(auth.error).status, 502);
});

test('scrape-session-manager: Supabase down is reported once and answered 503; nothing is enqueued', async () => {
  const { error, event } = await withEnv({ SUPABASE_URL: `http://127.0.0.1:${deadPort()}` }, () =>
    expectReportedFailure(() => handleScrapeSession(post({ source_url: 'https://down.example.com/' })), 'DatabaseError'),
  );
  assertEquals(error.unreachable, true);
  assertEquals(event.tags?.step, 'create_row');
  assertEquals(event.tags?.session_id, 'unknown');
  assertEquals(event.fingerprint, ['scraping-session-failed', 'https://down.example.com/']);
  assertEquals(event.exception?.values?.[0]?.type, 'DatabaseError');
  assertEquals(errorResponse(error).status, 503);
});

test('scrape-session-manager under Deno.serve: 201, 400 with the field, 500 for a missing variable', async () => {
  const controller = new AbortController();
  const server = serve(handleScrapeSession, { port: 0, hostname: '127.0.0.1', signal: controller.signal });
  const url = `http://127.0.0.1:${server.addr.port}/`;
  try {
    const ok = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ source_url: 'https://served.example.com/' }) });
    assertEquals(ok.status, 201);
    await ok.body?.cancel();
    const bad = await fetch(url, { method: 'POST', body: '{"source_url": ' });
    assertEquals(bad.status, 400);
    assertEquals((await bad.json()).field, 'body');
    const before = (await sentryEvents()).length;
    const broken = await withEnv({ KAI_JOBS_BOARD_URL: '' }, () =>
      fetch(url, { method: 'POST', body: JSON.stringify({ source_url: 'https://served.example.com/' }) }),
    );
    assertEquals(broken.status, 500);
    assertMatch((await broken.json()).message, /KAI_JOBS_BOARD_URL: is not set/);
    const events = await sentryEvents();
    assertEquals(events.length, before + 1);
    assertEquals(events[events.length - 1]?.tags?.step, 'config');
  } finally {
    controller.abort();
    await server.finished;
  }
});
