/**
 * A 500-page shop for the scrape benchmark, served on 127.0.0.1 from its own process (so the
 * server's work does not land on the crawler's event loop). Prints its port on stdout.
 * Page i links to pages 2i+1 and 2i+2 (so every page is reachable within 9 hops), to the
 * home page and to three pseudo-random pages; every third page describes a product in JSON-LD.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const PAGES = Number(process.argv[2] ?? 500);
const filler = 'Porcelain stoneware tiles with a matt finish, rectified edges and frost resistance. '.repeat(60);

function pageHtml(index: number): string {
  const links = [2 * index + 1, 2 * index + 2, 0, (index * 7 + 3) % PAGES, (index * 13 + 5) % PAGES, (index * 31 + 11) % PAGES]
    .filter((target) => target < PAGES)
    .map((target) => `<li><a href="/p/${target}">Page ${target}</a></li>`)
    .join('');
  const product =
    index % 3 === 0
      ? `<script type="application/ld+json">${JSON.stringify({ '@context': 'https://schema.org', '@type': 'Product', name: `Tile ${index}`, sku: `T-${index}`, brand: { name: 'Stonecraft' }, offers: { price: (index % 90) + 9.5, priceCurrency: 'EUR' } })}</script>`
      : '';
  return `<!doctype html><html><head><title>Page ${index}</title>${product}</head><body><nav><ul>${links}</ul></nav><main><h1>Page ${index}</h1><p>${filler}</p></main></body></html>`;
}

const pages = Array.from({ length: PAGES }, (_, index) => pageHtml(index));
const server = createServer((request, response) => {
  const match = /^\/p\/(\d+)$/.exec(request.url ?? '');
  if (request.url === '/robots.txt') {
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.end('User-agent: *\nDisallow: /admin\n');
    return;
  }
  const page = match === null ? undefined : pages[Number(match[1])];
  if (page === undefined) {
    response.writeHead(404, { 'content-type': 'text/html' });
    response.end('<title>404</title>');
    return;
  }
  response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  response.end(page);
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
