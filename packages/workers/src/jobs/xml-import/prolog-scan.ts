import { PermanentJobError } from '../../errors.js';

/** What the prolog (everything before the root element) says. */
export interface PrologInfo {
  /** Encoding from the BOM (`utf-8`, `utf-16le`, `utf-16be`) or else the XML declaration's label, lower-case; `utf-8` by default. */
  encoding: string;
  /** The document type name when there is a DOCTYPE (without entity declarations), else null. */
  doctype: string | null;
}

/** The scan needs more bytes, or is done. */
export type PrologScan = { done: false } | { done: true; info: PrologInfo };

const ENTITY_DECLARATION = /<!ENTITY/i;

function entityRefusal(): PermanentJobError {
  return new PermanentJobError(
    'the feed declares entities in its DOCTYPE (<!ENTITY …>): refused, because entity declarations enable external-entity (XXE) and entity-expansion ("billion laughs") attacks; remove the DOCTYPE',
  );
}

/** Index just past the DOCTYPE starting at `start`, or -1 when `text` ends before it closes. */
function doctypeEnd(text: string, start: number): number {
  let inSubset = false;
  let quote: string | null = null;
  for (let index = start + 9; index < text.length; index += 1) {
    const char = text[index];
    if (quote !== null) {
      if (char === quote) quote = null;
    } else if (char === '"' || char === "'") {
      quote = char;
    } else if (inSubset && (text.startsWith('<!--', index) || text.startsWith('<?', index))) {
      // A comment or PI in the internal subset may contain "]>": skip it whole.
      const close = text.startsWith('<!--', index) ? '-->' : '?>';
      const end = text.indexOf(close, index + 2);
      if (end === -1) return -1;
      index = end + close.length - 1;
    } else if (char === '[') {
      inSubset = true;
    } else if (char === ']') {
      inSubset = false;
    } else if (char === '>' && !inSubset) {
      return index + 1;
    }
  }
  return -1;
}

/** A byte order mark or, without one, the first bytes of `<?` in UTF-16 (XML 1.0 appendix F). */
function detectUnicode(text: string): { encoding: 'utf-8' | 'utf-16le' | 'utf-16be'; bomBytes: number } | null {
  if (text.startsWith('\x00\x00\xFE\xFF') || text.startsWith('\xFF\xFE\x00\x00') || text.startsWith('\x00\x00\x00<') || text.startsWith('<\x00\x00\x00')) {
    throw new PermanentJobError('the feed is UTF-32 encoded, which is not supported; supported: UTF-8, UTF-16 and the single- and multi-byte encodings browsers read (ISO-8859-*, windows-125*, Shift_JIS, GBK, …)');
  }
  if (text.startsWith('\xEF\xBB\xBF')) return { encoding: 'utf-8', bomBytes: 3 };
  if (text.startsWith('\xFF\xFE')) return { encoding: 'utf-16le', bomBytes: 2 };
  if (text.startsWith('\xFE\xFF')) return { encoding: 'utf-16be', bomBytes: 2 };
  if (text.startsWith('<\x00?\x00')) return { encoding: 'utf-16le', bomBytes: 0 };
  if (text.startsWith('\x00<\x00?')) return { encoding: 'utf-16be', bomBytes: 0 };
  return null;
}

const ASCII_PROBE = '<?xml version="1.0"?><a b=\'c\'>&amp;</a>';

/**
 * Checks a declared encoding that no byte order mark overrides: known to TextDecoder (Node
 * ships full ICU, so every WHATWG encoding), and ASCII-compatible, since the declaration
 * itself was read as ASCII. Refuses the rest with a permanent error.
 */
function checkDeclaredEncoding(declared: string): void {
  if (/^(utf-?32|ucs-?4)/.test(declared)) {
    throw new PermanentJobError(`the feed declares encoding "${declared}", which is not supported; supported: UTF-8, UTF-16 and the single- and multi-byte encodings browsers read`);
  }
  if (/^(utf-?16|ucs-?2|unicode)/.test(declared)) {
    throw new PermanentJobError(`the feed declares encoding "${declared}" but its bytes are not UTF-16 (no byte order mark, and the declaration reads as ASCII)`);
  }
  let decoder: InstanceType<typeof TextDecoder>;
  try {
    decoder = new TextDecoder(declared);
  } catch {
    throw new PermanentJobError(
      `the feed declares encoding "${declared}", which is not a known encoding; supported: UTF-8, UTF-16, ISO-8859-1 to -16, windows-1250 to -1258, and the other encodings browsers read (Shift_JIS, EUC-JP, GBK, Big5, KOI8-R, …)`,
    );
  }
  if (decoder.encoding === 'replacement' || decoder.encoding === 'x-user-defined' || decoder.decode(Buffer.from(ASCII_PROBE, 'latin1')) !== ASCII_PROBE) {
    throw new PermanentJobError(`the feed declares encoding "${declared}", which this importer does not read (not ASCII-compatible)`);
  }
}

/**
 * Scans the prolog of a feed given as a latin1 string of its first bytes (`final` when that
 * is the whole feed). The encoding comes from the byte order mark (UTF-8, UTF-16 LE/BE; a
 * UTF-16 feed without one is recognised by its first bytes) or else from the XML
 * declaration (a byte order mark wins over the declaration); an unknown, UTF-32 or
 * non-ASCII-compatible encoding is refused. Throws `PermanentJobError` for these and for
 * a DOCTYPE declaring entities (even before the DOCTYPE is complete); returns
 * `{ done: false }` while the root element has not been reached. Malformed content is left
 * to the parser, which reports it with line and column.
 */
export function scanProlog(bytes: string, final: boolean): PrologScan {
  const unicode = detectUnicode(bytes);
  let encoding: string = unicode?.encoding ?? 'utf-8';
  let text = bytes;
  let index = 0;
  if (unicode?.encoding === 'utf-8') index = unicode.bomBytes;
  else if (unicode !== null) {
    // Decoded whole each time (the prolog is small); an odd trailing byte waits for the next chunk.
    const even = bytes.length - (bytes.length % 2);
    text = new TextDecoder(unicode.encoding, { ignoreBOM: true }).decode(Buffer.from(bytes.slice(unicode.bomBytes, even), 'latin1'));
  }
  let doctype: string | null = null;
  const more = (): PrologScan => (final ? { done: true, info: { encoding, doctype } } : { done: false });
  for (;;) {
    while (index < text.length && /\s/.test(text[index] as string)) index += 1;
    if (index >= text.length) return more();
    if (text.startsWith('<?', index)) {
      const end = text.indexOf('?>', index + 2);
      if (end === -1) return more();
      const pi = text.slice(index, end);
      if (/^<\?xml\s/.test(pi)) {
        const declared = /\sencoding\s*=\s*["']([A-Za-z0-9._-]{1,40})["']/.exec(pi)?.[1]?.toLowerCase();
        // A byte order mark outranks the declaration, as in browsers: exporters that write
        // UTF-8 with a BOM often leave a stale "ISO-8859-1" in the declaration.
        if (declared !== undefined && unicode === null) {
          checkDeclaredEncoding(declared);
          encoding = declared;
        }
      }
      index = end + 2;
    } else if (text.startsWith('<!--', index)) {
      const end = text.indexOf('-->', index + 4);
      if (end === -1) return more();
      index = end + 3;
    } else if (text.startsWith('<!DOCTYPE', index) || text.startsWith('<!doctype', index)) {
      const end = doctypeEnd(text, index);
      const declaration = text.slice(index, end === -1 ? text.length : end);
      if (ENTITY_DECLARATION.test(declaration)) throw entityRefusal();
      if (end === -1) return more();
      doctype = /^<!doctype\s+([^\s[>]+)/i.exec(declaration)?.[1] ?? '';
      index = end;
    } else {
      // The root element (or junk the parser will report): the prolog is over.
      return { done: true, info: { encoding, doctype } };
    }
  }
}

/** Throws when the DOCTYPE the parser reports declares entities (defence in depth). */
export function assertNoEntityDeclarations(doctype: string): void {
  if (ENTITY_DECLARATION.test(doctype)) throw entityRefusal();
}
