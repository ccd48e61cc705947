import type { PageText } from '../page-text.js';
import type { Material } from './material.js';

/**
 * Finds materials in page text. The `materials_extracted` stage calls it with batches of
 * pages and merges the answers by key. Implementations: {@link RuleBasedMaterialExtractor}
 * (the default, local) and {@link AnthropicMaterialExtractor} (an LLM).
 */
export interface MaterialExtractor {
  /** Recorded on each material (`rules`, `anthropic:<model>`). */
  readonly name: string;
  /** Materials in `pages`, each with the pages that mention it. Rejects when `signal` aborts. */
  extract(pages: readonly PageText[], signal: AbortSignal): Promise<Material[]>;
}

/** True when `value` looks like a {@link MaterialExtractor} (for option schemas). */
export function isMaterialExtractor(value: unknown): value is MaterialExtractor {
  const candidate = value as Partial<MaterialExtractor> | null;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.extract === 'function' && typeof candidate.name === 'string';
}
