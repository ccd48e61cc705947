import { afterEach, describe, expect, it } from 'vitest';
import { AnthropicMaterialExtractor, MaterialSchema, type AnthropicMaterialExtractorOptions } from '@kai-jobs/workers';
import { sendJson, startTestServer, type TestServer } from './fixtures/http-server.js';
import { MARBLE_LINE } from './fixtures/pdfs.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const signal = new AbortController().signal;

function extractor(options: Partial<AnthropicMaterialExtractorOptions> = {}): AnthropicMaterialExtractor {
  return new AnthropicMaterialExtractor({
    baseUrl: (server as TestServer).url,
    apiKey: 'ak-test-key',
    model: 'fake-model',
    retryBaseDelayMs: 1,
    retryMaxDelayMs: 50,
    ...options,
  });
}

/** A Messages API answer whose text is `text`. */
const message = (text: string, stopReason = 'end_turn') => ({
  id: 'msg_1',
  type: 'message',
  role: 'assistant',
  model: 'fake-model',
  content: [{ type: 'text', text }],
  stop_reason: stopReason,
});

const MARBLE_ANSWER = JSON.stringify({
  materials: [
    { name: 'Carrara marble', material: 'marble', category: 'stone', dimensions: '60 x 60 cm', thicknessMm: 10, finish: 'Polished', colour: null, pages: [2, 99], excerpt: MARBLE_LINE },
    { name: 'Invented granite', category: 'stone', pages: [42] },
  ],
});

const pages = [
  { page: 1, text: 'Introduction.' },
  { page: 2, text: MARBLE_LINE },
];

describe('AnthropicMaterialExtractor against a local Messages API server', () => {
  it('sends the pages with x-api-key and anthropic-version, parses a fenced JSON answer, and normalises it', async () => {
    server = await startTestServer((_request, response) => sendJson(response, 200, message(`Here you are:\n\`\`\`json\n${MARBLE_ANSWER}\n\`\`\``)));
    const materials = await extractor().extract(pages, signal);
    expect(server.requests).toHaveLength(1);
    const request = server.requests[0];
    expect(request).toMatchObject({
      method: 'POST',
      url: '/v1/messages',
      headers: { 'x-api-key': 'ak-test-key', 'anthropic-version': '2023-06-01' },
      body: { model: 'fake-model', max_tokens: 4096 },
    });
    const body = request?.body as { system: string; messages: { role: string; content: string }[] };
    expect(body.system).toMatch(/JSON/);
    expect(body.messages[0]?.content).toContain(`<page number="2">\n${MARBLE_LINE}\n</page>`);
    // The invented material cites a page it was not shown: dropped. Page 99 likewise.
    expect(materials).toHaveLength(1);
    expect(MaterialSchema.parse(materials[0])).toMatchObject({
      key: 'carrara-marble-600x600mm-10mm-polished',
      name: 'Carrara marble',
      category: 'stone',
      dimensions: { text: '60x60 cm', valuesMm: [600, 600] },
      finish: 'polished',
      pages: [2],
      extractor: 'anthropic:fake-model',
    });
  });

  it('packs pages into requests of at most maxCharsPerRequest characters', async () => {
    server = await startTestServer((_request, response) => sendJson(response, 200, message('{"materials":[]}')));
    const long = Array.from({ length: 5 }, (_, index) => ({ page: index + 1, text: 'x'.repeat(600) }));
    expect(await extractor({ maxCharsPerRequest: 1300 }).extract(long, signal)).toEqual([]);
    const sent = server.requests.map((request) => [...(request.body as { messages: { content: string }[] }).messages[0]!.content.matchAll(/number="(\d+)"/g)].map((m) => Number(m[1])));
    expect(sent).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('retries a 429 and then succeeds', async () => {
    server = await startTestServer((_request, response, index) => {
      if (index === 0) sendJson(response, 429, { type: 'error', error: { type: 'rate_limit_error' } }, { 'retry-after': '0' });
      else sendJson(response, 200, message(MARBLE_ANSWER));
    });
    expect(await extractor().extract(pages, signal)).toHaveLength(1);
    expect(server.requests).toHaveLength(2);
  });

  it('retries a request that times out', async () => {
    server = await startTestServer((_request, response, index) => {
      if (index > 0) sendJson(response, 200, message(MARBLE_ANSWER));
    });
    expect(await extractor({ timeoutMs: 200 }).extract(pages, signal)).toHaveLength(1);
    expect(server.requests).toHaveLength(2);
  });

  it('refuses an answer that is not the JSON asked for (retryably) or was cut at max_tokens', async () => {
    server = await startTestServer((_request, response, index) =>
      sendJson(response, 200, index === 0 ? message('I found some marble.') : message('{"materials":[{"name":"x"', 'max_tokens')),
    );
    await expect(extractor().extract(pages, signal)).rejects.toMatchObject({ name: 'ProviderResponseError', code: 'PROVIDER_RESPONSE_INVALID', retryable: true });
    await expect(extractor().extract(pages, signal)).rejects.toThrow(/cut at maxTokens \(4096\)/);
  });

  it('does not retry a 400 and keeps the key out of the error', async () => {
    server = await startTestServer((_request, response) => sendJson(response, 400, { type: 'error', error: { message: 'model: unknown model' } }));
    const failure = extractor().extract(pages, signal);
    await expect(failure).rejects.toMatchObject({ name: 'ProviderRequestError', status: 400, retryable: false });
    await expect(failure).rejects.not.toThrow(/ak-test-key/);
    expect(server.requests).toHaveLength(1);
  });

  it('needs a model and a key', () => {
    expect(() => new AnthropicMaterialExtractor({ apiKey: 'k' } as AnthropicMaterialExtractorOptions)).toThrow(/model/);
  });
});
