import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { scanDecodedSize, streamFilters } from '@kai-jobs/workers';
import { makeCataloguePdf } from './fixtures/pdfs.js';
import { makeZipBombPdf } from './fixtures/hostile-pdfs.js';

const MIB = 1024 * 1024;

/** A file of one stream object with `dictionary` entries and `data` (not a whole PDF: the scan needs none). */
function streamObject(dictionary: string, data: Uint8Array | string, options: { length?: string } = {}): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data, 'latin1') : Buffer.from(data);
  return Buffer.concat([
    Buffer.from(`%PDF-1.7\n4 0 obj\n<< /Length ${options.length ?? body.length} ${dictionary} >>\nstream\n`, 'latin1'),
    body,
    Buffer.from('\nendstream\nendobj\n', 'latin1'),
  ]);
}

describe('scanDecodedSize', () => {
  it('stops a 1 GiB zip bomb as soon as the budget is spent, holding no more than a chunk', async () => {
    const bomb = await makeZipBombPdf(1024 * MIB, { doubleFlate: true });
    expect(bomb.length).toBeLessThan(64 * 1024);
    const before = process.memoryUsage().rss;
    const scan = await scanDecodedSize(bomb, 64 * MIB);
    expect(scan).toMatchObject({ overBudget: true, streams: 1 });
    expect(scan.decodedBytes).toBeGreaterThan(64 * MIB);
    expect(scan.decodedBytes).toBeLessThan(65 * MIB);
    // The decoded bytes are counted and dropped, never held.
    expect(process.memoryUsage().rss - before).toBeLessThan(48 * MIB);
  });

  it('measures an ordinary document exactly and within budget', async () => {
    const content = 'BT /F1 12 Tf 72 720 Td (Marble) Tj ET';
    const scan = await scanDecodedSize(streamObject('/Filter /FlateDecode', deflateSync(content)), MIB);
    expect(scan).toEqual({ streams: 1, decodedBytes: content.length, overBudget: false, encrypted: false });
    const catalogue = await scanDecodedSize(await makeCataloguePdf(), 16 * MIB);
    expect(catalogue.overBudget).toBe(false);
    expect(catalogue.streams).toBeGreaterThan(0);
  });

  it('decodes every lossless filter and chains of them', async () => {
    // PDF 32000-1 §7.4.4.2's LZW example: 80 0B 60 50 22 0C 0C 85 01 decodes to "-----A---B".
    expect((await scanDecodedSize(streamObject('/Filter /LZWDecode', Buffer.from('800B6050220C0C8501', 'hex')), MIB)).decodedBytes).toBe(10);
    // RunLength: copy 3 literal bytes, then repeat "x" 257 − 253 = 4 times, then end of data.
    expect((await scanDecodedSize(streamObject('/Filter /RL', Buffer.from([2, 0x61, 0x62, 0x63, 253, 0x78, 128])), MIB)).decodedBytes).toBe(7);
    expect((await scanDecodedSize(streamObject('/Filter /ASCIIHexDecode', '48656c6c6f>'), MIB)).decodedBytes).toBe(5);
    expect((await scanDecodedSize(streamObject('/Filter /A85', 'F*2M7~>'), MIB)).decodedBytes).toBe(4);
    // A chain: hex of a Flate stream; the intermediate output counts too.
    const inner = deflateSync(Buffer.alloc(100_000, 0x20));
    const chained = await scanDecodedSize(streamObject('/Filter [/AHx /Fl]', `${inner.toString('hex')}>`), MIB);
    expect(chained.decodedBytes).toBe(inner.length + 100_000);
    // An indirect /Length is resolved.
    const indirect = Buffer.concat([streamObject('/Filter /FlateDecode', deflateSync(Buffer.alloc(5000)), { length: '9 0 R' }), Buffer.from(`9 0 obj\n${deflateSync(Buffer.alloc(5000)).length}\nendobj\n`)]);
    expect((await scanDecodedSize(indirect, MIB)).decodedBytes).toBe(5000);
  });

  it('keeps measuring when the file only claims to be encrypted', async () => {
    const fake = Buffer.concat([Buffer.from('% /Encrypt\n'), streamObject('/Filter /FlateDecode', deflateSync(Buffer.alloc(2 * MIB)))]);
    expect(await scanDecodedSize(fake, MIB)).toMatchObject({ overBudget: true, encrypted: true });
  });

  it('reads filter names, abbreviations expanded', () => {
    expect(streamFilters('<< /Length 5 /Filter [/AHx /Fl] >>')).toEqual(['ASCIIHexDecode', 'FlateDecode']);
    expect(streamFilters('<< /Filter/DCTDecode /Length 5 >>')).toEqual(['DCTDecode']);
    expect(streamFilters('<< /Length 5 >>')).toEqual([]);
  });
});
