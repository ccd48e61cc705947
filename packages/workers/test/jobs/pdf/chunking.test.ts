import { describe, expect, it } from 'vitest';
import { chunkPages } from '@kai-jobs/workers';

const words = (count: number, prefix: string): string => Array.from({ length: count }, (_, index) => `${prefix}${index}`).join(' ');

describe('chunkPages', () => {
  it('packs whole paragraphs into a chunk while they fit, and never crosses pages', () => {
    const chunks = chunkPages(
      [
        { page: 1, text: 'First paragraph.\n\nSecond paragraph.' },
        { page: 2, text: 'Other page.' },
        { page: 3, text: '' },
      ],
      { chunkSizeChars: 200, chunkOverlapChars: 20 },
    );
    expect(chunks).toEqual([
      { index: 0, page: 1, start: 0, end: 35, text: 'First paragraph.\n\nSecond paragraph.' },
      { index: 1, page: 2, start: 0, end: 11, text: 'Other page.' },
    ]);
  });

  it('cuts at paragraph boundaries, overlapping the next chunk with the tail of the previous one from a word start', () => {
    const paragraphs = [words(20, 'a'), words(20, 'b'), words(20, 'c')];
    const text = paragraphs.join('\n\n');
    const chunks = chunkPages([{ page: 4, text }], { chunkSizeChars: 130, chunkOverlapChars: 30 });
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) {
      expect(chunk.text.length).toBeLessThanOrEqual(130);
      expect(chunk.text).toBe(text.slice(chunk.start, chunk.end));
      expect(chunk.text).toMatch(/^[abc]\d+/); // starts at a word
      expect(chunk.text).toMatch(/\d$/); // ends at a word
    }
    for (let index = 1; index < chunks.length; index++) {
      const previous = chunks[index - 1] as { end: number };
      const current = chunks[index] as { start: number };
      expect(current.start).toBeLessThan(previous.end); // overlap
      expect(previous.end - current.start).toBeLessThanOrEqual(30);
    }
    // Every word of the page is in some chunk.
    const covered = new Set(chunks.flatMap((chunk) => chunk.text.split(/\s+/)));
    for (const word of text.split(/\s+/)) expect(covered.has(word)).toBe(true);
  });

  it('splits a paragraph longer than a chunk at whitespace, and hard-cuts a word longer than a chunk', () => {
    const long = words(100, 'w');
    const chunks = chunkPages([{ page: 1, text: long }], { chunkSizeChars: 100, chunkOverlapChars: 0 });
    expect(chunks.map((chunk) => chunk.text).join(' ')).toBe(long);
    for (const chunk of chunks) expect(chunk.text.length).toBeLessThanOrEqual(100);
    const giant = 'x'.repeat(250);
    expect(chunkPages([{ page: 1, text: giant }], { chunkSizeChars: 100, chunkOverlapChars: 10 }).map((chunk) => chunk.text.length)).toEqual([
      100, 100, 50,
    ]);
  });

  it('is deterministic', () => {
    const pages = [{ page: 1, text: `${words(80, 'p')}\n\n${words(50, 'q')}` }];
    expect(chunkPages(pages, { chunkSizeChars: 150, chunkOverlapChars: 40 })).toEqual(chunkPages(pages, { chunkSizeChars: 150, chunkOverlapChars: 40 }));
  });
});
