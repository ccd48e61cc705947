import { z } from 'zod';
import { parseOrThrow } from '@kai-jobs/queue';
import { ProviderResponseError } from '../../shared/errors.js';
import { HttpRetryOptionsSchema, postJsonWithRetry, type HttpRetryDeps } from '../../shared/http-retry.js';
import type { PageText } from '../page-text.js';
import {
  MaterialCategory,
  MaterialCategorySchema,
  materialKey,
  mergeMaterials,
  ProductCategory,
  ProductCategorySchema,
  type Material,
  type MaterialDimensions,
  type MaterialProperties,
} from './material.js';
import type { MaterialExtractor } from './material-extractor.js';
import { parseDimensions } from './measurements.js';

/** Options of {@link AnthropicMaterialExtractor}. */
export const AnthropicMaterialExtractorOptionsSchema = z
  .object({
    /** API root; requests go to `{baseUrl}/v1/messages`. Default `https://api.anthropic.com`. */
    baseUrl: z.url({ protocol: /^https?$/ }).default('https://api.anthropic.com'),
    /** Sent as `x-api-key`. Required; never logged. */
    apiKey: z.string().min(1),
    /** Model name. Required: model names change faster than this code. */
    model: z.string().min(1),
    /** `anthropic-version` header. Default `2023-06-01`. */
    anthropicVersion: z.string().min(1).default('2023-06-01'),
    /** Most tokens the model may answer with per request. Default 4096. */
    maxTokens: z.number().int().min(256).max(64_000).default(4096),
    /** Page text per request (characters); pages are packed up to it, a longer page is cut. Default 30000. */
    maxCharsPerRequest: z.number().int().min(1000).max(500_000).default(30_000),
  })
  .extend(HttpRetryOptionsSchema.shape)
  .extend({
    /** Longest wait for one request (ms): models take a while to write. Default 120000. */
    timeoutMs: z.number().int().positive().default(120_000),
  })
  .strict();
/** What callers pass to construct an {@link AnthropicMaterialExtractor}. */
export type AnthropicMaterialExtractorOptions = z.input<typeof AnthropicMaterialExtractorOptionsSchema>;

const MessagesAnswerSchema = z.object({
  content: z.array(z.object({ type: z.string(), text: z.string().optional() })),
  stop_reason: z.string().nullable().optional(),
});

const AnsweredMaterialSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    material: z.string().min(1).max(100).nullable().optional(),
    category: MaterialCategorySchema.catch(MaterialCategory.Other).default(MaterialCategory.Other),
    productCategory: ProductCategorySchema.nullable().optional(),
    dimensions: z.string().max(100).nullable().optional(),
    /** Every format stated (`["60x60 cm", "30x60 cm"]`); each must parse as a size. */
    formats: z.array(z.string().max(100)).max(100).nullable().optional(),
    thicknessMm: z.number().positive().max(10_000).nullable().optional(),
    finish: z.string().min(1).max(50).nullable().optional(),
    colour: z.string().min(1).max(50).nullable().optional(),
    properties: z
      .object({
        slipRating: z.string().nullable().optional(),
        pei: z.number().int().min(0).max(5).nullable().optional(),
        species: z.string().min(1).max(50).nullable().optional(),
        grade: z.string().min(1).max(50).nullable().optional(),
        wearLayerMm: z.number().positive().max(100).nullable().optional(),
        origin: z.string().min(1).max(80).nullable().optional(),
        densityKgM3: z.number().positive().max(20_000).nullable().optional(),
        waterAbsorptionPct: z.number().min(0).max(100).nullable().optional(),
      })
      .nullable()
      .optional(),
    pages: z.array(z.number().int().positive()).default([]),
    excerpt: z.string().optional(),
  })
  .superRefine((item, ctx) => {
    for (const [index, format] of (item.formats ?? []).entries()) {
      if (parseDimensions(format) === null) ctx.addIssue({ code: 'custom', path: ['formats', index], message: `"${format}" is not a size like "60x60 cm"` });
    }
    const slip = item.properties?.slipRating;
    if (slip != null && !/^R\s?(9|1[0-3])$/.test(slip)) ctx.addIssue({ code: 'custom', path: ['properties', 'slipRating'], message: `"${slip}" is not R9…R13` });
  });
const AnsweredMaterialsSchema = z.object({ materials: z.array(AnsweredMaterialSchema) });

const SYSTEM_PROMPT = [
  'You extract the products (tiles, natural stone, wood flooring, vinyl/LVT, laminate…) that a supplier catalogue sells.',
  'A product has a trade name and stated properties (a table row, a block under a heading, a specification list).',
  'Do not list prose mentions, contents entries, tools or installation materials.',
  'Answer with one JSON object and nothing else, of this shape:',
  '{"materials":[{"name":"Calacatta Oro","material":"porcelain stoneware","category":"ceramic","productCategory":"tile",',
  '"formats":["60x120 cm","120x280 cm"],"thicknessMm":9,"finish":"polished","colour":null,',
  '"properties":{"slipRating":"R9","pei":null,"species":null,"grade":null,"wearLayerMm":null,"origin":null,"densityKgM3":null,"waterAbsorptionPct":null},',
  '"pages":[2],"excerpt":"Calacatta Oro 60x120 cm 9 mm Lucido R9"}]}',
  `category is one of ${Object.values(MaterialCategory).join(', ')}; productCategory one of ${Object.values(ProductCategory).join(', ')}.`,
  'Finish in English. Use null for anything the text does not state.',
  'pages lists the page numbers (from the <page number="…"> tags) that mention the product. Do not invent products.',
].join('\n');

/** The first JSON object in a model's text (it may wrap it in a ```json fence or a sentence). */
function jsonObjectIn(text: string): unknown {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(text)?.[1] ?? text;
  const start = fenced.indexOf('{');
  const end = fenced.lastIndexOf('}');
  if (start < 0 || end <= start) throw new Error('no JSON object in the answer');
  return JSON.parse(fenced.slice(start, end + 1));
}

/**
 * Materials from an LLM through the Anthropic Messages API (`POST {baseUrl}/v1/messages`
 * with `x-api-key` and `anthropic-version`; Anthropic or a compatible gateway). Pages are
 * packed into requests of at most `maxCharsPerRequest` characters; the answer must be the
 * JSON asked for and is validated, then normalised like the rule-based extractor's (same
 * dimension parsing, same keys). Page numbers outside the request are dropped.
 */
export class AnthropicMaterialExtractor implements MaterialExtractor {
  readonly name: string;
  readonly #options: z.output<typeof AnthropicMaterialExtractorOptionsSchema>;
  readonly #deps: HttpRetryDeps;

  constructor(options: AnthropicMaterialExtractorOptions, deps: HttpRetryDeps = {}) {
    this.#options = parseOrThrow(AnthropicMaterialExtractorOptionsSchema, options, 'AnthropicMaterialExtractor options');
    this.#deps = deps;
    this.name = `anthropic:${this.#options.model}`;
  }

  async extract(pages: readonly PageText[], signal: AbortSignal): Promise<Material[]> {
    const found: Material[] = [];
    for (const batch of this.batches(pages)) found.push(...(await this.extractBatch(batch, signal)));
    return mergeMaterials(found);
  }

  /** Packs pages (with text) into requests of at most `maxCharsPerRequest` characters. */
  private batches(pages: readonly PageText[]): PageText[][] {
    const limit = this.#options.maxCharsPerRequest;
    const batches: PageText[][] = [];
    let current: PageText[] = [];
    let size = 0;
    for (const page of pages) {
      if (page.text.trim() === '') continue;
      const text = page.text.length > limit ? page.text.slice(0, limit) : page.text;
      if (current.length > 0 && size + text.length > limit) {
        batches.push(current);
        current = [];
        size = 0;
      }
      current.push({ page: page.page, text });
      size += text.length;
    }
    if (current.length > 0) batches.push(current);
    return batches;
  }

  private async extractBatch(pages: PageText[], signal: AbortSignal): Promise<Material[]> {
    const options = this.#options;
    const provider = `messages API ${new URL(options.baseUrl).host}`;
    const answer = await postJsonWithRetry(
      {
        provider,
        url: `${options.baseUrl.replace(/\/+$/, '')}/v1/messages`,
        headers: { 'x-api-key': options.apiKey, 'anthropic-version': options.anthropicVersion },
        body: {
          model: options.model,
          max_tokens: options.maxTokens,
          system: SYSTEM_PROMPT,
          messages: [{ role: 'user', content: pages.map((page) => `<page number="${page.page}">\n${page.text}\n</page>`).join('\n') }],
        },
        signal,
      },
      options,
      this.#deps,
    );
    const message = MessagesAnswerSchema.safeParse(answer);
    if (!message.success) throw new ProviderResponseError(provider, 'answer is not a Messages API message');
    if (message.data.stop_reason === 'max_tokens') {
      throw new ProviderResponseError(provider, `answer was cut at maxTokens (${options.maxTokens}); raise maxTokens or lower maxCharsPerRequest`);
    }
    const text = message.data.content.map((block) => (block.type === 'text' ? (block.text ?? '') : '')).join('');
    try {
      return parseMaterialAnswer(text, pages.map((page) => page.page), this.name);
    } catch (error) {
      // A sampled answer may be well-formed next time: let the job's retry ask again.
      throw new ProviderResponseError(provider, `answer is not the JSON asked for: ${(error as Error).message.slice(0, 300)}`, {
        retryable: true,
        cause: error,
      });
    }
  }
}

/**
 * Validates a model's answer text and turns it into materials (the rule-based extractor's
 * schema, keys and units). Throws an Error saying what is wrong (no JSON object, not JSON,
 * which field of which material is invalid). A material citing no page of `askedPages` is
 * dropped (not trusted).
 */
export function parseMaterialAnswer(text: string, askedPages: readonly number[], extractorName: string): Material[] {
  let json: unknown;
  try {
    json = jsonObjectIn(text);
  } catch (error) {
    throw new Error(error instanceof SyntaxError ? `the answer is not valid JSON (${error.message})` : (error as Error).message, { cause: error });
  }
  const parsed = AnsweredMaterialsSchema.safeParse(json);
  if (!parsed.success) throw new Error(`the answer does not match the materials schema: ${z.prettifyError(parsed.error).replace(/\s*\n\s*/g, '; ')}`);
  const asked = new Set(askedPages);
  const materials: Material[] = [];
  for (const item of parsed.data.materials) {
    const pagesCited = [...new Set(item.pages.filter((page) => asked.has(page)))].sort((a, b) => a - b);
    if (pagesCited.length === 0) continue; // cites no page it was shown: not trusted
    const formats = (item.formats ?? []).map((format) => parseDimensions(format) as MaterialDimensions);
    const dimensions = item.dimensions == null ? (formats[0] ?? null) : parseDimensions(item.dimensions);
    const fields = {
      name: item.name,
      dimensions,
      thicknessMm: item.thicknessMm ?? null,
      finish: item.finish?.trim().toLowerCase() ?? null,
      colour: item.colour?.trim() ?? null,
    };
    const stated = Object.entries(item.properties ?? {}).filter(([, value]) => value !== null && value !== undefined);
    const properties = Object.fromEntries(stated.map(([key, value]) => [key, key === 'slipRating' ? String(value).replace(/\s/g, '') : value])) as MaterialProperties;
    materials.push({
      ...fields,
      key: materialKey(fields),
      material: (item.material ?? item.name).trim().toLowerCase().slice(0, 100),
      category: item.category,
      ...(item.productCategory == null ? {} : { productCategory: item.productCategory }),
      formats: formats.length > 0 ? formats : dimensions === null ? [] : [dimensions],
      properties,
      pages: pagesCited,
      excerpt: (item.excerpt ?? '').slice(0, 400),
      extractor: extractorName,
    });
  }
  return materials;
}
