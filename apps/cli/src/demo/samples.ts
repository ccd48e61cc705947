/**
 * The demo's sample inputs, made on the spot with the same generators the processors' own
 * tests use (pdf-lib PDFs, a small HTML site with JSON-LD products, a product feed), so the
 * demo runs real work of each type with nothing to download.
 */
import { makeCataloguePdf, makeLongPdf } from '@kai-jobs/workers/fixtures/pdfs';
import { html, jsonLd, page, startTestSite, type TestSite } from '@kai-jobs/workers/fixtures/test-site';
import { feedText, PRODUCT_MAPPING } from '@kai-jobs/workers/fixtures/feeds';

export { PRODUCT_MAPPING };

/** A 3-page catalogue with materials on it (marble, porcelain, oak). */
export async function samplePdf(): Promise<Buffer> {
  return makeCataloguePdf();
}

/** A PDF of `pages` pages: rendering its tiles takes long enough to be caught in the middle. */
export async function longPdf(pages: number): Promise<Buffer> {
  return makeLongPdf(pages);
}

/** A feed of `products` products, every 25th invalid (a price that is not a number). */
export function sampleFeed(products: number): string {
  return feedText(products, 25);
}

/** A small shop on 127.0.0.1: a home page linking three product pages (two with JSON-LD products) and a missing one. */
export async function startSampleSite(): Promise<TestSite> {
  return startTestSite({
    '/': html(page('Stone & Wood — surfaces', 'Tiles, slabs and planks for floors and walls.', ['/tiles/carrara', '/tiles/statuario', '/wood/oak', '/discontinued'])),
    '/robots.txt': (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('User-agent: *\nAllow: /\n');
    },
    '/tiles/carrara': html(page('Carrara marble tile', '60x60 cm, polished, 10 mm.', ['/'], jsonLd({ '@type': 'Product', name: 'Carrara marble tile', sku: 'CAR-6060', offers: { '@type': 'Offer', price: '89.00', priceCurrency: 'EUR' } }))),
    '/tiles/statuario': html(page('Statuario porcelain slab', '120 x 60 cm, matt, white.', ['/'], jsonLd({ '@type': 'Product', name: 'Statuario porcelain slab', sku: 'STA-12060' }))),
    '/wood/oak': html(page('Natural oak plank', '1200 x 200 mm, oiled, 14 mm.', ['/'])),
  });
}
export type { TestSite };
