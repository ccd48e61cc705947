import type { ArtifactRef } from '@kai-jobs/queue';
import { defineStagedJob, type StagedJobDefinition } from '../../staged-job.js';
import { parsePdfJobOptions, type PdfJobOptions } from './config.js';
import { createEmbeddingsCreatedStage } from './stages/embeddings-created.js';
import { createMaterialsExtractedStage } from './stages/materials-extracted.js';
import { createPdfLoadedStage } from './stages/pdf-loaded.js';
import { createTextExtractedStage } from './stages/text-extracted.js';
import { createTilesGeneratedStage } from './stages/tiles-generated.js';

/**
 * The PDF processing job (`pdf`, queue `pdf-processing`): `pdf_loaded` → `text_extracted` →
 * `tiles_generated` → `embeddings_created` → `materials_extracted`. Each stage's output is a
 * small checkpoint of counts and artifact refs; text, tiles, chunks and vectors live in the
 * artifact store. The result lists the document's pages, chunks, tiles and materials and the
 * top-level artifacts (the PDF, page text, tile manifest, chunks, vectors, materials).
 *
 * @throws `ValidationError` when `options` are invalid (every bad field named).
 */
export function createPdfJob(options: PdfJobOptions): StagedJobDefinition<'pdf'> {
  const resolved = parsePdfJobOptions(options);
  const loaded = createPdfLoadedStage(resolved);
  const text = createTextExtractedStage(resolved, { loaded });
  const tiles = createTilesGeneratedStage(resolved, { loaded });
  const embeddings = createEmbeddingsCreatedStage(resolved, { text });
  const materials = createMaterialsExtractedStage(resolved, { text });
  return defineStagedJob({
    type: 'pdf',
    stages: [loaded, text, tiles, embeddings, materials],
    result(outputs, { payload }) {
      const loadedOut = outputs.get(loaded);
      const textOut = outputs.get(text);
      const tilesOut = outputs.get(tiles);
      const embeddingsOut = outputs.get(embeddings);
      const materialsOut = outputs.get(materials);
      const artifacts: ArtifactRef[] = [loadedOut.pdf, textOut.text];
      if (tilesOut.manifest !== null) artifacts.push(tilesOut.manifest);
      artifacts.push(embeddingsOut.chunksArtifact, embeddingsOut.vectors);
      if (materialsOut.materialsArtifact !== null) artifacts.push(materialsOut.materialsArtifact);
      return {
        documentId: payload.documentId,
        pages: loadedOut.pagesToProcess,
        chunks: embeddingsOut.chunks,
        tiles: tilesOut.tiles,
        materials: materialsOut.materials,
        artifacts,
      };
    },
  });
}
