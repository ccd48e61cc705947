import { z } from 'zod';
import type { ImportedProduct } from './product-store.js';
import type { RecordValues } from './record-reader.js';

/** Longest text kept in one field (characters); longer values make the product invalid. */
export const MAX_FIELD_CHARS = 100_000;

const required = (what: string) => ({
  error: (issue: { input?: unknown }) => (issue.input === undefined ? `missing (no ${what} in the record)` : 'expected text'),
});

function isHttpUrl(value: string): boolean {
  return /^https?:\/\//i.test(value) && URL.canParse(value);
}

/**
 * Fields with a type: whatever path they are mapped to, their value must match. The checks
 * are plain string checks (no zod transforms, which cost several times more per product);
 * numbers and the currency's case are converted after validation.
 */
export const TYPED_FIELD_SCHEMAS = {
  sku: z.string(required('SKU')).min(1, 'must not be empty').max(200, 'longer than 200 characters'),
  name: z.string(required('name')).min(1, 'must not be empty').max(1000, 'longer than 1000 characters'),
  price: z.string().regex(/^\d+(\.\d+)?$/, 'expected a non-negative number like 12.50'),
  currency: z.string().regex(/^[A-Za-z]{3}$/, 'expected a 3-letter ISO 4217 code like EUR'),
  stock: z.string().regex(/^\d+$/, 'expected a whole number'),
  url: z.string().refine(isHttpUrl, 'expected an http(s) URL'),
} as const;
/** The typed fields' names. */
export const TYPED_FIELDS = Object.keys(TYPED_FIELD_SCHEMAS) as (keyof typeof TYPED_FIELD_SCHEMAS)[];

/** Any other mapped field: text, or a list of texts when its element repeats. */
const TextFieldSchema = z.union([z.string().max(MAX_FIELD_CHARS), z.array(z.string().max(MAX_FIELD_CHARS)).max(1000)]);

/** The zod schema of a product for a field mapping's fields (`sku` and `name` required, the rest optional). */
export function productSchemaFor(fields: readonly string[]) {
  const shape: Record<string, z.ZodType> = {};
  for (const field of new Set(['sku', 'name', ...fields])) {
    const typed = (TYPED_FIELD_SCHEMAS as Record<string, z.ZodType>)[field];
    const schema = typed ?? TextFieldSchema;
    shape[field] = field === 'sku' || field === 'name' ? schema : schema.optional();
  }
  return z.object(shape);
}

/** The outcome of validating one record. */
export type ProductValidation = { ok: true; product: ImportedProduct } | { ok: false; sku?: string; error: string };

/** Validates one record's values (by field position, as the record reader makes them). */
export type ProductValidator = (values: RecordValues) => ProductValidation;

/**
 * A validator for records of `fields` (the field mapping's keys, in order): typed fields take
 * their first value, other fields a string or, when repeated, an array; a field absent from
 * the record, or empty, is not set (an empty SKU or name is an error). Valid products get
 * `price` and `stock` as numbers and `currency` in upper case.
 */
export function createProductValidator(fields: readonly string[]): ProductValidator {
  const schema = productSchemaFor(fields);
  const typed = fields.map((field) => (TYPED_FIELDS as readonly string[]).includes(field));
  const keepEmpty = fields.map((field) => field === 'sku' || field === 'name');
  return (values) => {
    const raw: Record<string, string | string[]> = {};
    for (let index = 0; index < fields.length; index += 1) {
      const all = values[index];
      if (all === undefined) continue;
      const field = fields[index] as string;
      if (all.length === 1) {
        // The common case, without allocating: one value.
        const only = all[0] as string;
        if (only !== '' || keepEmpty[index]) raw[field] = only;
        continue;
      }
      const found = keepEmpty[index] ? all : all.filter((value) => value !== '');
      if (found.length === 0) continue;
      raw[field] = typed[index] || found.length === 1 ? (found[0] as string) : found;
    }
    const result = schema.safeParse(raw);
    if (result.success) {
      const product = result.data as ImportedProduct & { price?: unknown; stock?: unknown };
      if (typeof product.price === 'string') product.price = Number(product.price);
      if (typeof product.stock === 'string') product.stock = Number(product.stock);
      if (typeof product.currency === 'string') product.currency = product.currency.toUpperCase();
      return { ok: true, product: product as ImportedProduct };
    }
    const error = result.error.issues
      .map((issue) => {
        const field = issue.path.map(String).join('.') || '(record)';
        const value = raw[String(issue.path[0])];
        const shown = typeof value === 'string' && value !== '' && value.length <= 40 && issue.code !== 'invalid_type';
        return `${field}: ${issue.message}${shown ? ` (got "${value}")` : ''}`;
      })
      .join('; ');
    const sku = typeof raw['sku'] === 'string' && raw['sku'] !== '' ? raw['sku'] : undefined;
    return sku === undefined ? { ok: false, error } : { ok: false, sku, error };
  };
}
