import { z } from 'zod';
import { ArtifactRefSchema } from '@kai-jobs/queue';
import { defineStage, type StageDefinition } from '../../../staged-job.js';
import { readVerifiedArtifact, toJsonLines } from '../../shared/artifact-io.js';
import { ProviderResponseError } from '../../shared/errors.js';
import { chunkPages } from '../chunking.js';
import type { ResolvedPdfJobOptions } from '../config.js';
import { writeVectorRow } from '../embeddings/vector-codec.js';
import { decodePageTexts } from '../page-text.js';
import type { TextExtractedStage } from './text-extracted.js';

/** Output of `embeddings_created`. */
export const EmbeddingsCreatedOutputSchema = z.object({
  chunks: z.number().int().nonnegative(),
  /** The provider's model and vector length. */
  model: z.string(),
  dimensions: z.number().int().positive(),
  chunkSizeChars: z.number().int().positive(),
  chunkOverlapChars: z.number().int().nonnegative(),
  /** `chunks.jsonl`: `{ index, page, start, end, text }` per line; line i is row i of the vectors. */
  chunksArtifact: ArtifactRefSchema,
  /** `vectors.f32`: `chunks × dimensions` float32, little-endian, row-major. */
  vectors: ArtifactRefSchema,
});
/** Output of `embeddings_created`. */
export type EmbeddingsCreatedOutput = z.infer<typeof EmbeddingsCreatedOutputSchema>;

/** The `embeddings_created` stage's definition type. */
export type EmbeddingsCreatedStage = StageDefinition<'pdf', 'embeddings_created', typeof EmbeddingsCreatedOutputSchema>;

/**
 * Builds the `embeddings_created` stage: page text chunked by paragraph with overlap, chunks
 * embedded in batches through the configured provider, chunk texts and vectors stored as two
 * artifacts. Progress is per batch, with the page reached.
 */
export function createEmbeddingsCreatedStage(options: ResolvedPdfJobOptions, deps: { text: TextExtractedStage }): EmbeddingsCreatedStage {
  const provider = options.embeddingProvider;
  return defineStage({
    name: 'embeddings_created',
    output: EmbeddingsCreatedOutputSchema,
    weight: 2,
    async run(ctx, previous) {
      const extracted = previous.get(deps.text);
      const { chunkSizeChars, chunkOverlapChars } = ctx.payload.options;
      const pages = decodePageTexts((await readVerifiedArtifact(ctx.artifacts, extracted.text)).toString('utf8'));
      const chunks = chunkPages(pages, { chunkSizeChars, chunkOverlapChars });
      const lastPage = pages.at(-1)?.page ?? 0;
      // Each batch's vectors go straight into the artifact's bytes (float32), not into an array of all of them.
      const vectors = Buffer.alloc(chunks.length * provider.dimensions * 4);
      for (let start = 0; start < chunks.length; start += options.embeddingBatchSize) {
        ctx.throwIfAborted();
        const batch = chunks.slice(start, start + options.embeddingBatchSize);
        const embedded = await provider.embed(
          batch.map((chunk) => chunk.text),
          ctx.signal,
        );
        if (embedded.length !== batch.length) {
          throw new ProviderResponseError(provider.model, `returned ${embedded.length} vectors for ${batch.length} texts`);
        }
        embedded.forEach((vector, offset) => writeVectorRow(vectors, start + offset, vector, provider.dimensions));
        const done = start + batch.length;
        await ctx.progress((done / chunks.length) * 100, `page ${(batch.at(-1) as { page: number }).page} of ${lastPage} (${done} of ${chunks.length} chunks)`);
      }
      if (chunks.length === 0) await ctx.progress(100, 'no text to embed');
      const chunksArtifact = await ctx.artifacts.put('chunks.jsonl', toJsonLines(chunks), { contentType: 'application/x-ndjson' });
      const vectorsArtifact = await ctx.artifacts.put('vectors.f32', vectors, {
        contentType: 'application/octet-stream',
      });
      return {
        chunks: chunks.length,
        model: provider.model,
        dimensions: provider.dimensions,
        chunkSizeChars,
        chunkOverlapChars,
        chunksArtifact,
        vectors: vectorsArtifact,
      };
    },
  });
}
