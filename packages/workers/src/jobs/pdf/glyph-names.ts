/**
 * Unicode from glyph names, for glyphs whose font maps them to no Unicode (no /ToUnicode, and a
 * name pdf.js's glyph list does not know). Follows the Adobe Glyph List specification's
 * rules: drop a suffix after the first period (`a.sc`, `uni0627.fina`), split ligatures at
 * underscores (`f_f_i`), read `uniXXXX[XXXX…]` and `uXXXX[XX]` as code points, and look each
 * component up by name. Names no rule maps (`g17`, `orn.017`, `glyph1234`) give undefined:
 * the caller drops such glyphs and counts them.
 */

/** Names of the ASCII characters and the few others the rules need, per the Adobe Glyph List. */
const BASIC_NAMES: Record<string, string> = {
  space: ' ', exclam: '!', quotedbl: '"', numbersign: '#', dollar: '$', percent: '%', ampersand: '&', quotesingle: "'",
  parenleft: '(', parenright: ')', asterisk: '*', plus: '+', comma: ',', hyphen: '-', period: '.', slash: '/',
  zero: '0', one: '1', two: '2', three: '3', four: '4', five: '5', six: '6', seven: '7', eight: '8', nine: '9',
  colon: ':', semicolon: ';', less: '<', equal: '=', greater: '>', question: '?', at: '@', bracketleft: '[',
  backslash: '\\', bracketright: ']', asciicircum: '^', underscore: '_', grave: '`', braceleft: '{', bar: '|',
  braceright: '}', asciitilde: '~', quoteleft: '\u2018', quoteright: '\u2019', quotedblleft: '\u201C', quotedblright: '\u201D',
  endash: '\u2013', emdash: '\u2014', bullet: '\u2022', ellipsis: '\u2026', degree: '\u00B0', multiply: '\u00D7',
  germandbls: '\u00DF', ae: '\u00E6', AE: '\u00C6', oslash: '\u00F8', Oslash: '\u00D8', oe: '\u0153', OE: '\u0152',
  dotlessi: '\u0131', Euro: '\u20AC', copyright: '\u00A9', registered: '\u00AE', trademark: '\u2122', section: '\u00A7',
  fi: 'fi', fl: 'fl', ff: 'ff', ffi: 'ffi', ffl: 'ffl', nbspace: ' ', sfthyphen: '',
};

/** Accent suffixes of Latin letter names (`eacute`, `Udieresis`) as combining marks. */
const ACCENTS: Record<string, string> = {
  acute: '\u0301', grave: '\u0300', circumflex: '\u0302', dieresis: '\u0308', tilde: '\u0303', ring: '\u030A',
  cedilla: '\u0327', caron: '\u030C', macron: '\u0304', breve: '\u0306', ogonek: '\u0328', dotaccent: '\u0307', hungarumlaut: '\u030B',
};

/** A code point, if it is one a text may contain (not a surrogate, not beyond Unicode). */
function fromCodePoint(value: number): string | undefined {
  if (!Number.isInteger(value) || value < 0x20 || value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) return undefined;
  return String.fromCodePoint(value);
}

/** One ligature component's Unicode, or undefined. `known` maps names the document's fonts mapped themselves. */
function componentUnicode(name: string, known: ReadonlyMap<string, string>): string | undefined {
  const fromDocument = known.get(name);
  if (fromDocument !== undefined) return fromDocument;
  const basic = BASIC_NAMES[name];
  if (basic !== undefined) return basic;
  if (/^[A-Za-z]$/.test(name)) return name;
  let match = /^uni((?:[0-9A-F]{4})+)$/.exec(name);
  if (match !== null) {
    const groups = (match[1] as string).match(/.{4}/g) as string[];
    const chars = groups.map((group) => fromCodePoint(Number.parseInt(group, 16)));
    return chars.every((char) => char !== undefined) ? chars.join('') : undefined;
  }
  match = /^u([0-9A-F]{4,6})$/.exec(name);
  if (match !== null) return fromCodePoint(Number.parseInt(match[1] as string, 16));
  match = /^([A-Za-z])(acute|grave|circumflex|dieresis|tilde|ring|cedilla|caron|macron|breve|ogonek|dotaccent|hungarumlaut)$/.exec(name);
  if (match !== null) return `${match[1] as string}${ACCENTS[match[2] as string] as string}`.normalize('NFC');
  return undefined;
}

/**
 * The Unicode text of glyph `name` by the Adobe Glyph List's rules, or undefined when no rule
 * maps it. `known`: names the document's own fonts already mapped (pdf.js's full glyph list
 * applied to their other glyphs), consulted first.
 */
export function unicodeFromGlyphName(name: string, known: ReadonlyMap<string, string> = new Map()): string | undefined {
  const base = name.split('.')[0] as string;
  if (base === '') return undefined;
  const parts = base.split('_').map((part) => componentUnicode(part, known));
  if (parts.some((part) => part === undefined)) return undefined;
  const text = parts.join('');
  return text === '' ? undefined : text;
}
