import { describe, expect, it } from 'vitest';
import { decodeVectors, encodeVectors, HashingEmbeddingProvider } from '@kai-jobs/workers';

const cosine = (a: number[], b: number[]): number => a.reduce((sum, value, index) => sum + value * (b[index] as number), 0);

describe('HashingEmbeddingProvider', () => {
  const provider = new HashingEmbeddingProvider();
  const signal = new AbortController().signal;

  it('gives deterministic, L2-normalised vectors of a fixed dimension', async () => {
    const [a, b] = await provider.embed(['Polished Carrara marble tile', 'Polished Carrara marble tile'], signal);
    expect(provider.dimensions).toBe(256);
    expect(provider.model).toBe('hashing-ngram-v1-256');
    expect(a).toHaveLength(256);
    expect(a).toEqual(b);
    expect(Math.hypot(...(a as number[]))).toBeCloseTo(1, 10);
    expect(new HashingEmbeddingProvider({ dimensions: 64 }).embedOne('oak')).toHaveLength(64);
  });

  it('is lexical: shared words and word pairs bring texts closer, synonyms do not', async () => {
    const [query, sameWords, otherWords, synonyms] = await provider.embed(
      ['polished marble floor tiles', 'marble floor tiles, polished finish', 'oiled oak planks for decking', 'shiny stone flooring'],
      signal,
    );
    const q = query as number[];
    expect(cosine(q, sameWords as number[])).toBeGreaterThan(0.5);
    expect(cosine(q, sameWords as number[])).toBeGreaterThan(cosine(q, otherWords as number[]));
    expect(Math.abs(cosine(q, synonyms as number[]))).toBeLessThan(0.3);
  });

  it('gives the zero vector for text without words, and honours an aborted signal', async () => {
    expect(provider.embedOne(' ... ').every((value) => value === 0)).toBe(true);
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(provider.embed(['x'], controller.signal)).rejects.toThrow('stop');
  });

  it('refuses a bad dimension', () => {
    expect(() => new HashingEmbeddingProvider({ dimensions: 3 })).toThrow(/dimensions/);
  });
});

describe('vector codec', () => {
  it('round-trips float32 rows and refuses ragged input', () => {
    const vectors = [
      [0.5, -0.25, 1],
      [0, 0.125, -1],
    ];
    const bytes = encodeVectors(vectors, 3);
    expect(bytes.byteLength).toBe(24);
    expect(decodeVectors(bytes, 3)).toEqual(vectors);
    expect(() => encodeVectors([[1, 2]], 3)).toThrow(/2 dimensions, expected 3/);
    expect(() => decodeVectors(bytes.subarray(0, 10), 3)).toThrow(/whole number/);
  });
});
