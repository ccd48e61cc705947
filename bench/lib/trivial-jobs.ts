import { z } from 'zod';
import { PdfStage, type PdfResult } from '@kai-jobs/queue';
import { defineStage, type StageContext, type StagedJobDefinition } from '@kai-jobs/workers';

const Output = z.object({ i: z.number() });

/** A pdf-typed job of `count` trivial stages (benchmarks only; not catalog-complete when count < 5). */
export function trivialJob(count: number, hooks: { onStage?: (ctx: StageContext<'pdf'>, index: number) => Promise<void> } = {}): StagedJobDefinition<'pdf'> {
  const names = Object.values(PdfStage).slice(0, count);
  return {
    type: 'pdf',
    stages: names.map((name, i) =>
      defineStage({
        name,
        output: Output,
        run: async (ctx) => {
          await hooks.onStage?.(ctx, i);
          return { i };
        },
      }),
    ),
    result: (_outputs, { payload }): PdfResult => ({ documentId: payload.documentId, pages: 0, chunks: 0, tiles: 0, materials: 0, artifacts: [] }),
  };
}

/** A trivial pdf payload. */
export const benchPayload = (i: number | string) => ({ documentId: `d${i}`, source: { kind: 'file' as const, path: '/x.pdf' } });

/** Resolves when `signal` aborts (a stage that hangs until the monitor restarts it). */
export function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
}

/** Prints the machine-readable result line `pnpm bench` collects. */
export function emitJson(bench: string, data: unknown): void {
  process.stdout.write(`${JSON.stringify({ bench, ...(data as object) })}\n`);
}
