/**
 * PDF text quality: word-level recall and order recall of the `text_extracted` stage against
 * the expected text of the PDF text test set (packages/workers/test/jobs/pdf/fixtures/text-quality:
 * right-to-left, two columns, footnotes, hyphenation, unmapped glyphs, a damaged xref), per
 * fixture and overall, beside the previous extraction (pdf.js's items in content-stream order,
 * lines at pdf.js's line ends: what the stage did before) measured in the same run.
 * Target: word recall ≥ 0.98 on every fixture.
 *
 *   pnpm tsx bench/pdf-text-quality.bench.ts
 *
 * The stage runs as in a worker: pdf_loaded, then text_extracted with each page in a CPU-pool
 * thread. The last line of output is the JSON result for bench/run-all.ts.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CpuPool, createPdfJob, decodePageTexts, InMemoryMaterialStore, loadPdfjs, LocalFolderArtifactStore, type PageText } from '@kai-jobs/workers';
import { runStagesForTest } from '@kai-jobs/workers/testing';
import { orderRecall, TEXT_QUALITY_FIXTURES, wordRecall, wordsOf } from '../packages/workers/test/jobs/pdf/fixtures/text-quality/index.js';

const TARGET = 0.98;
const folder = mkdtempSync(join(tmpdir(), 'kai-bench-pdf-quality-'));
const cpuPool = new CpuPool({ size: 1 });

/** The stage's pages of `pdfPath`, or the failure's message. */
async function stagePages(name: string, pdfPath: string): Promise<PageText[] | string> {
  try {
    const artifacts = new LocalFolderArtifactStore(join(folder, name));
    const { outputs } = await runStagesForTest(createPdfJob({ fileRoot: '/', materialStore: new InMemoryMaterialStore() }), {
      type: 'pdf',
      payload: { documentId: name, source: { kind: 'file', path: pdfPath }, options: { skipTiles: true, skipMaterials: true } },
      artifacts,
      cpuPool,
    });
    const { text } = outputs.byName('text_extracted') as { text: { key: string } };
    return decodePageTexts((await artifacts.get(text.key)).toString());
  } catch (error) {
    return (error as Error).message;
  }
}

/** The previous extraction: pdf.js's items in stream order, a line per pdf.js line end. */
async function baselinePages(pdfPath: string): Promise<string[] | string> {
  const pdfjs = await loadPdfjs();
  try {
    const document = await pdfjs.getDocument({ data: new Uint8Array(readFileSync(pdfPath)), verbosity: 0, isEvalSupported: false }).promise;
    const pages: string[] = [];
    for (let number = 1; number <= document.numPages; number++) {
      const items = (await (await document.getPage(number)).getTextContent()).items;
      pages.push(items.map((item) => ('str' in item ? item.str + (item.hasEOL ? '\n' : '') : '')).join(''));
    }
    await document.destroy();
    return pages;
  } catch (error) {
    return `pdf.js: ${(error as Error).name}`;
  }
}

interface Row {
  name: string;
  words: number;
  wordRecall: number;
  orderRecall: number;
  baselineWordRecall: number;
  baselineOrderRecall: number;
  droppedGlyphs: number;
  recoveredGlyphs: number;
  order: string;
  failure?: string;
}

const rows: Row[] = [];
let expectedWords = 0;
let foundWords = 0;
let orderedWords = 0;
let baselineFound = 0;
let baselineOrdered = 0;
for (const fixture of TEXT_QUALITY_FIXTURES) {
  const expected = fixture.expectedPages.join('\n');
  const words = wordsOf(expected).length;
  const pages = await stagePages(fixture.name, fixture.pdfPath);
  const baseline = await baselinePages(fixture.pdfPath);
  const actual = typeof pages === 'string' ? '' : pages.map((page) => page.text).join('\n');
  const before = typeof baseline === 'string' ? '' : baseline.join('\n');
  const row: Row = {
    name: fixture.name,
    words,
    wordRecall: wordRecall(expected, actual),
    orderRecall: orderRecall(expected, actual),
    baselineWordRecall: wordRecall(expected, before),
    baselineOrderRecall: orderRecall(expected, before),
    droppedGlyphs: typeof pages === 'string' ? 0 : pages.reduce((sum, page) => sum + (page.quality?.droppedGlyphs ?? 0), 0),
    recoveredGlyphs: typeof pages === 'string' ? 0 : pages.reduce((sum, page) => sum + (page.quality?.recoveredGlyphs ?? 0), 0),
    order: typeof pages === 'string' ? '-' : [...new Set(pages.map((page) => page.quality?.order ?? '?'))].join('+'),
    ...(typeof pages === 'string' ? { failure: pages } : {}),
  };
  rows.push(row);
  expectedWords += words;
  foundWords += row.wordRecall * words;
  orderedWords += row.orderRecall * words;
  baselineFound += row.baselineWordRecall * words;
  baselineOrdered += row.baselineOrderRecall * words;
}
await cpuPool.close();
rmSync(folder, { recursive: true, force: true });

const f = (value: number): string => value.toFixed(3);
console.log('PDF text test set: word recall / order recall (LCS of word sequences) against the expected text');
console.log('| fixture | words | word recall | order recall | before: word | before: order | dropped glyphs | recovered glyphs | order used |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---|');
for (const row of rows) {
  console.log(`| ${row.name} | ${row.words} | ${f(row.wordRecall)} | ${f(row.orderRecall)} | ${f(row.baselineWordRecall)} | ${f(row.baselineOrderRecall)} | ${row.droppedGlyphs} | ${row.recoveredGlyphs} | ${row.order}${row.failure === undefined ? '' : ` (failed: ${row.failure})`} |`);
}
const overall = { wordRecall: foundWords / expectedWords, orderRecall: orderedWords / expectedWords, baselineWordRecall: baselineFound / expectedWords, baselineOrderRecall: baselineOrdered / expectedWords };
console.log(`| overall | ${expectedWords} | ${f(overall.wordRecall)} | ${f(overall.orderRecall)} | ${f(overall.baselineWordRecall)} | ${f(overall.baselineOrderRecall)} | | | |`);
const missed = rows.filter((row) => row.wordRecall < TARGET);
console.log(`target word recall ≥ ${TARGET} on every fixture: ${missed.length === 0 ? 'met' : `MISSED on ${missed.map((row) => row.name).join(', ')}`}`);
console.log(JSON.stringify({ target: TARGET, met: missed.length === 0, overall, fixtures: rows }));
if (missed.length > 0) process.exitCode = 1;
