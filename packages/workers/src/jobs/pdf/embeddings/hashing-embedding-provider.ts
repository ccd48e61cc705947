import { z } from 'zod';
import { parseOrThrow } from '@kai-jobs/queue';
import type { EmbeddingProvider } from './embedding-provider.js';

/** Options of {@link HashingEmbeddingProvider}. */
export const HashingEmbeddingProviderOptionsSchema = z
  .object({
    /** Vector length. Default 256. */
    dimensions: z.number().int().min(16).max(8192).default(256),
  })
  .strict();
/** What callers pass to construct a {@link HashingEmbeddingProvider}. */
export type HashingEmbeddingProviderOptions = z.input<typeof HashingEmbeddingProviderOptionsSchema>;

/** FNV-1a, 32 bit, over UTF-16 code units: tiny, fast, and stable across versions and platforms. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Lower-cased words (letters and digits), accents kept. */
function words(text: string): string[] {
  return text.normalize('NFKC').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/**
 * The default, local embedding: feature hashing of word unigrams and bigrams into a
 * fixed-length vector (each feature adds ±1 at `hash mod dimensions`, the sign from another
 * bit of the hash so collisions cancel out on average), then L2-normalised.
 *
 * It is **lexical, not semantic**: two chunks are close when they share words and word pairs
 * ("polished marble"), not when they mean the same thing in other words ("shiny stone"). It
 * needs no model, no network and no GPU, and gives the same vector for the same text on every
 * machine, which makes pipelines and tests reproducible. Use an {@link OpenAiEmbeddingProvider}
 * for semantic search. An empty text gives the zero vector.
 */
export class HashingEmbeddingProvider implements EmbeddingProvider {
  readonly dimensions: number;
  readonly model: string;

  constructor(options: HashingEmbeddingProviderOptions = {}) {
    const parsed = parseOrThrow(HashingEmbeddingProviderOptionsSchema, options, 'HashingEmbeddingProvider options');
    this.dimensions = parsed.dimensions;
    this.model = `hashing-ngram-v1-${parsed.dimensions}`;
  }

  /** Embeds one text (synchronous; the batch API wraps it). */
  embedOne(text: string): number[] {
    const vector = new Array<number>(this.dimensions).fill(0);
    const tokens = words(text);
    const add = (feature: string): void => {
      const hash = fnv1a(feature);
      const index = hash % this.dimensions;
      vector[index] = (vector[index] as number) + ((hash >>> 31) === 1 ? -1 : 1);
    };
    for (let index = 0; index < tokens.length; index++) {
      add(tokens[index] as string);
      if (index > 0) add(`${tokens[index - 1] as string} ${tokens[index] as string}`);
    }
    let norm = 0;
    for (const value of vector) norm += value * value;
    if (norm === 0) return vector;
    const scale = 1 / Math.sqrt(norm);
    return vector.map((value) => value * scale);
  }

  async embed(texts: string[], signal: AbortSignal): Promise<number[][]> {
    signal.throwIfAborted();
    return texts.map((text) => this.embedOne(text));
  }
}
