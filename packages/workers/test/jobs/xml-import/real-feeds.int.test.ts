import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { PayloadInput, XmlImportResult } from '@kai-jobs/queue';
import { useRedisTestContext } from '@kai-jobs/queue/testing';
import { createXmlImportJob, RedisProductStore } from '@kai-jobs/workers';
import { runStagesForTest } from '@kai-jobs/workers/testing';
import { writeTempFeed } from './fixtures/feeds.js';
import { merchantAtomFeed, merchantRssFeed, utf16, windows1252 } from './fixtures/real-feeds.js';
import { runFeedFetched, tempArtifacts } from './helpers.js';

// Feeds in the shapes real suppliers send, each imported through the real job (both stages)
// into the real Redis product store; every count and every failure reason is exact.
const redisContext = useRedisTestContext(import.meta.url);

type Payload = Omit<PayloadInput<'xml-import'>, 'importJobId' | 'source'>;

async function importFeed(feed: string | Buffer, payload: Payload) {
  const store = new RedisProductStore({ connection: redisContext.connection(), prefix: redisContext.prefix });
  const job = createXmlImportJob({ fileRoot: tmpdir(), productStore: store });
  const full = { importJobId: `imp-${payload.sourceName}`, source: { kind: 'file' as const, path: writeTempFeed(feed) }, ...payload };
  const { result } = await runStagesForTest(job, { type: 'xml-import', payload: full });
  return { result: result as XmlImportResult, store };
}

describe('Google Merchant Center feeds (preset google-merchant)', () => {
  it('imports an RSS 2.0 feed: amounts with currencies, fallbacks, lists, units; a required price', async () => {
    const { result, store } = await importFeed(merchantRssFeed(), { sourceName: 'merchant-rss', preset: 'google-merchant' });
    expect(result).toMatchObject({ totalProducts: 7, processedProducts: 3, failedProducts: 4 });
    expect(result.failures).toEqual([
      { record: 3, sku: 'TV-3', error: 'price: must not be empty' },
      { record: 4, sku: 'TV-4', error: 'price: expected an amount with an ISO 4217 currency like 170.19 EUR (got "12,50 EUR")' },
      {
        record: 5,
        sku: 'TV-5',
        error: 'availability: expected one of: in stock, out of stock, preorder, backorder (got "maybe")'
          + '; gtin: GTIN check digit is wrong (got "4006381333932")',
      },
      { record: 6, sku: 'TV-6', error: 'price: missing (no price in the record)' },
    ]);
    expect(await store.count('merchant-rss')).toBe(3);
    expect(await store.get('merchant-rss', 'TV-1')).toEqual({
      sku: 'TV-1',
      name: 'LG 22LB4510 TV',
      description: 'Attractively styled and boasting stunning picture quality.',
      url: 'https://shop.example/tv-1?utm=feed&x=1',
      imageLink: 'https://img.example/tv-1.jpg',
      additionalImageLinks: ['https://img.example/tv-1b.jpg', 'https://img.example/tv-1c.jpg'],
      price: 170.19,
      currency: 'EUR',
      salePrice: 149,
      salePriceCurrency: 'EUR',
      availability: 'in stock',
      condition: 'new',
      brand: 'LG',
      gtin: '4006381333931',
      mpn: '22LB4510/US',
      productType: ['Electronics > TVs', 'Home > Living room'],
      googleProductCategory: '404',
      shippingWeightKg: 2.5,
    });
    // Plain <title> and <link> when the g: elements are absent; ounces converted to kilograms.
    expect(await store.get('merchant-rss', 'TV-2')).toEqual({
      sku: 'TV-2',
      name: 'Budget TV',
      url: 'https://shop.example/tv-2',
      price: 99,
      currency: 'USD',
      availability: 'out of stock',
      gtin: '036000291452',
      shippingWeightKg: 0.34019428,
    });
    expect(await store.get('merchant-rss', 'TV-7')).toMatchObject({ price: 5, currency: 'EUR', itemGroupId: 'TV' });
  });

  it('imports an Atom feed: <entry>, <link href>, <summary>, a code before the amount', async () => {
    const { result, store } = await importFeed(merchantAtomFeed(), { sourceName: 'merchant-atom', preset: 'google-merchant' });
    expect(result).toMatchObject({ totalProducts: 3, processedProducts: 2, failedProducts: 1 });
    expect(result.failures).toEqual([{ record: 3, sku: 'A-3', error: 'url: expected an http(s) URL (got "ftp://shop.example/a3")' }]);
    expect(await store.get('merchant-atom', 'A-1')).toEqual({
      sku: 'A-1',
      name: 'Three-seat sofa',
      description: 'Soft and deep.',
      url: 'https://shop.example/sofa',
      price: 499,
      currency: 'GBP',
      shippingWeightKg: 18.1436948,
      condition: 'refurbished',
    });
    expect(await store.get('merchant-atom', 'A-2')).toMatchObject({ price: 1299.5, currency: 'GBP', salePrice: 999, salePriceCurrency: 'GBP' });
  });

  it('takes --map style overrides on top of the preset: a bare path keeps the type, null drops a field', async () => {
    const { result, store } = await importFeed(merchantRssFeed(), {
      sourceName: 'merchant-override',
      preset: 'google-merchant',
      fieldMapping: { gtin: null, availability: null, price: 'g:sale_price', colour: 'g:color' },
    });
    // Without the gtin and availability checks TV-5 is valid; TV-2, TV-6 and TV-7 have no sale price, which is now required.
    expect(result).toMatchObject({ totalProducts: 7, processedProducts: 3, failedProducts: 4 });
    expect(result.failures.map((failure) => `${failure.sku}: ${failure.error}`)).toEqual([
      'TV-2: price: missing (no price in the record)',
      'TV-3: price: must not be empty',
      'TV-6: price: missing (no price in the record)',
      'TV-7: price: missing (no price in the record)',
    ]);
    expect(await store.get('merchant-override', 'TV-1')).toMatchObject({ price: 149, currency: 'EUR', colour: 'black' });
    const tv5 = await store.get('merchant-override', 'TV-5');
    expect(tv5).toMatchObject({ price: 20, currency: 'EUR' });
    expect(tv5).not.toHaveProperty('gtin');
  });
});

describe('other real feed shapes', () => {
  it('reads decimal commas, grouped thousands, units, split lists and required custom fields', async () => {
    const feed = `<?xml version="1.0" encoding="UTF-8"?>
<katalog>
  <artikel><nr>D-1</nr><bezeichnung>  Fliese   Anthrazit
     60x60 </bezeichnung><preis>1.234,50 EUR</preis><gewicht>1,5 kg</gewicht><bestand>1.200</bestand><tags>matt, rektifiziert ,</tags><ean>4006381333931</ean></artikel>
  <artikel><nr>D-2</nr><bezeichnung>Sockel</bezeichnung><preis waehrung="chf">12,5</preis><gewicht>750 g</gewicht><ean>96385074</ean></artikel>
  <artikel><nr>D-3</nr><bezeichnung>Kleber</bezeichnung><preis>12.50</preis><ean>036000291452</ean></artikel>
  <artikel><nr>D-4</nr><bezeichnung>Fuge</bezeichnung><preis>3,10</preis><gewicht>2 Pfund</gewicht><ean></ean></artikel>
</katalog>`;
    const { result, store } = await importFeed(feed, {
      sourceName: 'decimal-comma',
      recordElement: 'artikel',
      fieldMapping: {
        sku: 'nr',
        name: { path: 'bezeichnung', collapseWhitespace: true },
        price: { path: 'preis', type: 'money', decimalComma: true },
        currency: 'preis/@waehrung',
        weightKg: { path: 'gewicht', type: 'weight', decimalComma: true },
        stock: { path: 'bestand', type: 'integer', decimalComma: true },
        tags: { path: 'tags', list: true, separator: ',' },
        ean: { path: 'ean', type: 'gtin', required: true },
      },
    });
    expect(result).toMatchObject({ totalProducts: 4, processedProducts: 2, failedProducts: 2 });
    expect(result.failures).toEqual([
      { record: 3, sku: 'D-3', error: 'price: expected a non-negative number like 12,50 or 1.234,50 (got "12.50")' },
      { record: 4, sku: 'D-4', error: 'weightKg: expected a weight with its unit like 2,5 kg (g, kg, lb, oz) (got "2 Pfund"); ean: must not be empty' },
    ]);
    expect(await store.get('decimal-comma', 'D-1')).toEqual({
      sku: 'D-1',
      name: 'Fliese Anthrazit 60x60',
      price: 1234.5,
      currency: 'EUR',
      weightKg: 1.5,
      stock: 1200,
      tags: ['matt', 'rektifiziert'],
      ean: '4006381333931',
    });
    expect(await store.get('decimal-comma', 'D-2')).toEqual({ sku: 'D-2', name: 'Sockel', price: 12.5, currency: 'CHF', weightKg: 0.75, ean: '96385074' });
  });

  it('reads values from attributes instead of elements', async () => {
    const feed = `<catalog>
  <product sku="P-1" name="Chair" price="49.90" currency="EUR" stock="3"><image url="https://img.example/p1a.jpg"/><image url="https://img.example/p1b.jpg"/></product>
  <product sku="P-2" price="19.00" currency="EUR"/>
  <product sku="P-3" name="Lamp" price="x" currency="EUR"><image url="not a url"/></product>
</catalog>`;
    const { result, store } = await importFeed(feed, {
      sourceName: 'attributes',
      fieldMapping: {
        sku: '@sku',
        name: '@name',
        price: '@price',
        currency: '@currency',
        stock: '@stock',
        images: { path: 'image/@url', type: 'url', list: true },
      },
    });
    expect(result).toMatchObject({ totalProducts: 3, processedProducts: 1, failedProducts: 2 });
    expect(result.failures).toEqual([
      { record: 2, sku: 'P-2', error: 'name: missing (no name in the record)' },
      { record: 3, sku: 'P-3', error: 'price: expected an amount with an ISO 4217 currency like 170.19 EUR (got "x"); images[0]: expected an http(s) URL (got "not a url")' },
    ]);
    expect(await store.get('attributes', 'P-1')).toEqual({
      sku: 'P-1',
      name: 'Chair',
      price: 49.9,
      currency: 'EUR',
      stock: 3,
      images: ['https://img.example/p1a.jpg', 'https://img.example/p1b.jpg'],
    });
  });

  it('imports nested variants as products of their own, with the parent product’s values', async () => {
    const feed = `<products>
  <product id="SHIRT">
    <name>Linen shirt</name><price currency="EUR">39.00</price>
    <variants>
      <variant sku="SHIRT-S"><size>S</size></variant>
      <variant sku="SHIRT-M"><size>M</size><price currency="EUR">41.00</price></variant>
      <variant><size>L</size></variant>
    </variants>
    <brand>Acme</brand>
  </product>
  <product id="CAP"><sku>CAP-1</sku><name>Cap</name><price currency="EUR">9.50</price></product>
</products>`;
    const { result, store } = await importFeed(feed, {
      sourceName: 'variants',
      variantElement: 'variants/variant',
      fieldMapping: { sku: { path: ['@sku', 'sku'] }, price: 'price', currency: 'price/@currency', size: 'size', parent: '@id', brand: 'brand' },
    });
    expect(result).toMatchObject({ totalProducts: 4, processedProducts: 3, failedProducts: 1 });
    expect(result.failures).toEqual([{ record: 3, error: 'sku: missing (no SKU in the record)' }]);
    expect(await store.get('variants', 'SHIRT-S')).toEqual({ sku: 'SHIRT-S', name: 'Linen shirt', price: 39, currency: 'EUR', size: 'S', parent: 'SHIRT', brand: 'Acme' });
    expect(await store.get('variants', 'SHIRT-M')).toEqual({ sku: 'SHIRT-M', name: 'Linen shirt', price: 41, currency: 'EUR', size: 'M', parent: 'SHIRT', brand: 'Acme' });
    expect(await store.get('variants', 'CAP-1')).toEqual({ sku: 'CAP-1', name: 'Cap', price: 9.5, currency: 'EUR', parent: 'CAP' });
    expect(await store.count('variants')).toBe(3);
  });
});

describe('declared and marked encodings', () => {
  const names = (count: number) => Array.from({ length: count }, (_, index) => `Größe Ñandú café n° ${index + 1}`);

  it('reads an ISO-8859-1 feed', async () => {
    const body = names(3)
      .map((name, index) => `<product><sku>L-${index + 1}</sku><name>${name}</name><price>1.00</price></product>`)
      .join('');
    const feed = Buffer.from(`<?xml version="1.0" encoding="ISO-8859-1"?><products>${body}<product><sku>L-4</sku><name/></product></products>`, 'latin1');
    const { result, store } = await importFeed(feed, { sourceName: 'latin1', fieldMapping: { price: 'price' } });
    expect(result).toMatchObject({ totalProducts: 4, processedProducts: 3, failedProducts: 1 });
    expect(result.failures).toEqual([{ record: 4, sku: 'L-4', error: 'name: must not be empty' }]);
    expect((await store.get('latin1', 'L-2'))?.name).toBe('Größe Ñandú café n° 2');
  });

  it('reads a windows-1252 feed (€, dashes and quotes in 0x80–0x9F)', async () => {
    const feed = windows1252(
      '<?xml version="1.0" encoding="windows-1252"?><products>' +
        '<product><sku>W-1</sku><name>Fliese „Nord“ – 60×60, 12 € – ‘matt’</name></product>' +
        '<product><sku>W-2</sku><name>Œuvre</name><price>1,50</price></product></products>',
    );
    const { result, store } = await importFeed(feed, { sourceName: 'cp1252', fieldMapping: { price: 'price' } });
    expect(result).toMatchObject({ totalProducts: 2, processedProducts: 1, failedProducts: 1 });
    expect(result.failures).toEqual([{ record: 2, sku: 'W-2', error: 'price: expected a non-negative number like 12.50 (got "1,50")' }]);
    expect((await store.get('cp1252', 'W-1'))?.name).toBe('Fliese „Nord“ – 60×60, 12 € – ‘matt’');
  });

  it('lets a UTF-8 byte order mark win over a stale ISO-8859-1 declaration', async () => {
    const feed = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><products><product><sku>B-1</sku><name>Größe</name></product></products>')]);
    const { result, store } = await importFeed(feed, { sourceName: 'bom' });
    expect(result).toMatchObject({ totalProducts: 1, processedProducts: 1, failedProducts: 0 });
    expect((await store.get('bom', 'B-1'))?.name).toBe('Größe');
  });

  it('reads UTF-16 feeds, little- and big-endian, across read slices', async () => {
    // 3000 products: several 64 KiB slices, so characters are split between slices.
    const products = names(3000).map((name, index) => `<product><sku>U-${index + 1}</sku><name>${name} 東京 𝄞</name></product>`);
    const text = `<?xml version="1.0" encoding="UTF-16"?>\n<products>${products.join('\n')}<product><sku>U-bad</sku></product></products>`;
    for (const endian of ['le', 'be'] as const) {
      const { result, store } = await importFeed(utf16(text, endian), { sourceName: `utf16${endian}` });
      expect(result).toMatchObject({ totalProducts: 3001, processedProducts: 3000, failedProducts: 1 });
      expect(result.failures).toEqual([{ record: 3001, sku: 'U-bad', error: 'name: missing (no name in the record)' }]);
      expect((await store.get(`utf16${endian}`, 'U-2999'))?.name).toBe('Größe Ñandú café n° 2999 東京 𝄞');
      expect(await store.count(`utf16${endian}`)).toBe(3000);
    }
  });

  it('refuses an unknown or non-ASCII-compatible encoding permanently', async () => {
    const job = createXmlImportJob({ fileRoot: tmpdir(), productStore: new RedisProductStore({ connection: redisContext.connection(), prefix: redisContext.prefix }) });
    const base = { importJobId: 'imp-enc', sourceName: 'enc' };
    const unknown = runFeedFetched(job, { ...base, source: { kind: 'file', path: writeTempFeed('<?xml version="1.0" encoding="x-klingon"?><products/>') } }, tempArtifacts());
    await expect(unknown).rejects.toMatchObject({ name: 'PermanentJobError', retryable: false });
    await expect(unknown).rejects.toThrow(/^the feed declares encoding "x-klingon", which is not a known encoding; supported: UTF-8, UTF-16, ISO-8859-1/);
    const notAscii = runFeedFetched(job, { ...base, source: { kind: 'file', path: writeTempFeed('<?xml version="1.0" encoding="UTF-7"?><products/>') } }, tempArtifacts());
    await expect(notAscii).rejects.toThrow(/encoding "utf-7"/);
  });
});
