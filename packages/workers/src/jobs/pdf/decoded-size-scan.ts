/**
 * Measures how many bytes a PDF's streams decode to, with a budget, before pdf.js sees the
 * file. pdf.js decodes lazily and without bound (a 1 MB file of Flate streams that inflate to
 * 1 GiB took a worker to 4.8 GB RSS), and typed-array buffers are outside V8's heap, so no
 * `resourceLimits` catches them. Instead every stream in the file is found by a pass over the
 * raw bytes (streams may not live in object streams, so every one is at the top level, in
 * every incremental update), its lossless filters are decoded in chunks that are counted and
 * dropped, and the pass stops the moment the budget is spent. Memory stays at a chunk (plus the
 * intermediate output of a filter chain, itself within the budget, and for an encrypted
 * document one decrypted copy of the stream at hand, no larger than the file).
 *
 * Streams of a document encrypted with the standard security handler are decrypted first
 * (standard-security-handler.ts), with the key of the empty user password pdf.js opens it with.
 */
import { createInflate, constants as zlibConstants } from 'node:zlib';
import { PdfOpenFailure, PdfUnreadableError } from './pdfjs.js';
import { readEncryption, type StreamDecryptor } from './standard-security-handler.js';

/** What the scan found. */
export interface DecodedSizeScan {
  /** Streams found in the file. */
  streams: number;
  /** Decoded bytes counted (stops growing once over the budget). */
  decodedBytes: number;
  /** True when the budget was spent before the end of the file. */
  overBudget: boolean;
  /** True when the file mentions `/Encrypt` (a real encryption dictionary or not). */
  encrypted: boolean;
  /**
   * The stream cipher of a document encrypted with the standard security handler, whose
   * streams were decrypted (empty user password) before they were measured; absent otherwise.
   */
  cipher?: StreamDecryptor['cipher'];
}

/** Filters whose output size the scan measures by decoding. */
const LOSSLESS = new Set(['FlateDecode', 'LZWDecode', 'RunLengthDecode', 'ASCIIHexDecode', 'ASCII85Decode']);
/** PDF's abbreviations of filter names (inline images use them; some writers do in streams too). */
const ABBREVIATIONS: Record<string, string> = { Fl: 'FlateDecode', LZW: 'LZWDecode', RL: 'RunLengthDecode', AHx: 'ASCIIHexDecode', A85: 'ASCII85Decode', DCT: 'DCTDecode', CCF: 'CCITTFaxDecode' };

/** How far back from `stream` the object header may be (bytes); real stream dictionaries are a few hundred. */
const DICT_WINDOW = 64 * 1024;

class BudgetSpent extends Error {}

/** Counts decoded bytes against one budget for the whole document. */
class Budget {
  used = 0;
  /** Streams found by the pass counting against this budget. */
  streams = 0;
  constructor(readonly limit: number) {}
  spend(bytes: number): void {
    this.used += bytes;
    if (this.used > this.limit) throw new BudgetSpent();
  }
}

/** Decodes `data` through `filters` in order, counting the last filter's output against `budget`. */
async function measureStream(data: Uint8Array, filters: readonly string[], budget: Budget): Promise<void> {
  let current = data;
  for (let index = 0; index < filters.length; index++) {
    const filter = filters[index] as string;
    const last = index === filters.length - 1;
    if (!LOSSLESS.has(filter)) {
      // An image codec or an unknown filter: pdf.js's maxImageSize bounds what it decodes to.
      return;
    }
    // Intermediate outputs are kept (the next filter reads them) and count too.
    const chunks: Uint8Array[] = [];
    const sink = (chunk: Uint8Array): void => {
      budget.spend(chunk.byteLength);
      if (!last) chunks.push(chunk);
    };
    if (filter === 'FlateDecode') await inflateCounting(current, sink);
    else if (filter === 'LZWDecode') decodeLzw(current, sink);
    else if (filter === 'RunLengthDecode') decodeRunLength(current, sink);
    else if (filter === 'ASCIIHexDecode') sink(decodeAsciiHex(current));
    else sink(decodeAscii85(current));
    if (last) return;
    current = Buffer.concat(chunks);
  }
  if (filters.length === 0) budget.spend(current.byteLength);
}

/** Inflates with zlib off the main thread (libuv's pool), chunk by chunk; stops at the first error as pdf.js does. */
function inflateCounting(data: Uint8Array, sink: (chunk: Uint8Array) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const inflate = createInflate({ chunkSize: 64 * 1024, finishFlush: zlibConstants.Z_SYNC_FLUSH });
    let settled = false;
    const finish = (error?: unknown): void => {
      if (settled) return;
      settled = true;
      inflate.destroy();
      if (error instanceof BudgetSpent) reject(error);
      else resolve(); // corrupt or truncated data decodes to what came before the damage
    };
    inflate.on('data', (chunk: Buffer) => {
      try {
        sink(chunk);
      } catch (error) {
        finish(error);
      }
    });
    inflate.on('end', () => finish());
    inflate.on('error', (error) => finish(error));
    inflate.end(data);
  });
}

/** Output is flushed to `sink` in blocks of this size (bytes). */
const BLOCK = 64 * 1024;

function blockWriter(sink: (chunk: Uint8Array) => void): { push(byte: number): void; flush(): void } {
  let block = new Uint8Array(BLOCK);
  let length = 0;
  return {
    push(byte) {
      block[length++] = byte;
      if (length === BLOCK) {
        sink(block);
        block = new Uint8Array(BLOCK);
        length = 0;
      }
    },
    flush() {
      if (length > 0) sink(block.subarray(0, length));
      length = 0;
    },
  };
}

/** LZWDecode (EarlyChange 1, the default), as pdf.js decodes it. */
function decodeLzw(data: Uint8Array, sink: (chunk: Uint8Array) => void): void {
  const out = blockWriter(sink);
  const dictionary: (Uint8Array | null)[] = [];
  const reset = (): void => {
    dictionary.length = 258;
    for (let i = 0; i < 256; i++) dictionary[i] = Uint8Array.of(i);
  };
  reset();
  let bitBuffer = 0;
  let bits = 0;
  let codeLength = 9;
  let previous: Uint8Array | null = null;
  let position = 0;
  while (true) {
    while (bits < codeLength && position < data.length) {
      bitBuffer = ((bitBuffer << 8) | (data[position++] as number)) >>> 0;
      bits += 8;
    }
    if (bits < codeLength) break;
    const code = (bitBuffer >>> (bits - codeLength)) & ((1 << codeLength) - 1);
    bits -= codeLength;
    if (code === 256) {
      reset();
      codeLength = 9;
      previous = null;
      continue;
    }
    if (code === 257) break;
    let entry: Uint8Array;
    if (code < dictionary.length && dictionary[code]) entry = dictionary[code] as Uint8Array;
    else if (code === dictionary.length && previous !== null) {
      entry = new Uint8Array(previous.length + 1);
      entry.set(previous);
      entry[previous.length] = previous[0] as number;
    } else break; // corrupt
    for (const byte of entry) out.push(byte);
    if (previous !== null && dictionary.length < 4096) {
      const added = new Uint8Array(previous.length + 1);
      added.set(previous);
      added[previous.length] = entry[0] as number;
      dictionary.push(added);
    }
    previous = entry;
    const size = dictionary.length + 1; // EarlyChange 1
    codeLength = size >= 2048 ? 12 : size >= 1024 ? 11 : size >= 512 ? 10 : 9;
  }
  out.flush();
}

function decodeRunLength(data: Uint8Array, sink: (chunk: Uint8Array) => void): void {
  const out = blockWriter(sink);
  let position = 0;
  while (position < data.length) {
    const length = data[position++] as number;
    if (length === 128) break;
    if (length < 128) {
      for (let i = 0; i <= length && position < data.length; i++) out.push(data[position++] as number);
    } else {
      const byte = data[position++] ?? 0;
      for (let i = 0; i < 257 - length; i++) out.push(byte);
    }
  }
  out.flush();
}

function decodeAsciiHex(data: Uint8Array): Uint8Array {
  const text = Buffer.from(data).toString('latin1');
  const end = text.indexOf('>');
  const digits = (end < 0 ? text : text.slice(0, end)).replace(/[^0-9A-Fa-f]/g, '');
  return Buffer.from(digits.length % 2 === 1 ? `${digits}0` : digits, 'hex');
}

function decodeAscii85(data: Uint8Array): Uint8Array {
  const out: number[] = [];
  let group = 0;
  let count = 0;
  for (const byte of data) {
    if (byte === 0x7e) break; // ~>
    if (byte === 0x7a && count === 0) {
      out.push(0, 0, 0, 0);
      continue;
    }
    if (byte < 0x21 || byte > 0x75) continue;
    group = group * 85 + (byte - 0x21);
    if (++count === 5) {
      out.push((group >>> 24) & 0xff, (group >>> 16) & 0xff, (group >>> 8) & 0xff, group & 0xff);
      group = 0;
      count = 0;
    }
  }
  if (count > 1) {
    for (let i = count; i < 5; i++) group = group * 85 + 84;
    const tail = [(group >>> 24) & 0xff, (group >>> 16) & 0xff, (group >>> 8) & 0xff, group & 0xff];
    out.push(...tail.slice(0, count - 1));
  }
  return Uint8Array.from(out);
}

/** The filter names of a stream dictionary, in decoding order, abbreviations expanded. */
export function streamFilters(dictionary: string): string[] {
  const match = /\/Filter\s*(\[[^\]]*\]|\/[^\s/[\]<>()]+)/.exec(dictionary);
  if (match === null) return [];
  const names = (match[1] as string).match(/\/[^\s/[\]<>()]+/g) ?? [];
  return names.map((name) => {
    const bare = name.slice(1);
    return ABBREVIATIONS[bare] ?? bare;
  });
}

function isWhitespace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09 || byte === 0x0c || byte === 0x00;
}

/** The integer value of indirect object `number generation`, when the file defines one. */
function indirectInteger(file: Buffer, number: string, generation: string): number | undefined {
  const header = `${number} ${generation} obj`;
  let at = file.indexOf(header, 0, 'latin1');
  while (at >= 0) {
    if (at === 0 || isWhitespace(file[at - 1])) {
      const value = /^\s*(\d+)\s+endobj/.exec(file.subarray(at + header.length, at + header.length + 64).toString('latin1'));
      if (value !== null) return Number(value[1]);
    }
    at = file.indexOf(header, at + 1, 'latin1');
  }
  return undefined;
}

/** One pass over every stream of `file`, decrypting each with `decryptor` when given. */
async function scanStreams(file: Buffer, budget: Budget, decryptor: StreamDecryptor | undefined, signal?: AbortSignal): Promise<void> {
  let position = 0;
  while (true) {
    signal?.throwIfAborted();
    const keyword = file.indexOf('stream', position, 'latin1');
    if (keyword < 0) break;
    position = keyword + 6;
    // `endstream`, or `stream` inside a longer word, is not a stream's start.
    if (keyword >= 3 && file.toString('latin1', keyword - 3, keyword) === 'end') continue;
    let start = keyword + 6;
    if (file[start] === 0x0d && file[start + 1] === 0x0a) start += 2;
    else if (file[start] === 0x0a || file[start] === 0x0d) start += 1;
    else continue;
    const windowStart = Math.max(0, keyword - DICT_WINDOW);
    const header = file.lastIndexOf(' obj', keyword, 'latin1');
    const dictionary = file.toString('latin1', header >= windowStart ? header : windowStart, keyword);
    if (!/>>\s*$/.test(dictionary)) continue;
    budget.streams++;
    let end = -1;
    const length = /\/Length\s+(\d+)(?:\s+(\d+)\s+R)?/.exec(dictionary);
    if (length !== null) {
      const declared = length[2] === undefined ? Number(length[1]) : indirectInteger(file, length[1] as string, length[2]);
      // pdf.js trusts a /Length only when `endstream` follows it; so does the scan.
      if (declared !== undefined && start + declared <= file.length && /^\s*endstream/.test(file.toString('latin1', start + declared, start + declared + 16))) {
        end = start + declared;
      }
    }
    if (end < 0) {
      end = file.indexOf('endstream', start, 'latin1');
      if (end < 0) end = file.length;
    }
    position = end;
    let data: Uint8Array = file.subarray(start, end);
    if (decryptor !== undefined && header >= windowStart) {
      const id = /(\d+)\s+(\d+)$/.exec(file.toString('latin1', Math.max(0, header - 24), header));
      // pdf.js reads cross-reference streams before it decrypts anything, and leaves metadata
      // in the clear under /EncryptMetadata false.
      const clear = /\/Type\s*\/XRef\b/.test(dictionary) || (!decryptor.encryptMetadata && /\/Type\s*\/Metadata\b/.test(dictionary));
      if (id !== null && !clear) data = decryptor.decrypt(Number(id[1]), Number(id[2]), data);
    }
    await measureStream(data, streamFilters(dictionary), budget);
  }
}

/**
 * Finds every stream of `bytes` and measures its decoded size against `maxDecodedBytes`,
 * stopping as soon as the total is over it. `signal` stops the scan between streams.
 *
 * An encrypted document (standard security handler) has its streams decrypted with the key of
 * the empty user password, the one pdf.js is given, before they are measured; and, so that a
 * forged `/Encrypt` cannot hide a bomb stored in the clear, it is measured once more as
 * stored, with a budget of its own: over either budget is over.
 *
 * @throws PdfUnreadableError (`encrypted`) for a document that needs a password or uses a
 *   security handler pdf.js cannot open: it would fail to open anyway, so it is not measured.
 */
export async function scanDecodedSize(bytes: Uint8Array, maxDecodedBytes: number, signal?: AbortSignal): Promise<DecodedSizeScan> {
  const file = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const encrypted = file.includes('/Encrypt', 0, 'latin1');
  let decryptor: StreamDecryptor | undefined;
  if (encrypted) {
    const encryption = readEncryption(file);
    if (encryption.kind === 'needs-password') {
      throw new PdfUnreadableError(PdfOpenFailure.Encrypted, 'the PDF is encrypted and needs a password (the empty user password does not open it)');
    }
    if (encryption.kind === 'unsupported') {
      throw new PdfUnreadableError(PdfOpenFailure.Encrypted, `the PDF is encrypted in a way that cannot be opened: ${encryption.detail}`);
    }
    if (encryption.kind === 'standard') decryptor = encryption.decryptor;
  }
  const budget = new Budget(maxDecodedBytes);
  const cipher = decryptor === undefined ? {} : { cipher: decryptor.cipher };
  let counting = budget;
  try {
    await scanStreams(file, budget, decryptor, signal);
    if (decryptor !== undefined) {
      counting = new Budget(maxDecodedBytes);
      await scanStreams(file, counting, undefined, signal);
    }
  } catch (error) {
    if (error instanceof BudgetSpent) return { streams: counting.streams, decodedBytes: counting.used, overBudget: true, encrypted, ...cipher };
    throw error;
  }
  return { streams: budget.streams, decodedBytes: budget.used, overBudget: false, encrypted, ...cipher };
}
