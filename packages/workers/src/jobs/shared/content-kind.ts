/**
 * Words for what a fetched or read body is, for error messages. Never quotes the bytes: an
 * error lands in the job's failedReason, readable through the API and the board, and a body
 * from an internal service (a cloud metadata answer, a file outside the root) must not leak
 * through it, not even its first 16 bytes.
 */

const MAGIC: readonly { bytes: readonly number[]; kind: string }[] = [
  { bytes: [0x25, 0x50, 0x44, 0x46, 0x2d], kind: 'a PDF' },
  { bytes: [0x89, 0x50, 0x4e, 0x47], kind: 'a PNG image' },
  { bytes: [0xff, 0xd8, 0xff], kind: 'a JPEG image' },
  { bytes: [0x47, 0x49, 0x46, 0x38], kind: 'a GIF image' },
  { bytes: [0x52, 0x49, 0x46, 0x46], kind: 'a RIFF file (WebP, WAV or AVI)' },
  { bytes: [0x50, 0x4b, 0x03, 0x04], kind: 'a ZIP archive (or an Office document)' },
  { bytes: [0x1f, 0x8b], kind: 'gzip-compressed data' },
  { bytes: [0x7f, 0x45, 0x4c, 0x46], kind: 'an executable (ELF)' },
];

const MIME_PATTERN = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$/;

/**
 * The media type of a `Content-Type` header, or null when absent or not a well-formed
 * `type/subtype` (parameters and anything odd are dropped: a header is server-chosen text too).
 */
export function safeMediaType(contentType: string | null | undefined): string | null {
  if (contentType === null || contentType === undefined) return null;
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return MIME_PATTERN.test(type) ? type : null;
}

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  return magic.length <= bytes.byteLength && magic.every((byte, index) => bytes[index] === byte);
}

function sniff(bytes: Uint8Array): string {
  if (bytes.byteLength === 0) return 'empty';
  for (const { bytes: magic, kind } of MAGIC) if (startsWith(bytes, magic)) return kind;
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 1024));
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, head.byteLength - (bytes.byteLength > 1024 ? 4 : 0)));
  } catch {
    return 'binary data';
  }
  // Control characters other than whitespace mean binary, whatever the encoding claims.
  for (const char of text) {
    const code = char.charCodeAt(0);
    if (code < 0x09 || (code > 0x0d && code < 0x20)) return 'binary data';
  }
  const start = text.replace(/^\uFEFF/, '').trimStart();
  if (/^(<!--[\s\S]*?-->\s*)*<(!doctype\s+html|html[\s>]|head[\s>]|body[\s>])/i.test(start)) return 'HTML';
  if (start.startsWith('<?xml') || /^<[A-Za-z_]/.test(start)) return 'XML or other markup';
  if (start.startsWith('{') || start.startsWith('[')) return 'JSON or JSON-like text';
  if (start === '') return 'whitespace only';
  return 'plain text';
}

/**
 * Describes `bytes` in words, e.g. `HTML (Content-Type text/html)`, `a PNG image`,
 * `plain text`, `empty`: the kind of content, never the content.
 */
export function describeContentKind(bytes: Uint8Array, contentType?: string | null): string {
  const kind = sniff(bytes);
  if (contentType === undefined) return kind;
  const type = safeMediaType(contentType);
  return `${kind} (${type === null ? (contentType === null ? 'no Content-Type' : 'an unrecognised Content-Type') : `Content-Type ${type}`})`;
}
