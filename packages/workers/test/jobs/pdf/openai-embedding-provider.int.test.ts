import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@kai-jobs/queue/testing';
import { OpenAiEmbeddingProvider, type OpenAiEmbeddingProviderOptions } from '@kai-jobs/workers';
import { sendJson, startTestServer, type ReceivedRequest, type TestServer } from './fixtures/http-server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A fake embeddings endpoint: vector i of a request is [length of text i, i, 1]. */
function answer(request: ReceivedRequest): unknown {
  const { input } = request.body as { input: string[] };
  // Answered out of order on purpose: clients must sort by `index`.
  return { object: 'list', model: 'fake', data: input.map((text, index) => ({ object: 'embedding', index, embedding: [text.length, index, 1] })).reverse() };
}

function provider(options: Partial<OpenAiEmbeddingProviderOptions> = {}): OpenAiEmbeddingProvider {
  return new OpenAiEmbeddingProvider({
    baseUrl: `${(server as TestServer).url}/v1`,
    apiKey: 'sk-test-key',
    model: 'fake-embed',
    dimensions: 3,
    batchSize: 2,
    retryBaseDelayMs: 1,
    retryMaxDelayMs: 50,
    ...options,
  });
}

const signal = new AbortController().signal;

describe('OpenAiEmbeddingProvider against a local embeddings server', () => {
  it('POSTs {model, input} to /embeddings with a bearer key, in batches, and returns vectors in input order', async () => {
    server = await startTestServer((request, response) => sendJson(response, 200, answer(request)));
    const vectors = await provider().embed(['a', 'bb', 'ccc', 'dddd', 'eeeee'], signal);
    expect(vectors).toEqual([
      [1, 0, 1],
      [2, 1, 1],
      [3, 0, 1],
      [4, 1, 1],
      [5, 0, 1],
    ]);
    expect(server.requests).toHaveLength(3);
    expect(server.requests[0]).toMatchObject({
      method: 'POST',
      url: '/v1/embeddings',
      headers: { authorization: 'Bearer sk-test-key', 'content-type': 'application/json' },
      body: { model: 'fake-embed', input: ['a', 'bb'], encoding_format: 'float' },
    });
    expect(server.requests.map((request) => (request.body as { input: string[] }).input)).toEqual([['a', 'bb'], ['ccc', 'dddd'], ['eeeee']]);
  });

  it('retries a 429 (honouring Retry-After) and then succeeds', async () => {
    server = await startTestServer((request, response, index) => {
      if (index === 0) sendJson(response, 429, { error: { message: 'rate limited' } }, { 'retry-after': '0' });
      else sendJson(response, 200, answer(request));
    });
    expect(await provider().embed(['x'], signal)).toEqual([[1, 0, 1]]);
    expect(server.requests).toHaveLength(2);
  });

  it('retries 5xx and gives up after maxRetries with a retryable error naming the status', async () => {
    server = await startTestServer((_request, response) => sendJson(response, 502, { error: 'bad gateway' }));
    const failure = provider({ maxRetries: 2 }).embed(['x'], signal);
    await expect(failure).rejects.toMatchObject({ name: 'ProviderRequestError', code: 'PROVIDER_REQUEST_FAILED', status: 502, retryable: true });
    await expect(failure).rejects.toThrow(/HTTP 502.*gave up after 3 attempts/);
    expect(server.requests).toHaveLength(3);
  });

  it('does not retry a 401 and never puts the key in the error', async () => {
    server = await startTestServer((_request, response) => sendJson(response, 401, { error: { message: 'Incorrect API key provided' } }));
    const failure = provider().embed(['x'], signal);
    await expect(failure).rejects.toMatchObject({ name: 'ProviderRequestError', status: 401, retryable: false });
    await expect(failure).rejects.toThrow(/HTTP 401: .*Incorrect API key/);
    await expect(failure).rejects.not.toThrow(/sk-test-key/);
    expect(server.requests).toHaveLength(1);
  });

  it('times out a request that gets no answer, retries it, and succeeds when the server answers', async () => {
    server = await startTestServer((request, response, index) => {
      if (index === 0) return; // hangs
      sendJson(response, 200, answer(request));
    });
    expect(await provider({ timeoutMs: 200 }).embed(['yy'], signal)).toEqual([[2, 0, 1]]);
    expect(server.requests).toHaveLength(2);
  });

  it('fails retryably when every attempt times out', async () => {
    server = await startTestServer(() => undefined);
    const failure = provider({ timeoutMs: 150, maxRetries: 1 }).embed(['x'], signal);
    await expect(failure).rejects.toMatchObject({ name: 'ProviderRequestError', status: null, retryable: true });
    await expect(failure).rejects.toThrow(/no complete answer within 150 ms.*gave up after 2 attempts/);
  });

  it('refuses vectors of the wrong dimension or a missing index', async () => {
    server = await startTestServer((_request, response, index) =>
      sendJson(response, 200, index === 0 ? { data: [{ index: 0, embedding: [1, 2] }] } : { data: [{ index: 1, embedding: [1, 2, 3] }] }),
    );
    await expect(provider({ batchSize: 1 }).embed(['x'], signal)).rejects.toThrow(/returned 2 dimensions, configured 3/);
    await expect(provider({ batchSize: 1 }).embed(['x'], signal)).rejects.toThrow(/index 1 for 1 inputs/);
  });

  it('stops at once when the job is aborted mid-request', async () => {
    server = await startTestServer(() => undefined);
    const controller = new AbortController();
    const failure = provider({ timeoutMs: 60_000 }).embed(['x'], controller.signal);
    await waitFor(() => (server as TestServer).requests.length === 1);
    controller.abort(new Error('job cancelled'));
    await expect(failure).rejects.toThrow('job cancelled');
  });

  it('validates its options', () => {
    expect(() => new OpenAiEmbeddingProvider({ apiKey: '' })).toThrow(/apiKey/);
    expect(() => new OpenAiEmbeddingProvider({ apiKey: 'k', baseUrl: 'ftp://x' })).toThrow(/baseUrl/);
  });
});
