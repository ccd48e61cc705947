/**
 * PDF text extraction: pages/s of the PDF job's `text_extracted` stage (run through a test
 * stage context: artifact read and sha256 check, pdf.js, line and paragraph assembly,
 * progress and counters per page, the pages.jsonl artifact) against pdf.js's
 * `getTextContent` called directly on the same 200-page PDF, in the same process.
 * Target: ratio ≥ 0.9.
 *
 *   pnpm tsx bench/pdf-text.bench.ts [--pages 200] [--rounds 9]
 *
 * Rounds alternate job and direct runs (after three warm-ups of each) so drift on a shared
 * machine hits both; the ratio is of medians, the best round of each is shown too.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { createPdfJob, InMemoryMaterialStore, LocalFolderArtifactStore, stageOutputsOf, type StageDefinition } from '@kai-jobs/workers';
import { createTestStageContext } from '@kai-jobs/workers/testing';
import { drawBodyParagraphs } from './lib/pdf-e2e-document.js';

const { values } = parseArgs({ options: { pages: { type: 'string', default: '200' }, rounds: { type: 'string', default: '9' } } });
const PAGES = Number(values.pages);
const ROUNDS = Number(values.rounds);

/** A `count`-page A4 PDF, 8 paragraphs of 3 lines per page (about 2 KB of text a page). */
async function makePdf(count: number): Promise<Buffer> {
  const document = await PDFDocument.create();
  const font = await document.embedFont(StandardFonts.Helvetica);
  for (let pageIndex = 0; pageIndex < count; pageIndex++) {
    drawBodyParagraphs(document.addPage([595, 842]), font, pageIndex + 1, 8, 790);
  }
  return Buffer.from(await document.save());
}

const folder = mkdtempSync(join(tmpdir(), 'kai-bench-pdf-'));
const pdfPath = join(folder, 'bench.pdf');
const bytes = await makePdf(PAGES);
writeFileSync(pdfPath, bytes);

const artifacts = new LocalFolderArtifactStore(join(folder, 'artifacts'));
const job = createPdfJob({ fileRoot: folder, materialStore: new InMemoryMaterialStore() });
const [loadedStage, textStage] = job.stages as readonly StageDefinition<'pdf'>[];
const payload = { documentId: 'bench', source: { kind: 'file' as const, path: pdfPath } };
const loadCtx = createTestStageContext({ type: 'pdf', stage: 'pdf_loaded', payload, artifacts, jobId: 'bench' });
const loaded = (loadedStage as StageDefinition<'pdf'>).output.parse(await (loadedStage as StageDefinition<'pdf'>).run(loadCtx, stageOutputsOf(new Map())));
await loadCtx.close();

/** The stage, as the runtime runs it: a fresh context, previous outputs, validated output. */
async function runJobStage(): Promise<number> {
  const ctx = createTestStageContext({ type: 'pdf', stage: 'text_extracted', payload, artifacts, jobId: 'bench' });
  const started = performance.now();
  const output = (textStage as StageDefinition<'pdf'>).output.parse(
    await (textStage as StageDefinition<'pdf'>).run(ctx, stageOutputsOf(new Map([['pdf_loaded', loaded]]))),
  ) as { pages: number; characters: number };
  const elapsed = performance.now() - started;
  await ctx.close();
  if (output.pages !== PAGES || output.characters === 0) throw new Error(`the stage extracted ${output.pages} pages, ${output.characters} characters`);
  return elapsed;
}

/** pdf.js alone: open the same bytes and call getTextContent on every page. */
async function runDirect(): Promise<number> {
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const started = performance.now();
  const document = await pdfjs.getDocument({
    data: new Uint8Array(bytes),
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    verbosity: 0,
  }).promise;
  let items = 0;
  for (let pageNumber = 1; pageNumber <= document.numPages; pageNumber++) {
    const page = await document.getPage(pageNumber);
    items += (await page.getTextContent()).items.length;
    page.cleanup();
  }
  await document.destroy();
  const elapsed = performance.now() - started;
  if (items === 0) throw new Error('pdf.js found no text');
  return elapsed;
}

const median = (samples: number[]): number => {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

// Warm-up: pdf.js's parser and our line assembly get compiled before anything is timed.
for (let warmup = 0; warmup < 3; warmup++) {
  await runJobStage();
  await runDirect();
}
const jobMs: number[] = [];
const directMs: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  jobMs.push(await runJobStage());
  directMs.push(await runDirect());
}
const jobPagesPerSecond = PAGES / (median(jobMs) / 1000);
const directPagesPerSecond = PAGES / (median(directMs) / 1000);
const ratio = jobPagesPerSecond / directPagesPerSecond;

console.log(`PDF text extraction, ${PAGES} pages (${(bytes.byteLength / 1024).toFixed(0)} KiB), median of ${ROUNDS} rounds, Node ${process.version}`);
console.log(`  text_extracted stage : ${jobPagesPerSecond.toFixed(0).padStart(6)} pages/s  (${median(jobMs).toFixed(0)} ms; rounds ${jobMs.map((ms) => ms.toFixed(0)).join(', ')})`);
console.log(`  pdf.js direct        : ${directPagesPerSecond.toFixed(0).padStart(6)} pages/s  (${median(directMs).toFixed(0)} ms; rounds ${directMs.map((ms) => ms.toFixed(0)).join(', ')})`);
const bestRatio = Math.min(...directMs) / Math.min(...jobMs);
console.log(`  ratio                : ${ratio.toFixed(3)}  (target >= 0.9: ${ratio >= 0.9 ? 'met' : 'NOT met'}; best round vs best round ${bestRatio.toFixed(3)})`);
console.log(JSON.stringify({ bench: 'pdf-text', pages: PAGES, rounds: ROUNDS, jobPagesPerSecond, directPagesPerSecond, ratio, bestRatio }));

rmSync(folder, { recursive: true, force: true });
