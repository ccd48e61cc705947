/**
 * The PDF standard security handler, as far as the decoded-size scan needs it: find the
 * trailer's `/Encrypt` dictionary, derive the file key with the EMPTY user password (the only
 * one the PDF job ever gives pdf.js) and decrypt a stream given its object number and
 * generation. Without this an encrypted zip bomb is ciphertext to the scan (it fails to
 * inflate, so it counts little) and pdf.js, which does decrypt, then inflates all of it.
 *
 * Algorithms of ISO 32000-2 §7.6.4: R2–R4 (MD5 + RC4, or AES-128 "AESV2" with a per-object key)
 * and R5/R6 (AES-256 "AESV3", R6's hash algorithm 2.B), mirroring what pdf.js accepts
 * (`CipherTransformFactory`): the same /V values, key lengths and crypt filters. RC4 is written
 * here because OpenSSL 3 keeps it in the legacy provider, which Node does not load.
 */
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';

/** The 32-byte padding string of Algorithm 2 (an empty password is padded to exactly it). */
const PASSWORD_PADDING = Buffer.from('28bf4e5e4e758a4164004e56fffa01082e2e00b6d0683e802f0ca9fe6453697a', 'hex');

/** A parsed PDF object (only what an Encrypt or trailer dictionary holds). */
type PdfValue = number | boolean | null | Uint8Array | { name: string } | { ref: [number, number] } | PdfValue[] | Map<string, PdfValue>;

/** Reads one PDF object from `file` at `start`: just enough syntax for Encrypt and trailer dictionaries. */
class ObjectReader {
  private position: number;
  constructor(
    private readonly file: Buffer,
    start: number,
    /** Stops parsing runaway input: real Encrypt and trailer dictionaries are a few hundred bytes. */
    private readonly end = Math.min(file.length, start + 64 * 1024),
  ) {
    this.position = start;
  }

  private skipSpace(): void {
    while (this.position < this.end) {
      const byte = this.file[this.position] as number;
      if (byte === 0x25) {
        while (this.position < this.end && this.file[this.position] !== 0x0a && this.file[this.position] !== 0x0d) this.position++;
      } else if (byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09 || byte === 0x0c || byte === 0x00) this.position++;
      else return;
    }
  }

  private token(): string {
    const start = this.position;
    while (this.position < this.end && !/[\s/[\]<>()%]/.test(String.fromCharCode(this.file[this.position] as number))) this.position++;
    return this.file.toString('latin1', start, this.position);
  }

  read(): PdfValue {
    this.skipSpace();
    if (this.position >= this.end) throw new Error('unexpected end of object');
    const byte = this.file[this.position] as number;
    if (byte === 0x2f) {
      this.position++;
      return { name: this.token().replace(/#([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))) };
    }
    if (byte === 0x3c && this.file[this.position + 1] === 0x3c) {
      this.position += 2;
      const dictionary = new Map<string, PdfValue>();
      while (true) {
        this.skipSpace();
        if (this.file[this.position] === 0x3e && this.file[this.position + 1] === 0x3e) {
          this.position += 2;
          return dictionary;
        }
        const key = this.read();
        if (typeof key !== 'object' || key === null || !('name' in key)) throw new Error('dictionary key is not a name');
        dictionary.set(key.name, this.read());
      }
    }
    if (byte === 0x3c) {
      const close = this.file.indexOf(0x3e, this.position);
      if (close < 0 || close > this.end) throw new Error('unterminated hex string');
      const digits = this.file.toString('latin1', this.position + 1, close).replace(/[^0-9A-Fa-f]/g, '');
      this.position = close + 1;
      return Buffer.from(digits.length % 2 === 1 ? `${digits}0` : digits, 'hex');
    }
    if (byte === 0x28) return this.literalString();
    if (byte === 0x5b) {
      this.position++;
      const array: PdfValue[] = [];
      while (true) {
        this.skipSpace();
        if (this.file[this.position] === 0x5d) {
          this.position++;
          return array;
        }
        array.push(this.read());
      }
    }
    const word = this.token();
    if (word === 'true' || word === 'false') return word === 'true';
    if (word === 'null') return null;
    if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(word)) throw new Error(`unexpected token "${word.slice(0, 20)}"`);
    // `n g R` is a reference: look ahead without consuming anything else.
    const saved = this.position;
    if (/^\d+$/.test(word)) {
      this.skipSpace();
      const generation = this.token();
      this.skipSpace();
      if (/^\d+$/.test(generation) && this.file[this.position] === 0x52) {
        this.position++;
        return { ref: [Number(word), Number(generation)] };
      }
      this.position = saved;
    }
    return Number(word);
  }

  private literalString(): Uint8Array {
    const out: number[] = [];
    let depth = 0;
    this.position++;
    while (this.position < this.end) {
      const byte = this.file[this.position++] as number;
      if (byte === 0x28) depth++;
      else if (byte === 0x29) {
        if (depth-- === 0) return Uint8Array.from(out);
      } else if (byte === 0x5c) {
        const next = this.file[this.position++] as number;
        const escapes: Record<number, number> = { 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09, 0x62: 0x08, 0x66: 0x0c };
        if (escapes[next] !== undefined) out.push(escapes[next]);
        else if (next >= 0x30 && next <= 0x37) {
          let value = next - 0x30;
          for (let i = 0; i < 2 && (this.file[this.position] as number) >= 0x30 && (this.file[this.position] as number) <= 0x37; i++) {
            value = value * 8 + ((this.file[this.position++] as number) - 0x30);
          }
          out.push(value & 0xff);
        } else if (next === 0x0d) {
          if (this.file[this.position] === 0x0a) this.position++;
        } else if (next !== 0x0a) out.push(next);
        continue;
      }
      out.push(byte);
    }
    throw new Error('unterminated literal string');
  }
}

function isDelimiterOrSpace(byte: number | undefined): boolean {
  return byte === undefined || /[\s/[\]<>()%]/.test(String.fromCharCode(byte)) || byte === 0;
}

/** Object `number generation` of `file` (its last definition: an incremental update wins). */
function resolveObject(file: Buffer, number: number, generation: number): PdfValue | undefined {
  const header = `${number} ${generation} obj`;
  let at = file.lastIndexOf(header, file.length, 'latin1');
  while (at >= 0) {
    if (at === 0 || isDelimiterOrSpace(file[at - 1])) {
      try {
        return new ObjectReader(file, at + header.length).read();
      } catch {
        // a broken definition: try an earlier one
      }
    }
    at = at === 0 ? -1 : file.lastIndexOf(header, at - 1, 'latin1');
  }
  return undefined;
}

function isDictionary(value: PdfValue | undefined): value is Map<string, PdfValue> {
  return value instanceof Map;
}
function nameOf(value: PdfValue | undefined): string | undefined {
  return typeof value === 'object' && value !== null && 'name' in value ? value.name : undefined;
}
function bytesOf(value: PdfValue | undefined): Uint8Array {
  return value instanceof Uint8Array ? value : new Uint8Array(0);
}

/** How a document's streams are encrypted, once the file key is known. */
export interface StreamDecryptor {
  /** The stream cipher: `RC4`, `AESV2`, `AESV3`, or `Identity` (streams stored in the clear). */
  readonly cipher: 'RC4' | 'AESV2' | 'AESV3' | 'Identity';
  /** False when `/EncryptMetadata false`: `/Type /Metadata` streams are stored in the clear. */
  readonly encryptMetadata: boolean;
  /** Decrypts the data of stream object `number generation`. */
  decrypt(number: number, generation: number, data: Uint8Array): Uint8Array;
}

/** What the trailer says about encryption. */
export type Encryption =
  | { kind: 'none' }
  /** A handler other than /Standard (public-key, vendor DRM): pdf.js cannot open it ("unknown encryption method"). */
  | { kind: 'unsupported'; detail: string }
  /** Standard handler, but the empty user password does not open it. */
  | { kind: 'needs-password' }
  | { kind: 'standard'; decryptor: StreamDecryptor };

/**
 * Finds the trailer's `/Encrypt` (the last trailer or cross-reference stream dictionary in the
 * file that has one, as the newest incremental update is what pdf.js reads) and, for the
 * standard handler, derives the file key from the empty user password. A mention of `/Encrypt`
 * that is not a dictionary entry of a trailer-like dictionary is no encryption.
 */
export function readEncryption(file: Buffer): Encryption {
  let at = file.lastIndexOf('/Encrypt', file.length, 'latin1');
  while (at >= 0) {
    const candidate = encryptionAt(file, at);
    if (candidate !== undefined) return candidate;
    at = at === 0 ? -1 : file.lastIndexOf('/Encrypt', at - 1, 'latin1');
  }
  return { kind: 'none' };
}

function encryptionAt(file: Buffer, at: number): Encryption | undefined {
  if (!isDelimiterOrSpace(file[at + 8])) return undefined; // /EncryptMetadata and the like
  // The enclosing dictionary: after `trailer`, or after `obj` for a cross-reference stream.
  const trailer = file.lastIndexOf('trailer', at, 'latin1');
  const object = file.lastIndexOf('obj', at, 'latin1');
  const start = Math.max(trailer >= 0 ? trailer + 7 : -1, object >= 0 ? object + 3 : -1);
  if (start < 0 || at - start > 64 * 1024) return undefined;
  let dictionary: PdfValue;
  try {
    dictionary = new ObjectReader(file, start).read();
  } catch {
    return undefined;
  }
  if (!isDictionary(dictionary)) return undefined;
  let encrypt = dictionary.get('Encrypt');
  if (typeof encrypt === 'object' && encrypt !== null && 'ref' in encrypt) encrypt = resolveObject(file, encrypt.ref[0], encrypt.ref[1]);
  if (!isDictionary(encrypt)) return undefined;
  const ids = dictionary.get('ID');
  const fileId = Array.isArray(ids) ? bytesOf(ids[0]) : new Uint8Array(0);
  return standardHandler(encrypt, fileId);
}

function standardHandler(encrypt: Map<string, PdfValue>, fileId: Uint8Array): Encryption {
  const filter = nameOf(encrypt.get('Filter'));
  if (filter !== 'Standard') return { kind: 'unsupported', detail: `its security handler is /${filter ?? '(none)'}; only the standard password handler can be opened` };
  const version = encrypt.get('V');
  const revision = encrypt.get('R');
  if (version !== 1 && version !== 2 && version !== 4 && version !== 5) return { kind: 'unsupported', detail: `its standard security handler has /V ${String(version)}, which no reader here supports` };
  if (typeof revision !== 'number') return { kind: 'unsupported', detail: 'its standard security handler has no /R' };
  const encryptMetadata = !((version === 4 || version === 5) && encrypt.get('EncryptMetadata') === false);
  const owner = bytesOf(encrypt.get('O'));
  const user = bytesOf(encrypt.get('U'));
  // The stream crypt filter (V4/V5): /Identity or a /CF entry without a method stores streams in the clear.
  let method = version === 5 ? 'AESV3' : 'V2';
  let cryptFilter: Map<string, PdfValue> | undefined;
  if (version >= 4) {
    const filters = encrypt.get('CF');
    const streamFilter = nameOf(encrypt.get('StmF')) ?? 'Identity';
    cryptFilter = isDictionary(filters) ? (filters.get(streamFilter) as Map<string, PdfValue> | undefined) : undefined;
    const cfm = isDictionary(cryptFilter) ? nameOf(cryptFilter.get('CFM')) : undefined;
    method = cfm === undefined || cfm === 'None' ? 'Identity' : cfm;
    if (!['Identity', 'V2', 'AESV2', 'AESV3'].includes(method)) return { kind: 'unsupported', detail: `its crypt filter method /${method} is unknown` };
  }
  let key: Uint8Array | null;
  if (version === 5) {
    key = aes256FileKey(revision, owner, user, bytesOf(encrypt.get('UE')));
  } else {
    let bits = encrypt.get('Length');
    if (typeof bits !== 'number' || bits === 0) {
      bits = 40;
      if (version >= 4) {
        const length = isDictionary(cryptFilter) ? cryptFilter.get('Length') : undefined;
        bits = typeof length === 'number' && length > 0 ? length : 128;
        if (bits < 40) bits *= 8; // /Length in a crypt filter is in bytes
      }
    }
    if (!Number.isInteger(bits) || bits < 40 || bits % 8 !== 0 || bits > 128) return { kind: 'unsupported', detail: `its key length ${bits} is invalid` };
    const permissions = encrypt.get('P');
    key = rc4FileKey({ revision, bits, owner, user, permissions: typeof permissions === 'number' ? permissions : 0, fileId, encryptMetadata });
    if (key !== null && version === 4 && key.length < 16) key = Buffer.concat([key, Buffer.alloc(16 - key.length)]);
  }
  if (key === null) return { kind: 'needs-password' };
  return { kind: 'standard', decryptor: makeDecryptor(method, key, encryptMetadata) };
}

function md5(...parts: Uint8Array[]): Buffer {
  const hash = createHash('md5');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/** RC4 (ARCFOUR) of `data` with `key`: encryption and decryption are the same operation. */
function rc4(key: Uint8Array, data: Uint8Array): Uint8Array {
  const state = new Uint8Array(256);
  for (let i = 0; i < 256; i++) state[i] = i;
  for (let i = 0, j = 0; i < 256; i++) {
    j = (j + (state[i] as number) + (key[i % key.length] as number)) & 0xff;
    [state[i], state[j]] = [state[j] as number, state[i] as number];
  }
  const out = new Uint8Array(data.length);
  for (let k = 0, i = 0, j = 0; k < data.length; k++) {
    i = (i + 1) & 0xff;
    j = (j + (state[i] as number)) & 0xff;
    [state[i], state[j]] = [state[j] as number, state[i] as number];
    out[k] = (data[k] as number) ^ (state[((state[i] as number) + (state[j] as number)) & 0xff] as number);
  }
  return out;
}

/** What Algorithm 2 (file key from a password, R2–R4) reads from the Encrypt dictionary and trailer. */
interface Rc4KeyInput {
  /** /R: 2, 3 or 4. */
  revision: number;
  /** Key length in bits (40–128). */
  bits: number;
  /** /O (its first 32 bytes are used). */
  owner: Uint8Array;
  /** /U. */
  user: Uint8Array;
  /** /P, a signed 32-bit integer. */
  permissions: number;
  /** The first element of the trailer's /ID. */
  fileId: Uint8Array;
  encryptMetadata: boolean;
}

/**
 * Algorithm 2 with the empty user password, checked against /U by Algorithm 4 (R2) or 5 (R3+);
 * `null` when the check fails (a user password is set).
 */
function rc4FileKey(input: Rc4KeyInput): Uint8Array | null {
  const permissions = Buffer.alloc(4);
  permissions.writeInt32LE(input.permissions | 0);
  const bytes = input.bits / 8;
  let hash = md5(PASSWORD_PADDING, input.owner.subarray(0, 32), permissions, input.fileId, input.revision >= 4 && !input.encryptMetadata ? Buffer.from([255, 255, 255, 255]) : new Uint8Array(0));
  if (input.revision >= 3) for (let i = 0; i < 50; i++) hash = md5(hash.subarray(0, bytes));
  const key = hash.subarray(0, bytes);
  const check = userCheck(key, input.revision, input.fileId);
  return Buffer.from(input.user.subarray(0, check.length)).equals(Buffer.from(check)) ? key : null;
}

/** The value /U starts with for file key `key` (Algorithm 4 for R2, 5 for R3+: its first 16 bytes). */
function userCheck(key: Uint8Array, revision: number, fileId: Uint8Array): Uint8Array {
  if (revision < 3) return rc4(key, PASSWORD_PADDING);
  let check = rc4(key, md5(PASSWORD_PADDING, fileId));
  for (let i = 1; i <= 19; i++) check = rc4(key.map((byte) => byte ^ i), check);
  return check;
}

function sha(bits: 256 | 384 | 512, ...parts: Uint8Array[]): Buffer {
  const hash = createHash(`sha${bits}`);
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/**
 * The R6 hash (algorithm 2.B of ISO 32000-2) of `password` with `salt` and `userKey` (/U's 48
 * bytes when hashing an owner password, else empty); for R5 the plain SHA-256.
 */
function passwordHash(revision: number, password: Uint8Array, salt: Uint8Array, userKey: Uint8Array = new Uint8Array(0)): Buffer {
  let k = sha(256, password, salt, userKey);
  if (revision < 6) return k;
  let e: Buffer = Buffer.alloc(1);
  for (let round = 0; round < 64 || (e[e.length - 1] as number) > round - 32; round++) {
    const unit = Buffer.concat([password, k, userKey]);
    const k1 = Buffer.alloc(unit.length * 64);
    for (let i = 0; i < 64; i++) unit.copy(k1, i * unit.length);
    const cipher = createCipheriv('aes-128-cbc', k.subarray(0, 16), k.subarray(16, 32)).setAutoPadding(false);
    e = Buffer.concat([cipher.update(k1), cipher.final()]);
    let sum = 0;
    for (let i = 0; i < 16; i++) sum += e[i] as number;
    k = sha(([256, 384, 512] as const)[sum % 3] as 256 | 384 | 512, e);
  }
  return k.subarray(0, 32);
}

/** Algorithm 2.A with the empty password: the file key from /UE, or `null` when /U does not match. */
function aes256FileKey(revision: number, owner: Uint8Array, user: Uint8Array, userEncryption: Uint8Array): Uint8Array | null {
  void owner; // the owner entries only serve an owner password, which the job never has
  if (user.length < 48 || userEncryption.length < 32) return null;
  const empty = new Uint8Array(0);
  if (!passwordHash(revision, empty, user.subarray(32, 40)).equals(Buffer.from(user.subarray(0, 32)))) return null;
  const decipher = createDecipheriv('aes-256-cbc', passwordHash(revision, empty, user.subarray(40, 48)), Buffer.alloc(16)).setAutoPadding(false);
  return Buffer.concat([decipher.update(userEncryption.subarray(0, 32)), decipher.final()]);
}

/** The key of object `number generation` (Algorithm 1): MD5 of the file key, the ids, and `sAlT` for AES. */
function objectKey(key: Uint8Array, number: number, generation: number, aes: boolean): Uint8Array {
  const ids = Buffer.from([number & 0xff, (number >> 8) & 0xff, (number >> 16) & 0xff, generation & 0xff, (generation >> 8) & 0xff]);
  return md5(key, ids, aes ? Buffer.from('sAlT', 'latin1') : new Uint8Array(0)).subarray(0, Math.min(key.length + 5, 16));
}

/** AES-CBC with the IV in the first 16 bytes; a trailing partial block is dropped and valid padding removed, as pdf.js does. */
function aesCbcDecrypt(key: Uint8Array, data: Uint8Array): Uint8Array {
  const blocks = Math.floor(data.length / 16) - 1;
  if (blocks <= 0) return new Uint8Array(0);
  const decipher = createDecipheriv(key.length === 32 ? 'aes-256-cbc' : 'aes-128-cbc', key, data.subarray(0, 16)).setAutoPadding(false);
  const plain = Buffer.concat([decipher.update(data.subarray(16, 16 + blocks * 16)), decipher.final()]);
  const pad = plain[plain.length - 1] as number;
  if (pad === 0 || pad > 16) return plain;
  for (let i = plain.length - pad; i < plain.length; i++) if (plain[i] !== pad) return plain;
  return plain.subarray(0, plain.length - pad);
}

function makeDecryptor(method: string, key: Uint8Array, encryptMetadata: boolean): StreamDecryptor {
  if (method === 'Identity') return { cipher: 'Identity', encryptMetadata, decrypt: (_number, _generation, data) => data };
  if (method === 'AESV3') return { cipher: 'AESV3', encryptMetadata, decrypt: (_number, _generation, data) => aesCbcDecrypt(key, data) };
  if (method === 'AESV2') return { cipher: 'AESV2', encryptMetadata, decrypt: (number, generation, data) => aesCbcDecrypt(objectKey(key, number, generation, true), data) };
  return { cipher: 'RC4', encryptMetadata, decrypt: (number, generation, data) => rc4(objectKey(key, number, generation, false), data) };
}
