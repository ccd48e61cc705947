/**
 * Reproduced the SIGSEGV the soak found on 2026-11-29: the PDF job's `tiles_generated` stage
 * (pdf.js rendering onto @napi-rs/canvas in a CPU-pool thread) run again and again on one
 * long-lived pool thread killed the process with a segmentation fault after a few hundred renders
 * (exit code 139, no log line). The cause — `@napi-rs/canvas`' async `encode()` letting the
 * garbage collector free the surface it encodes — is fixed in `render-page-tiles.ts` (synchronous
 * encoding); this script is kept as the regression check. With `--recycle=N` the pool is replaced
 * every N runs, to compare.
 *
 *   pnpm tsx bench/lib/tiles-crash-repro.ts [--runs=700] [--recycle=0]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { CpuPool, createPdfJob, InMemoryMaterialStore, LocalFolderArtifactStore, stageOutputsOf, type StageDefinition } from '@kai-jobs/workers';
import { createTestStageContext } from '@kai-jobs/workers/testing';
import { arg } from './stats.js';

const RUNS = arg('runs', 700);
const RECYCLE = arg('recycle', 0);

const document = await PDFDocument.create();
const font = await document.embedFont(StandardFonts.Helvetica);
for (let pageIndex = 0; pageIndex < 2; pageIndex++) {
  const page = document.addPage([595, 842]);
  for (let line = 0; line < 30; line++) page.drawText(`Line ${line}: grey granite paving 600 x 400 mm, flamed.`, { x: 56, y: 790 - line * 20, size: 10, font });
}
const folder = mkdtempSync(join(tmpdir(), 'kai-tiles-repro-'));
const pdfPath = join(folder, 'doc.pdf');
writeFileSync(pdfPath, await document.save());
const artifacts = new LocalFolderArtifactStore(join(folder, 'artifacts'));
const stages = createPdfJob({ fileRoot: folder, materialStore: new InMemoryMaterialStore() }).stages as readonly StageDefinition<'pdf'>[];
const payload = { documentId: 'repro', source: { kind: 'file' as const, path: pdfPath }, options: { renderScale: 1 } };
let cpuPool = new CpuPool({ size: 1 });

// pdf_loaded and text_extracted once; then tiles_generated over and over on the same thread.
const outputs = new Map<string, unknown>();
for (const stage of stages.slice(0, 2)) {
  const ctx = createTestStageContext({ type: 'pdf', stage: stage.name, payload, artifacts, jobId: 'repro', cpuPool });
  outputs.set(stage.name, stage.output.parse(await stage.run(ctx, stageOutputsOf(outputs as never))));
  await ctx.close();
}
const tiles = stages[2] as StageDefinition<'pdf'>;
for (let run = 0; run < RUNS; run++) {
  const ctx = createTestStageContext({ type: 'pdf', stage: tiles.name, payload, artifacts, jobId: `repro-${run}`, cpuPool });
  await tiles.run(ctx, stageOutputsOf(outputs as never));
  await ctx.close();
  if (RECYCLE > 0 && run % RECYCLE === RECYCLE - 1) {
    await cpuPool.close();
    cpuPool = new CpuPool({ size: 1 });
  }
  if (run % 25 === 0) process.stdout.write(`run ${run}: RSS ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB\n`);
}
await cpuPool.close();
rmSync(folder, { recursive: true, force: true });
process.stdout.write(`${RUNS} runs without a crash\n`);
