import { afterEach, describe, expect, it } from 'vitest';
import { createPdfJob, InMemoryMaterialStore, stageOutputsOf, type PdfJobOptions, type StageDefinition } from '@kai-jobs/workers';
import { createTestStageContext } from '@kai-jobs/workers/testing';
import { makeCataloguePdf } from './fixtures/pdfs.js';
import { startTestServer, type TestServer } from './fixtures/http-server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const catalogue = await makeCataloguePdf();

async function loadFromUrl(url: string, options: Partial<PdfJobOptions> = {}) {
  // The test servers listen on 127.0.0.1, which the SSRF guard refuses unless allowed.
  const stage = createPdfJob({ materialStore: new InMemoryMaterialStore(), urlGuard: { allow: ['127.0.0.1'] }, ...options }).stages[0] as StageDefinition<'pdf'>;
  const ctx = createTestStageContext({ type: 'pdf', stage: 'pdf_loaded', payload: { documentId: 'doc-url', source: { kind: 'url', url } } });
  try {
    return await stage.run(ctx, stageOutputsOf(new Map()));
  } finally {
    await ctx.close();
  }
}

describe('pdf_loaded from an http(s) URL', () => {
  it('downloads, follows a redirect, and loads the PDF', async () => {
    server = await startTestServer((request, response) => {
      if (request.url === '/old.pdf') {
        response.writeHead(302, { location: '/files/catalogue.pdf?token=secret' });
        response.end();
        return;
      }
      response.writeHead(200, { 'content-type': 'application/pdf' });
      response.end(catalogue);
    });
    expect(await loadFromUrl(`${server.url}/old.pdf`)).toMatchObject({ sourceKind: 'url', pageCount: 3, bytes: catalogue.byteLength });
    expect(server.requests.map((request) => request.url)).toEqual(['/old.pdf', '/files/catalogue.pdf?token=secret']);
  });

  it('fails permanently on 404, and says so without the query string', async () => {
    server = await startTestServer((_request, response) => {
      response.writeHead(404);
      response.end('no such file');
    });
    const failure = loadFromUrl(`${server.url}/missing.pdf?token=secret`);
    await expect(failure).rejects.toMatchObject({ name: 'PermanentJobError', retryable: false });
    await expect(failure).rejects.toThrow(/missing\.pdf answered HTTP 404/);
    await expect(failure).rejects.not.toThrow(/secret/);
  });

  it('fails retryably on 503', async () => {
    server = await startTestServer((_request, response) => {
      response.writeHead(503);
      response.end();
    });
    await expect(loadFromUrl(`${server.url}/busy.pdf`)).rejects.toMatchObject({ name: 'SourceUnavailableError', code: 'PDF_SOURCE_UNAVAILABLE', retryable: true });
  });

  it('refuses a body over download.maxBytes, by Content-Length or while streaming', async () => {
    server = await startTestServer((request, response) => {
      if (request.url === '/declared.pdf') {
        response.writeHead(200, { 'content-length': String(catalogue.byteLength) });
        response.end(catalogue);
        return;
      }
      // Chunked, no Content-Length: only counting the stream catches it.
      response.writeHead(200, { 'content-type': 'application/pdf' });
      response.write(catalogue.subarray(0, 1000));
      response.end(catalogue.subarray(1000));
    });
    const options = { download: { maxBytes: 1500 } };
    await expect(loadFromUrl(`${server.url}/declared.pdf`, options)).rejects.toThrow(new RegExp(`${catalogue.byteLength} bytes, over the limit of 1500`));
    await expect(loadFromUrl(`${server.url}/streamed.pdf`, options)).rejects.toThrow(/more than 1500 bytes, over the limit of 1500/);
  });

  it('gives up after download.timeoutMs on a server that never answers, retryably', async () => {
    server = await startTestServer(() => {
      // never answers
    });
    const failure = loadFromUrl(`${server.url}/slow.pdf`, { download: { timeoutMs: 300 } });
    await expect(failure).rejects.toMatchObject({ name: 'SourceUnavailableError', retryable: true });
    await expect(failure).rejects.toThrow(/did not finish within 300 ms/);
  });

  it('gives up on a body that stalls halfway', async () => {
    server = await startTestServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/pdf' });
      response.write(catalogue.subarray(0, 500)); // and never the rest
    });
    await expect(loadFromUrl(`${server.url}/stall.pdf`, { download: { timeoutMs: 300 } })).rejects.toThrow(/did not finish within 300 ms/);
  });

  it('refuses an HTML page served instead of the PDF', async () => {
    server = await startTestServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<!doctype html><title>Login</title>');
    });
    const failure = loadFromUrl(`${server.url}/login`);
    await expect(failure).rejects.toMatchObject({ name: 'PermanentJobError', retryable: false });
    await expect(failure).rejects.toThrow(/login is HTML \(Content-Type text\/html\), not a PDF/);
    // The kind of content, never its bytes.
    await expect(failure).rejects.not.toThrow(/doctype|Login|title/);
  });

  it('goes through the SSRF guard: refused without an allow entry, and at a redirect to a refused address', async () => {
    server = await startTestServer((request, response) => {
      response.writeHead(302, { location: 'http://127.0.0.2:1/private.pdf' });
      response.end();
    });
    const refused = loadFromUrl(`${server.url}/doc.pdf`, { urlGuard: { allow: [] } });
    await expect(refused).rejects.toMatchObject({ name: 'PermanentJobError', retryable: false });
    await expect(refused).rejects.toThrow(/refused by the SSRF guard: address 127\.0\.0\.1 is loopback/);
    expect(server.requests).toHaveLength(0);
    const redirected = loadFromUrl(`${server.url}/doc.pdf`);
    await expect(redirected).rejects.toThrow(/refused by the SSRF guard at the redirect to http:\/\/127\.0\.0\.2:1\/private\.pdf: address 127\.0\.0\.2 is loopback/);
    expect(server.requests).toHaveLength(1);
  });
});
