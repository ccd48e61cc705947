import { currencyFieldOf, FieldType, fieldTypeOf, type FieldMapping, type FieldMappingEntry, type FieldSpec } from '@kai-jobs/queue';
import type { ImportedProduct } from './product-store.js';
import type { RecordValues } from './record-reader.js';

/** Longest text kept in one field (characters); longer values make the product invalid. */
export const MAX_FIELD_CHARS = 100_000;

/** Most values one field may hold (a repeated element, a split list). */
export const MAX_FIELD_VALUES = 1000;

/** Why a value was refused (a class, so a parsed value is told from a refusal without allocating a result object). */
class Refusal {
  constructor(readonly message: string) {}
}

/** A value's parser: the typed value, or why it is not one. `money` also sets `scratch.currency`. */
type Parse = (value: string, scratch: { currency: string | undefined }) => string | number | Refusal;

/** One field of the mapping, compiled. */
interface FieldRule {
  field: string;
  /** Positions in {@link RecordValues} of the field's paths, in the order they are tried. */
  slots: number[];
  required: boolean;
  /** What a missing value is called in the error (`SKU` for `sku`). */
  what: string;
  /** Always a list (`list: true`), or a list only when repeated (untyped text), or one value. */
  shape: 'list' | 'text' | 'one';
  separator: string | undefined;
  parse: Parse;
  /** `money`: the field that gets the code written with the amount. */
  currencyField: string | undefined;
}

const NUMBER = /^\d+(\.\d+)?$/;
const NUMBER_COMMA = /^(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$/;
const INTEGER = /^\d+$/;
const INTEGER_GROUPED = /^\d{1,3}(\.\d{3})+$/;
const CURRENCY = /^[A-Za-z]{3}$/;
const WEIGHT_IN_KG: Readonly<Record<string, number>> = { kg: 1, g: 0.001, lb: 0.45359237, lbs: 0.45359237, oz: 0.028349523125 };

function isHttpUrl(value: string): boolean {
  return /^https?:\/\//i.test(value) && URL.canParse(value);
}

/** A decimal number as written (`12.50`, or with `decimalComma` `12,50` / `1.234,50`), or NaN. */
function decimal(text: string, decimalComma: boolean): number {
  if (decimalComma) return NUMBER_COMMA.test(text) ? Number(text.replaceAll('.', '').replace(',', '.')) : Number.NaN;
  return NUMBER.test(text) ? Number(text) : Number.NaN;
}

/** Rounds away binary noise of a unit conversion (0.1 lb → 0.04535924 kg). */
function round(value: number): number {
  return Math.round(value * 1e8) / 1e8;
}

function gtinCheckDigitOk(digits: string): boolean {
  let sum = 0;
  for (let index = digits.length - 2, weight = 3; index >= 0; index -= 1, weight = 4 - weight) sum += Number(digits[index]) * weight;
  return (10 - (sum % 10)) % 10 === Number(digits[digits.length - 1]);
}

function textParser(maxChars: number, collapse: boolean): Parse {
  const tooLong = new Refusal(`longer than ${maxChars} characters`);
  return (value) => {
    const text = collapse ? value.replace(/\s+/g, ' ') : value;
    return text.length > maxChars ? tooLong : text;
  };
}

/** The parser of a field's type and options. */
function parserOf(field: string, entry: FieldMappingEntry, type: FieldType): Parse {
  const spec: Partial<FieldSpec> = typeof entry === 'string' ? {} : entry;
  const comma = spec.decimalComma === true;
  const numberExample = comma ? '12,50 or 1.234,50' : '12.50';
  switch (type) {
    case FieldType.Text: {
      const maxChars = field === 'sku' ? 200 : field === 'name' ? 1000 : MAX_FIELD_CHARS;
      return textParser(maxChars, spec.collapseWhitespace === true);
    }
    case FieldType.Number: {
      const refusal = new Refusal(`expected a non-negative number like ${numberExample}`);
      return (value) => {
        const number = decimal(value, comma);
        return Number.isNaN(number) ? refusal : number;
      };
    }
    case FieldType.Integer: {
      const refusal = new Refusal('expected a whole number');
      return (value) => {
        if (INTEGER.test(value)) return Number(value);
        return comma && INTEGER_GROUPED.test(value) ? Number(value.replaceAll('.', '')) : refusal;
      };
    }
    case FieldType.Money: {
      const plain = new Refusal(`expected a non-negative number like ${numberExample}`);
      const withCode = new Refusal(`expected an amount with an ISO 4217 currency like ${comma ? '170,19' : '170.19'} EUR`);
      const amount = comma ? '(\\d{1,3}(?:\\.\\d{3})+|\\d+)(?:,(\\d+))?' : '(\\d+)(?:\\.(\\d+))?';
      const pattern = new RegExp(`^(?:([A-Za-z]{3})\\s*)?${amount}(?:\\s*([A-Za-z]{3}))?$`);
      return (value, scratch) => {
        const match = pattern.exec(value);
        if (match === null || (match[1] !== undefined && match[4] !== undefined)) return /[A-Za-z]/.test(value) ? withCode : plain;
        const whole = (match[2] as string).replaceAll('.', '');
        scratch.currency = (match[1] ?? match[4])?.toUpperCase();
        return Number(match[3] === undefined ? whole : `${whole}.${match[3]}`);
      };
    }
    case FieldType.Currency: {
      const refusal = new Refusal('expected a 3-letter ISO 4217 code like EUR');
      return (value) => (CURRENCY.test(value) ? value.toUpperCase() : refusal);
    }
    case FieldType.Url: {
      const refusal = new Refusal('expected an http(s) URL');
      return (value) => (value.length <= MAX_FIELD_CHARS && isHttpUrl(value) ? value : refusal);
    }
    case FieldType.Weight: {
      const to = WEIGHT_IN_KG[spec.unit ?? 'kg'] as number;
      const refusal = new Refusal(`expected a weight with its unit like ${comma ? '2,5' : '2.5'} kg (g, kg, lb, oz)`);
      return (value) => {
        const match = /^(\S+?)\s*([A-Za-z]+)$/.exec(value);
        const factor = match === null ? undefined : WEIGHT_IN_KG[(match[2] as string).toLowerCase()];
        const number = match === null || factor === undefined ? Number.NaN : decimal(match[1] as string, comma);
        return Number.isNaN(number) ? refusal : round((number * (factor as number)) / to);
      };
    }
    case FieldType.Gtin: {
      const shape = new Refusal('expected a GTIN of 8, 12, 13 or 14 digits');
      const check = new Refusal('GTIN check digit is wrong');
      return (value) => {
        const digits = value.replace(/[\s-]/g, '');
        if (!/^\d+$/.test(digits) || ![8, 12, 13, 14].includes(digits.length)) return shape;
        return gtinCheckDigitOk(digits) ? digits : check;
      };
    }
    case FieldType.Enum: {
      const allowed = new Map((spec.values ?? []).map((listed) => [listed.toLowerCase().replaceAll('_', ' '), listed]));
      const refusal = new Refusal(`expected one of: ${(spec.values ?? []).join(', ')}`);
      return (value) => allowed.get(value.toLowerCase().replaceAll('_', ' ')) ?? refusal;
    }
    default: {
      const exhaustive: never = type;
      throw new Error(`unknown field type ${String(exhaustive)}`);
    }
  }
}

/** Each field's paths, in mapping order: the record reader's slots are these, flattened in order. */
export function pathsOfMapping(mapping: FieldMapping): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(mapping).map(([field, entry]) => {
      const path = typeof entry === 'string' ? entry : entry.path;
      return [field, typeof path === 'string' ? [path] : [...path]];
    }),
  );
}

function compileRules(mapping: FieldMapping): FieldRule[] {
  const rules: FieldRule[] = [];
  let slot = 0;
  for (const [field, entry] of Object.entries(mapping)) {
    const spec = typeof entry === 'string' ? undefined : entry;
    const type = fieldTypeOf(field, entry);
    const paths = typeof entry === 'string' ? 1 : typeof entry.path === 'string' ? 1 : entry.path.length;
    const slots = Array.from({ length: paths }, (_, index) => slot + index);
    slot += paths;
    rules.push({
      field,
      slots,
      required: field === 'sku' || field === 'name' || spec?.required === true,
      what: field === 'sku' ? 'SKU' : field,
      shape: spec?.list === true ? 'list' : type === FieldType.Text && field !== 'sku' && field !== 'name' ? 'text' : 'one',
      separator: spec?.separator,
      parse: parserOf(field, entry, type),
      currencyField: type === FieldType.Money ? currencyFieldOf(field, entry) : undefined,
    });
  }
  // sku and name first: their errors lead the reason, as they always have.
  return [...rules.filter((rule) => rule.field === 'sku' || rule.field === 'name'), ...rules.filter((rule) => rule.field !== 'sku' && rule.field !== 'name')];
}

/** The outcome of validating one record. */
export type ProductValidation = { ok: true; product: ImportedProduct } | { ok: false; sku?: string; error: string };

/** Validates one record's values (by slot, as the record reader makes them). */
export type ProductValidator = (values: RecordValues) => ProductValidation;

function describe(field: string, message: string, value: string | undefined): string {
  return `${field}: ${message}${value !== undefined && value !== '' && value.length <= 40 ? ` (got "${value}")` : ''}`;
}

/**
 * A validator for records read with `mapping` (or, as a shorthand, bare field names mapped to
 * paths of their own: the implied types of `price`, `currency`, `stock`, `url`, text for the
 * rest). For each field the first path with a non-empty value is used; an absent or empty
 * value leaves the field unset, or, for `sku`, `name` and `required` fields, makes the product
 * invalid. Typed values are converted (numbers, upper-case currencies, weights in their unit);
 * the error names every bad field with what was expected and the value found.
 */
export function createProductValidator(mapping: FieldMapping | readonly string[]): ProductValidator {
  const resolved: FieldMapping = Array.isArray(mapping) ? Object.fromEntries(mapping.map((field) => [field, field])) : (mapping as FieldMapping);
  const rules = compileRules(resolved);
  const scratch: { currency: string | undefined } = { currency: undefined };
  return (values) => {
    const product: Record<string, string | number | string[]> = {};
    // Allocated only for an invalid record: most records are valid.
    let errors: string[] | undefined;
    let currencies: [string, string][] | undefined;
    for (const rule of rules) {
      let found: string[] | undefined;
      let present = false;
      for (const slot of rule.slots) {
        const all = values[slot];
        if (all === undefined) continue;
        present = true;
        if (all.length === 1 ? all[0] !== '' : all.some((value) => value !== '')) {
          found = all;
          break;
        }
      }
      if (found === undefined) {
        if (rule.required) (errors ??= []).push(`${rule.field}: ${present ? 'must not be empty' : `missing (no ${rule.what} in the record)`}`);
        continue;
      }
      if (rule.shape === 'one' || (rule.shape === 'text' && found.length === 1 && rule.separator === undefined)) {
        // One value (for untyped text: an element that is not repeated, stored as a string).
        const value = (found.length === 1 ? found[0] : found.find((candidate) => candidate !== '')) as string;
        scratch.currency = undefined;
        const parsed = rule.parse(value, scratch);
        if (parsed instanceof Refusal) {
          (errors ??= []).push(describe(rule.field, parsed.message, value));
          continue;
        }
        product[rule.field] = parsed;
        if (rule.currencyField !== undefined && scratch.currency !== undefined) (currencies ??= []).push([rule.currencyField, scratch.currency]);
        continue;
      }
      let items = found.filter((value) => value !== '');
      if (rule.separator !== undefined) {
        const separator = rule.separator;
        items = items.flatMap((value) => value.split(separator).map((item) => item.trim())).filter((item) => item !== '');
      }
      if (items.length > MAX_FIELD_VALUES) {
        (errors ??= []).push(`${rule.field}: more than ${MAX_FIELD_VALUES} values`);
        continue;
      }
      if (items.length === 0) {
        if (rule.required) (errors ??= []).push(`${rule.field}: must not be empty`);
        continue;
      }
      const parsedItems: (string | number)[] = [];
      let bad = false;
      for (let index = 0; index < items.length; index += 1) {
        const item = items[index] as string;
        const parsed = rule.parse(item, scratch);
        if (parsed instanceof Refusal) {
          (errors ??= []).push(describe(rule.shape === 'list' || items.length > 1 ? `${rule.field}[${index}]` : rule.field, parsed.message, item));
          bad = true;
        } else parsedItems.push(parsed);
      }
      if (bad) continue;
      product[rule.field] = rule.shape === 'text' && parsedItems.length === 1 ? (parsedItems[0] as string) : (parsedItems as string[]);
    }
    if (currencies !== undefined) for (const [field, code] of currencies) product[field] = code;
    if (errors === undefined) return { ok: true, product: product as ImportedProduct };
    const error = errors.join('; ');
    const sku = typeof product['sku'] === 'string' ? product['sku'] : undefined;
    return sku === undefined ? { ok: false, error } : { ok: false, sku, error };
  };
}
