import { beforeAll, describe, expect, it } from 'vitest';
import { loadPdfjs, openPdfDocument, PdfUnreadableError, scanDecodedSize } from '@kai-jobs/workers';
import { makeStandardEncryptedPdf, STANDARD_CIPHERS, textPage, type PageContent } from './fixtures/encrypted-pdfs.js';
import { deflateRepeated } from './fixtures/hostile-pdfs.js';

const MIB = 1024 * 1024;
const CIPHER_NAMES = { 'rc4-40': 'RC4', 'rc4-128': 'RC4', aesv2: 'AESV2', aesv3: 'AESV3', 'aesv3-r5': 'AESV3' } as const;

/** The text of every page, as pdf.js reads it with `password` (the job gives none). */
async function pdfjsText(bytes: Buffer, password?: string): Promise<string[]> {
  const pdfjs = await loadPdfjs();
  const document =
    password === undefined
      ? await openPdfDocument(bytes)
      : await pdfjs.getDocument({ data: new Uint8Array(bytes), password, isEvalSupported: false, verbosity: pdfjs.VerbosityLevel.ERRORS }).promise;
  try {
    const pages: string[] = [];
    for (let number = 1; number <= document.numPages; number++) {
      const content = await (await document.getPage(number)).getTextContent();
      pages.push(content.items.map((item) => ('str' in item ? item.str : '')).join(''));
    }
    return pages;
  } finally {
    await document.destroy();
  }
}

/** Two text pages (Flate) and one unfiltered page: every way the scan counts bytes. */
const PAGES: PageContent[] = [textPage('Carrara marble 60x60'), textPage('Basalt paving 40x40'), { data: Buffer.from('BT /F1 12 Tf 72 700 Td (Plain page) Tj ET', 'latin1') }];

describe('encrypted PDFs (standard security handler, empty user password)', () => {
  let bomb: Buffer;
  beforeAll(async () => {
    // Flate of 1 GiB of zeros: ~1 MiB stored.
    bomb = await deflateRepeated(new Uint8Array([0]), 1024 * MIB);
  }, 120_000);

  it.each(STANDARD_CIPHERS)('the %s fixture is a document pdf.js opens without a password, and with the owner password', async (cipher) => {
    const bytes = makeStandardEncryptedPdf(PAGES, { cipher, ownerPassword: 'owner-secret' });
    expect(bytes.includes('/Encrypt 5 0 R')).toBe(true);
    // The content is really ciphertext: the plain text is not in the file.
    expect(bytes.includes('Plain page')).toBe(false);
    const expected = ['Carrara marble 60x60', 'Basalt paving 40x40', 'Plain page'];
    expect(await pdfjsText(bytes)).toEqual(expected);
    expect(await pdfjsText(bytes, 'owner-secret')).toEqual(expected);
    await expect(pdfjsText(bytes, 'wrong')).rejects.toMatchObject({ name: 'PasswordException' });
  });

  it.each(STANDARD_CIPHERS)('%s: the scan decrypts and measures the same decoded total as the document unencrypted', async (cipher) => {
    const plain = await scanDecodedSize(makeStandardEncryptedPdf(PAGES), MIB);
    expect(plain).toMatchObject({ streams: 4, overBudget: false, encrypted: false });
    const scan = await scanDecodedSize(makeStandardEncryptedPdf(PAGES, { cipher }), MIB);
    expect(scan).toEqual({ streams: 4, decodedBytes: plain.decodedBytes, overBudget: false, encrypted: true, cipher: CIPHER_NAMES[cipher] });
  });

  it.each(['aesv2', 'aesv3'] as const)('%s with /EncryptMetadata false: the clear metadata stream is measured as stored; pdf.js opens it', async (cipher) => {
    const plain = await scanDecodedSize(makeStandardEncryptedPdf(PAGES), MIB);
    const bytes = makeStandardEncryptedPdf(PAGES, { cipher, encryptMetadata: false });
    expect(bytes.includes('x:xmpmeta')).toBe(true);
    expect(await scanDecodedSize(bytes, MIB)).toMatchObject({ decodedBytes: plain.decodedBytes, overBudget: false });
    expect(await pdfjsText(bytes)).toHaveLength(3);
  });

  it.each(STANDARD_CIPHERS)('%s: an encrypted zip bomb (Flate of 1 GiB of zeros) is over maxDecodedBytes at once, with flat memory', { timeout: 60_000 }, async (cipher) => {
    const bytes = makeStandardEncryptedPdf([{ data: bomb, filters: ['FlateDecode'] }], { cipher });
    const started = Date.now();
    const before = process.memoryUsage().rss;
    const scan = await scanDecodedSize(bytes, 64 * MIB);
    expect(scan).toMatchObject({ overBudget: true, encrypted: true, cipher: CIPHER_NAMES[cipher] });
    expect(scan.decodedBytes).toBeGreaterThan(64 * MIB);
    expect(scan.decodedBytes).toBeLessThan(65 * MIB);
    expect(process.memoryUsage().rss - before).toBeLessThan(48 * MIB);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a user password (the empty one does not open it) fails as pdf.js would, without measuring', async () => {
    const bytes = makeStandardEncryptedPdf(PAGES, { cipher: 'aesv2' });
    // Another document's /U: the empty password's check fails.
    const other = makeStandardEncryptedPdf(PAGES, { cipher: 'aesv2' }).toString('latin1');
    const foreignU = /\/U (<[0-9a-f]+>)/.exec(other)?.[1] as string;
    const locked = Buffer.from(bytes.toString('latin1').replace(/\/U <[0-9a-f]+>/, `/U ${foreignU}`), 'latin1');
    const error = await scanDecodedSize(locked, MIB).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PdfUnreadableError);
    expect(error).toMatchObject({ reason: 'encrypted', retryable: false, message: expect.stringMatching(/needs a password/) });
    // pdf.js agrees.
    await expect(openPdfDocument(locked)).rejects.toMatchObject({ reason: 'encrypted' });
  });

  it('a security handler other than /Standard fails at once, naming it; pdf.js cannot open it either', async () => {
    const bytes = makeStandardEncryptedPdf(PAGES, { cipher: 'rc4-128' });
    const publicKey = Buffer.from(bytes.toString('latin1').replace('/Filter /Standard', '/Filter /Adobe.PubSec'), 'latin1');
    const error = await scanDecodedSize(publicKey, MIB).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PdfUnreadableError);
    expect(error).toMatchObject({ reason: 'encrypted', retryable: false, message: expect.stringMatching(/security handler is \/Adobe\.PubSec/) });
    // pdf.js: "unknown encryption method" (kept on the cause; the reason names only pdf.js's error class).
    await expect(openPdfDocument(publicKey)).rejects.toMatchObject({ cause: { message: expect.stringMatching(/unknown encryption method/) } });
  });

  it('an /Encrypt dictionary cannot hide a bomb stored in the clear: streams are measured as stored too', { timeout: 60_000 }, async () => {
    // A clear bomb document followed by an encrypted one, whose trailer (the newest) has a real
    // /Encrypt: decrypted, the bomb is noise; as stored it is 1 GiB, and that is measured too.
    const bytes = makeStandardEncryptedPdf([{ data: bomb, filters: ['FlateDecode'] }]);
    const forged = Buffer.concat([bytes, Buffer.from(makeStandardEncryptedPdf(PAGES, { cipher: 'rc4-128' }).toString('latin1').replace(/^%PDF-1\.7\n/, ''), 'latin1')]);
    expect(await scanDecodedSize(forged, 64 * MIB)).toMatchObject({ overBudget: true, cipher: 'RC4' });
  });
});
