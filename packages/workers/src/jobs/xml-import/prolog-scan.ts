import { PermanentJobError } from '../../errors.js';

/** What the prolog (everything before the root element) says. */
export interface PrologInfo {
  /** Encoding label from the BOM or the XML declaration, lower-case; `utf-8` by default. */
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

/**
 * Scans the prolog of a feed given as a latin1 string of its first bytes (`final` when that
 * is the whole feed). Throws `PermanentJobError` for a DOCTYPE declaring entities (even
 * before the DOCTYPE is complete) and for UTF-16/32 feeds; returns `{ done: false }` while
 * the root element has not been reached. Malformed content is left to the parser, which
 * reports it with line and column.
 */
export function scanProlog(text: string, final: boolean): PrologScan {
  let encoding = 'utf-8';
  let doctype: string | null = null;
  let index = 0;
  if (text.startsWith('\xEF\xBB\xBF')) index = 3;
  else if (['\xFF\xFE', '\xFE\xFF', '\x00\x00\xFE\xFF', '\x00<', '<\x00'].some((mark) => text.startsWith(mark))) {
    throw new PermanentJobError('the feed is UTF-16 or UTF-32 encoded; only UTF-8 and ASCII-compatible encodings are supported');
  }
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
        if (declared !== undefined) {
          if (/^(utf-?16|utf-?32|ucs-?2|ucs-?4)/.test(declared)) {
            throw new PermanentJobError(`the feed declares encoding "${declared}"; only UTF-8 and ASCII-compatible encodings are supported`);
          }
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
