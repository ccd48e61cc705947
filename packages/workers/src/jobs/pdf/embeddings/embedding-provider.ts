/**
 * Turns texts into vectors. The PDF job's `embeddings_created` stage calls it with batches of
 * chunk texts; implementations: {@link HashingEmbeddingProvider} (local, the default) and
 * {@link OpenAiEmbeddingProvider} (any OpenAI-compatible embeddings API).
 */
export interface EmbeddingProvider {
  /** Model name recorded with the vectors (e.g. `text-embedding-3-small`). */
  readonly model: string;
  /** Length of every vector `embed` returns. */
  readonly dimensions: number;
  /**
   * One vector per text, in the order of `texts`. Rejects with the signal's reason when it
   * aborts; never returns a partial answer.
   */
  embed(texts: string[], signal: AbortSignal): Promise<number[][]>;
}

/** True when `value` looks like an {@link EmbeddingProvider} (for option schemas). */
export function isEmbeddingProvider(value: unknown): value is EmbeddingProvider {
  const candidate = value as Partial<EmbeddingProvider> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.embed === 'function' &&
    typeof candidate.model === 'string' &&
    Number.isInteger(candidate.dimensions) &&
    (candidate.dimensions ?? 0) > 0
  );
}
