import { z } from 'zod';
import { ArtifactRefSchema } from '@kai-jobs/queue';
import { defineStage, type StageDefinition } from '../../../staged-job.js';
import { readVerifiedArtifact } from '../../shared/artifact-io.js';
import type { ResolvedPdfJobOptions } from '../config.js';
import { MaterialSchema, mergeMaterials, type Material } from '../materials/material.js';
import { decodePageTexts } from '../page-text.js';
import type { TextExtractedStage } from './text-extracted.js';

/** Output of `materials_extracted`. */
export const MaterialsExtractedOutputSchema = z.object({
  /** True when the payload asked for no materials (`options.skipMaterials`). */
  skipped: z.boolean(),
  /** Materials found in this document (and upserted into the material store). */
  materials: z.number().int().nonnegative(),
  /** The extractor's name (`rules`, `anthropic:<model>`); null when skipped. */
  extractor: z.string().nullable(),
  /** `materials.json`: the materials found, as saved; null when skipped. */
  materialsArtifact: ArtifactRefSchema.nullable(),
});
/** Output of `materials_extracted`. */
export type MaterialsExtractedOutput = z.infer<typeof MaterialsExtractedOutputSchema>;

/** The `materials_extracted` stage's definition type. */
export type MaterialsExtractedStage = StageDefinition<'pdf', 'materials_extracted', typeof MaterialsExtractedOutputSchema>;

/**
 * Builds the `materials_extracted` stage: the extractor runs over batches of pages, the
 * answers are merged by material key (a material on pages 2 and 15 is one material), and the
 * whole set is upserted into the material store in one call at the end — so a crash before
 * it writes nothing, and a re-run writes the same keys again instead of adding rows.
 */
export function createMaterialsExtractedStage(options: ResolvedPdfJobOptions, deps: { text: TextExtractedStage }): MaterialsExtractedStage {
  const extractor = options.materialExtractor;
  return defineStage({
    name: 'materials_extracted',
    output: MaterialsExtractedOutputSchema,
    weight: 1,
    async run(ctx, previous) {
      if (ctx.payload.options.skipMaterials) {
        await ctx.progress(100, 'materials skipped');
        return { skipped: true, materials: 0, extractor: null, materialsArtifact: null };
      }
      const extracted = previous.get(deps.text);
      const pages = decodePageTexts((await readVerifiedArtifact(ctx.artifacts, extracted.text)).toString('utf8'));
      const found: Material[] = [];
      const batchSize = options.materialPagesPerBatch;
      for (let start = 0; start < pages.length; start += batchSize) {
        ctx.throwIfAborted();
        const batch = pages.slice(start, start + batchSize);
        const materials = await extractor.extract(batch, ctx.signal);
        // Validated here too: an extractor is pluggable, the store and the result are not.
        found.push(...materials.map((material) => MaterialSchema.parse(material)));
        const reached = (batch.at(-1) as { page: number }).page;
        await ctx.progress(((start + batch.length) / pages.length) * 100, `page ${reached} of ${pages.length}`);
      }
      const materials = mergeMaterials(found);
      ctx.throwIfAborted();
      await options.materialStore.upsertMany(ctx.payload.documentId, materials);
      const materialsArtifact = await ctx.artifacts.put('materials.json', JSON.stringify(materials), { contentType: 'application/json' });
      if (pages.length === 0) await ctx.progress(100, 'no pages');
      ctx.logger.info('materials extracted', { materials: materials.length, extractor: extractor.name });
      return { skipped: false, materials: materials.length, extractor: extractor.name, materialsArtifact };
    },
  });
}
