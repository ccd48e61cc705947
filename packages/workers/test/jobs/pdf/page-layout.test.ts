import { describe, expect, it } from 'vitest';
import { extractTextFromRuns, repairXref, unicodeFromGlyphName, XrefRepairImpossible, type TextRun } from '@kai-jobs/workers';

/** A pdf.js-like item: `str` at (x, y), size 10, advance 5 per character. */
const item = (str: string, x: number, y: number, extra: Partial<TextRun> = {}): TextRun => ({ str, transform: [10, 0, 0, 10, x, y], width: [...str].length * 5, height: 10, hasEOL: false, ...extra });

/** Prose of `n` characters (words of 5 letters). */
const prose = (seed: string, n: number): string => Array.from({ length: Math.ceil(n / 6) }, (_v, i) => `${seed}${String(i).padStart(3, '0')}`.slice(0, 5)).join(' ').slice(0, n);

describe('page layout (extractTextFromRuns)', () => {
  it('reads a right-to-left two-column page right column first, and a right-to-left table row right cell first', () => {
    // Hebrew prose, each column 40 characters wide (200 pt), gutter at 260–300.
    const hebrew = (n: number): string => 'אבגדה הוזחט יכלמנ סעפצק רשתאב '.repeat(4).slice(0, n);
    const items: TextRun[] = [];
    for (let line = 0; line < 4; line++) {
      items.push(item(hebrew(40), 300, 700 - line * 12, { dir: 'rtl' }), item(hebrew(40), 60, 700 - line * 12, { dir: 'rtl' }));
    }
    items.push(item('שם', 400, 500, { dir: 'rtl' }), item('מחיר', 60, 500, { dir: 'rtl' }));
    const { text, quality } = extractTextFromRuns(items);
    expect(quality).toMatchObject({ order: 'columns', columns: 2, script: 'hebrew' });
    // The row: the right cell ("name") first, the left ("price") second.
    expect(text.split('\n').at(-1)).toBe('שם\tמחיר');
  });

  it('keeps a left-to-right table spanning the page as tab-separated rows, not columns', () => {
    const rows = [
      ['Thickness', '10 mm', 'Water absorption', '0.1 %'],
      ['Finish', 'polished', 'Slip rating', 'R10'],
      ['Format', '60x60 cm', 'PEI', 'IV'],
      ['Colour', 'white', 'Origin', 'Italy'],
    ];
    const items = rows.flatMap((row, line) => row.map((cell, column) => item(cell, 60 + column * 120, 700 - line * 12)));
    const { text, quality } = extractTextFromRuns(items);
    expect(text).toBe(rows.map((row) => row.join('\t')).join('\n'));
    expect(quality).toMatchObject({ order: 'position', columns: 1 });
  });

  it('reads three prose columns written interleaved line by line column by column', () => {
    const items: TextRun[] = [];
    for (let line = 0; line < 5; line++) {
      for (const [column, x] of [60, 230, 400].entries()) items.push(item(prose(`c${column}`, 30), x, 700 - line * 12));
    }
    const { text, quality } = extractTextFromRuns(items);
    expect(quality).toMatchObject({ order: 'columns', columns: 3 });
    const paragraphs = text.split('\n\n');
    expect(paragraphs).toHaveLength(3);
    paragraphs.forEach((paragraph, column) => expect(paragraph.split('\n').every((line) => line.startsWith(`c${column}`))).toBe(true));
  });

  it('removes soft hyphens, joins a hard hyphen only for a word of the page, and leaves a line-end dash alone', () => {
    const { text, quality } = extractTextFromRuns([
      item('the subs\u00ADtrate is', 60, 700),
      item('dry, and the grout-', 60, 688),
      item('ing is done later; grouting takes a day', 60, 676),
      item('price list 2024 -', 60, 664),
      item('see below', 60, 652),
    ]);
    expect(text).toBe('the substrate is\ndry, and the grouting\nis done later; grouting takes a day\nprice list 2024 -\nsee below');
    expect(quality.hyphenationsJoined).toBe(1);
  });

  it('drops unmapped characters a resolver cannot recover, and counts both kinds', () => {
    const resolve = (font: string | undefined, char: string): string | null | undefined => {
      if (font === 'cid') return char === ' ' ? undefined : null; // a CID font without Unicode: all raw ids
      return char === '\u0003' ? 'fi' : undefined;
    };
    const { text, quality } = extractTextFromRuns(
      [item('\u0003ne tiles\u0001', 60, 700, { fontName: 'simple' }), item('ϲΒϴ˴', 60, 688, { fontName: 'cid' }), item('مرمر', 60, 676, { fontName: 'simple' })],
      resolve,
    );
    // The emptied middle line leaves a paragraph-sized gap.
    expect(text).toBe('fine tiles\n\nمرمر');
    expect(quality).toMatchObject({ recoveredGlyphs: 1, droppedGlyphs: 5 });
  });

  it('reads text drawn twice a hair apart (fake bold) once', () => {
    const { text } = extractTextFromRuns([item('Carrara marble', 60, 700), item('Carrara marble', 60.4, 700.2), item('tiles', 60, 688)]);
    expect(text).toBe('Carrara marble\ntiles');
  });

  it('falls back to stream order for a page of rotated text', () => {
    const rotated = (str: string, y: number, hasEOL: boolean): TextRun => ({ str, transform: [0, 10, -10, 0, 100, y], width: 50, height: 10, hasEOL });
    const { text, quality } = extractTextFromRuns([rotated('first', 100, true), rotated('second', 300, true)]);
    expect(text).toBe('first\nsecond');
    expect(quality.order).toBe('stream');
  });
});

describe('unicodeFromGlyphName', () => {
  it('applies the Adobe Glyph List rules and refuses names it cannot map', () => {
    expect(unicodeFromGlyphName('a.sc')).toBe('a');
    expect(unicodeFromGlyphName('f_f_i')).toBe('ffi');
    expect(unicodeFromGlyphName('uni0627.fina')).toBe('\u0627');
    expect(unicodeFromGlyphName('uni00660069')).toBe('fi');
    expect(unicodeFromGlyphName('u1F600')).toBe('\u{1F600}');
    expect(unicodeFromGlyphName('Eacute.alt')).toBe('É');
    expect(unicodeFromGlyphName('afii57415', new Map([['afii57415', '\u0627']]))).toBe('\u0627');
    for (const name of ['g17', 'orn.017', 'glyph1234', '.notdef', 'uni0003', 'uniD800']) expect(unicodeFromGlyphName(name)).toBeUndefined();
  });
});

describe('repairXref', () => {
  it('says what is missing when a file has no objects or no catalog', () => {
    expect(() => repairXref(Buffer.from('%PDF-1.7\ngarbage\n%%EOF'))).toThrow(XrefRepairImpossible);
    expect(() => repairXref(Buffer.from('%PDF-1.7\n1 0 obj\n<< /Type /Page >>\nendobj\n'))).toThrow(/no document catalog .* among the 1 objects found/);
  });

  it('appends a table listing every object found, and a trailer naming the catalog', () => {
    const head = '%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n';
    const { bytes, objects, catalog } = repairXref(Buffer.from(head, 'latin1'));
    const text = Buffer.from(bytes).toString('latin1');
    expect({ objects, catalog }).toEqual({ objects: 2, catalog: 1 });
    expect(text.startsWith(head)).toBe(true);
    expect(text).toContain(`xref\n0 3\n0000000000 65535 f \n${String(head.indexOf('1 0 obj')).padStart(10, '0')} 00000 n \n${String(head.indexOf('2 0 obj')).padStart(10, '0')} 00000 n \n`);
    expect(text).toMatch(/trailer\n<< \/Size 3 \/Root 1 0 R >>\nstartxref\n(\d+)\n%%EOF\n$/);
    const startxref = Number(/startxref\n(\d+)/.exec(text)?.[1]);
    expect(text.slice(startxref, startxref + 4)).toBe('xref');
  });
});
