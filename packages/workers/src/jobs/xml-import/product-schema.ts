import { z } from 'zod';
import type { ImportedProduct } from './product-store.js';

/** Longest text kept in one field (characters); longer values make the product invalid. */
export const MAX_FIELD_CHARS = 100_000;

/**
 * Fields with a type: whatever path they are mapped to, their value must parse as that
 * type. Every other mapped field is kept as text (an array when the element repeats).
 */
export const TYPED_FIELDS = ['sku', 'name', 'price', 'currency', 'stock', 'url'] as const;
const TYPED = new Set<string>(TYPED_FIELDS);

const required = (what: string) => ({
  error: (issue: { input?: unknown }) => (issue.input === undefined ? `missing (no ${what} in the record)` : `expected text`),
});

/** The zod schema a product is validated with. */
export const ImportedProductSchema = z
  .object({
    sku: z.string(required('SKU')).trim().min(1, 'must not be empty').max(200, 'longer than 200 characters'),
    name: z.string(required('name')).trim().min(1, 'must not be empty').max(1000, 'longer than 1000 characters'),
    price: z
      .string()
      .trim()
      .regex(/^\d+(\.\d+)?$/, 'expected a non-negative number like 12.50')
      .transform(Number)
      .optional(),
    currency: z
      .string()
      .trim()
      .toUpperCase()
      .regex(/^[A-Z]{3}$/, 'expected a 3-letter ISO 4217 code like EUR')
      .optional(),
    stock: z
      .string()
      .trim()
      .regex(/^\d+$/, 'expected a whole number')
      .transform(Number)
      .optional(),
    url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
  })
  .catchall(z.union([z.string().max(MAX_FIELD_CHARS), z.array(z.string().max(MAX_FIELD_CHARS)).max(1000)]));

/** The outcome of validating one record. */
export type ProductValidation = { ok: true; product: ImportedProduct } | { ok: false; sku?: string; error: string };

/**
 * Validates a record's field values (field → every value found, in document order): typed
 * fields take their first value, other fields a string or, when repeated, an array. A mapped
 * field absent from the record, or empty, is simply not set (only `sku` and `name` are required).
 */
export function validateProduct(values: ReadonlyMap<string, string[]>): ProductValidation {
  const raw: Record<string, string | string[]> = {};
  for (const [field, all] of values) {
    // An empty optional element (`<price/>`) means "not given"; an empty SKU or name is an error.
    const found = field === 'sku' || field === 'name' ? all : all.filter((value) => value !== '');
    if (found.length === 0) continue;
    raw[field] = TYPED.has(field) || found.length === 1 ? (found[0] as string) : found;
  }
  const result = ImportedProductSchema.safeParse(raw);
  if (result.success) return { ok: true, product: result.data as ImportedProduct };
  const error = result.error.issues
    .map((issue) => {
      const field = issue.path.map(String).join('.') || '(record)';
      const value = raw[String(issue.path[0])];
      const shown = typeof value === 'string' && value !== '' && value.length <= 40 && issue.code !== 'invalid_type';
      const got = shown ? ` (got "${value}")` : '';
      return `${field}: ${issue.message}${got}`;
    })
    .join('; ');
  const sku = typeof raw['sku'] === 'string' && raw['sku'].trim() !== '' ? raw['sku'].trim() : undefined;
  return sku === undefined ? { ok: false, error } : { ok: false, sku, error };
}
