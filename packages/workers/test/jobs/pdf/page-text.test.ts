import { describe, expect, it } from 'vitest';
import { decodePageTexts, encodePageTexts, pageTextFromRuns } from '@kai-jobs/workers';

const run = (str: string, y: number, hasEOL: boolean, height = 10) => ({ str, transform: [1, 0, 0, 1, 50, y], height, hasEOL });

describe('pageTextFromRuns', () => {
  it('joins runs into lines by position (top first), lines with newlines, and puts a blank line at paragraph gaps', () => {
    const text = pageTextFromRuns([
      run('Carrara ', 700, false),
      run('marble', 700, true),
      run('tile  60x60 cm', 688, true),
      { type: 'beginMarkedContent' },
      run('New paragraph', 650, true),
      run('', 650, true),
      run('Next column', 780, false),
    ]);
    // "Next column" is drawn last but sits highest on the page: it is read first.
    expect(text).toBe('Next column\n\nCarrara marble\ntile 60x60 cm\n\nNew paragraph');
  });

  it('round-trips the pages.jsonl artifact', () => {
    const pages = [
      { page: 1, text: 'a\nb' },
      { page: 2, text: '' },
    ];
    expect(decodePageTexts(encodePageTexts(pages))).toEqual(pages);
  });
});
