import { z } from 'zod';
import { parseOrThrow } from '@kai-jobs/queue';
import { ProviderResponseError } from '../../shared/errors.js';
import { HttpRetryOptionsSchema, postJsonWithRetry, type HttpRetryDeps } from '../../shared/http-retry.js';
import type { EmbeddingProvider } from './embedding-provider.js';

/** Options of {@link OpenAiEmbeddingProvider}. */
export const OpenAiEmbeddingProviderOptionsSchema = z
  .object({
    /** API root; requests go to `{baseUrl}/embeddings`. Default `https://api.openai.com/v1`. */
    baseUrl: z.url({ protocol: /^https?$/ }).default('https://api.openai.com/v1'),
    /** Sent as `Authorization: Bearer <apiKey>`. Required; never logged. */
    apiKey: z.string().min(1),
    /** Embedding model. Default `text-embedding-3-small`. */
    model: z.string().min(1).default('text-embedding-3-small'),
    /** Length of the vectors the model returns; answers of another length are refused. Default 1536. */
    dimensions: z.number().int().positive().max(65_536).default(1536),
    /** Also send `dimensions` in the request (models that can shorten their vectors). Default false. */
    sendDimensions: z.boolean().default(false),
    /** Texts per request. Default 96. */
    batchSize: z.number().int().min(1).max(2048).default(96),
    /** Extra request headers (a proxy's or a gateway's). Default none. */
    extraHeaders: z.record(z.string(), z.string()).default({}),
  })
  .extend(HttpRetryOptionsSchema.shape)
  .strict();
/** What callers pass to construct an {@link OpenAiEmbeddingProvider}. */
export type OpenAiEmbeddingProviderOptions = z.input<typeof OpenAiEmbeddingProviderOptionsSchema>;

const EmbeddingsAnswerSchema = z.object({
  data: z.array(z.object({ index: z.number().int().nonnegative(), embedding: z.array(z.number()) })),
});

/**
 * Embeddings from an OpenAI-compatible HTTP API (`POST {baseUrl}/embeddings` with
 * `{ model, input }`; OpenAI, Azure OpenAI behind a gateway, vLLM, Ollama, LiteLLM…).
 * Texts go in batches of `batchSize`; each request has its own timeout and is retried with
 * backoff on 429, 5xx, timeouts and network errors (see `postJsonWithRetry`).
 */
export class OpenAiEmbeddingProvider implements EmbeddingProvider {
  readonly model: string;
  readonly dimensions: number;
  readonly #options: z.output<typeof OpenAiEmbeddingProviderOptionsSchema>;
  readonly #deps: HttpRetryDeps;

  constructor(options: OpenAiEmbeddingProviderOptions, deps: HttpRetryDeps = {}) {
    this.#options = parseOrThrow(OpenAiEmbeddingProviderOptionsSchema, options, 'OpenAiEmbeddingProvider options');
    this.#deps = deps;
    this.model = this.#options.model;
    this.dimensions = this.#options.dimensions;
  }

  async embed(texts: string[], signal: AbortSignal): Promise<number[][]> {
    const vectors: number[][] = [];
    for (let start = 0; start < texts.length; start += this.#options.batchSize) {
      vectors.push(...(await this.embedBatch(texts.slice(start, start + this.#options.batchSize), signal)));
    }
    return vectors;
  }

  private async embedBatch(input: string[], signal: AbortSignal): Promise<number[][]> {
    const options = this.#options;
    const provider = `embeddings API ${new URL(options.baseUrl).host}`;
    const body: Record<string, unknown> = { model: options.model, input, encoding_format: 'float' };
    if (options.sendDimensions) body['dimensions'] = options.dimensions;
    const answer = await postJsonWithRetry(
      {
        provider,
        url: `${options.baseUrl.replace(/\/+$/, '')}/embeddings`,
        headers: { ...options.extraHeaders, authorization: `Bearer ${options.apiKey}` },
        body,
        signal,
      },
      options,
      this.#deps,
    );
    const parsed = EmbeddingsAnswerSchema.safeParse(answer);
    if (!parsed.success) throw new ProviderResponseError(provider, `answer is not an embeddings list: ${parsed.error.issues[0]?.message ?? ''}`);
    const vectors = new Array<number[] | undefined>(input.length);
    for (const item of parsed.data.data) {
      if (item.index >= input.length) throw new ProviderResponseError(provider, `answer has index ${item.index} for ${input.length} inputs`);
      if (item.embedding.length !== this.dimensions) {
        throw new ProviderResponseError(
          provider,
          `model ${options.model} returned ${item.embedding.length} dimensions, configured ${this.dimensions} (option dimensions)`,
        );
      }
      vectors[item.index] = item.embedding;
    }
    const missing = vectors.findIndex((vector) => vector === undefined);
    if (missing >= 0) throw new ProviderResponseError(provider, `answer has no embedding for input ${missing} of ${input.length}`);
    return vectors as number[][];
  }
}
