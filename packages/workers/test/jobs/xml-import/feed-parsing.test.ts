import { describe, expect, it } from 'vitest';
import { createProductValidator, FeedRecordReader, scanProlog, type RecordValues } from '@kai-jobs/workers';

/** Reads `xml` in small chunks; returns each record as field → values (absent fields left out). */
function read(xml: string, mapping: Record<string, string>, recordElement = 'product', chunk = 7): Record<string, string[]>[] {
  const records: RecordValues[] = [];
  const reader = new FeedRecordReader({ recordElement, fieldMapping: mapping, maxElementDepth: 32, onRecord: (values) => records.push(values) });
  for (let offset = 0; offset < xml.length; offset += chunk) reader.write(xml.slice(offset, offset + chunk));
  reader.end();
  return records.map((values) => Object.fromEntries(reader.fields.flatMap((field, index) => (values[index] === undefined ? [] : [[field, values[index]]]))));
}

describe('prolog scan', () => {
  it('needs more bytes until the root element, then reports encoding and doctype', () => {
    const text = '\xEF\xBB\xBF<?xml version="1.0" encoding="windows-1252"?>\n<!-- feed -->\n<!DOCTYPE catalog SYSTEM "catalog.dtd">\n<catalog>';
    expect(scanProlog(text.slice(0, 30), false)).toEqual({ done: false });
    // The UTF-8 byte order mark wins over the declaration.
    expect(scanProlog(text, false)).toEqual({ done: true, info: { encoding: 'utf-8', doctype: 'catalog' } });
    expect(scanProlog(text.slice(3), false)).toEqual({ done: true, info: { encoding: 'windows-1252', doctype: 'catalog' } });
    expect(scanProlog('<products/>', false)).toEqual({ done: true, info: { encoding: 'utf-8', doctype: null } });
  });

  it('refuses entity declarations as soon as they appear, even in an unfinished DOCTYPE', () => {
    expect(() => scanProlog('<!DOCTYPE x [\n  <!ENTITY a "', false)).toThrow(/declares entities/);
    expect(() => scanProlog('<!DOCTYPE x [ <!-- ]> --> <!entity b "x"> ]><x/>', false)).toThrow(/declares entities/);
    expect(() => scanProlog('<?xml version="1.0" encoding="UTF-16"?><x/>', false)).toThrow(/declares encoding "utf-16"/);
  });
});

describe('prolog scan of UTF-16 feeds', () => {
  const latin1Of = (bytes: Buffer) => bytes.toString('latin1');
  const le = (text: string, bom = true) => latin1Of(Buffer.concat([Buffer.from(bom ? [0xff, 0xfe] : []), Buffer.from(text, 'utf16le')]));
  const be = (text: string, bom = true) => latin1Of(Buffer.concat([Buffer.from(bom ? [0xfe, 0xff] : []), Buffer.from(text, 'utf16le').swap16()]));

  it('takes the byte order mark (or the first bytes) over the declaration, and waits for an odd trailing byte', () => {
    const prolog = '<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE rss>\n<rss>';
    expect(scanProlog(le(prolog), false)).toEqual({ done: true, info: { encoding: 'utf-16le', doctype: 'rss' } });
    expect(scanProlog(be(prolog), false)).toEqual({ done: true, info: { encoding: 'utf-16be', doctype: 'rss' } });
    expect(scanProlog(le(prolog, false), false)).toEqual({ done: true, info: { encoding: 'utf-16le', doctype: 'rss' } });
    expect(scanProlog(be(prolog, false), false)).toEqual({ done: true, info: { encoding: 'utf-16be', doctype: 'rss' } });
    expect(scanProlog(le('<?xml version="1.0"?>').slice(0, 13), false)).toEqual({ done: false });
  });

  it('refuses entity declarations in UTF-16 as in UTF-8', () => {
    expect(() => scanProlog(le('<!DOCTYPE x [<!ENTITY a "b">]><x/>'), false)).toThrow(/declares entities/);
    expect(() => scanProlog(be('<!DOCTYPE x [<!ENTITY a SYSTEM "file:///etc/passwd">]><x/>'), false)).toThrow(/declares entities/);
  });
});

describe('record reader', () => {
  it('maps element text, attributes, nested paths and repeats, across chunk boundaries', () => {
    const xml = `<?xml version="1.0"?><feed><meta><name>not a product</name></meta>
      <g:item id="7"><g:id>A-7</g:id><title>Tile <![CDATA[<60x60>]]> &amp; trim</title><price currency="EUR"> 9.90 </price>
        <images><image>a.jpg</image><other>x</other><image>b.jpg</image></images><nested><g:item>inner</g:item></nested></g:item>
      <g:item><g:id>A-8</g:id></g:item></feed>`;
    const records = read(xml, { sku: 'g:id', name: 'title', price: 'price', currency: 'price/@currency', ref: '@id', images: 'images/image' }, 'g:item');
    expect(records).toEqual([
      { sku: ['A-7'], name: ['Tile <60x60> & trim'], price: ['9.90'], currency: ['EUR'], ref: ['7'], images: ['a.jpg', 'b.jpg'] },
      { sku: ['A-8'] },
    ]);
  });

  it('reads several record element names, and each path of a field into a slot of its own', () => {
    const xml = '<feed><item><g:id>1</g:id><title>T1</title></item><entry><g:id>2</g:id><link href="https://x.example/2"/></entry></feed>';
    const records: RecordValues[] = [];
    const reader = new FeedRecordReader({
      recordElement: ['item', 'entry'],
      fieldMapping: { sku: 'g:id', url: ['g:link', 'link', 'link/@href'] },
      maxElementDepth: 8,
      onRecord: (values) => records.push(values),
    });
    reader.write(xml);
    reader.end();
    expect(reader.fields).toEqual(['sku', 'url', 'url', 'url']);
    expect(records).toEqual([[['1'], undefined, undefined, undefined], [['2'], undefined, [''], ['https://x.example/2']]]);
  });

  it('says why XML is malformed without echoing the names it read', () => {
    let message = '';
    try {
      read('<products>\n<AKIAsecretKey1234><sku>1</sku>\n</products>', { sku: 'sku' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^malformed XML at line 3, column \d+: unexpected close tag$/);
    expect(message).not.toMatch(/AKIA|secret/);
  });

  it('reports malformed XML with its line and column, and refuses deep nesting', () => {
    expect(() => read('<products>\n  <product><sku>1</sku>\n</products>', { sku: 'sku' })).toThrow(/^malformed XML at line 3, column 11: unexpected close tag/);
    expect(() => read('<products><product>&bogus;</product></products>', { sku: 'sku' })).toThrow(/malformed XML at line 1, column \d+: undefined entity/);
    expect(() => read('<a>'.repeat(40) + '</a>'.repeat(40), { sku: 'sku' })).toThrow(/deeper than 32 levels/);
  });

  it('refuses a DOCTYPE with entities even if it reaches the parser', () => {
    expect(() => read('<!DOCTYPE p [<!ENTITY x "y">]><products/>', { sku: 'sku' })).toThrow(/declares entities/);
  });
});

describe('product validation', () => {
  it('types known fields and keeps others as text', () => {
    const fields = ['sku', 'name', 'price', 'currency', 'stock', 'colour', 'finish', 'note'];
    const validateProduct = createProductValidator(fields);
    const values: RecordValues = [['S-1'], ['Tile'], ['12.50'], ['eur'], ['4'], ['white', 'grey'], ['matt'], undefined];
    const expected = { sku: 'S-1', name: 'Tile', price: 12.5, currency: 'EUR', stock: 4, colour: ['white', 'grey'], finish: 'matt' };
    expect(validateProduct(values)).toEqual({ ok: true, product: expected });
    expect(validateProduct([['S-2'], ['X'], undefined, undefined, ['-1']])).toEqual({ ok: false, sku: 'S-2', error: 'stock: expected a whole number (got "-1")' });
    expect(validateProduct([undefined, ['']])).toEqual({ ok: false, error: 'sku: missing (no SKU in the record); name: must not be empty' });
  });
});
