import { z } from 'zod';

/** A path inside a record element, e.g. `sku`, `price/@currency`, `images/image`, `@id`, `g:price`. */
export const FieldPathSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z_][\w.:-]*(\/(@?[A-Za-z_][\w.:-]*))*$|^@[A-Za-z_][\w.:-]*$/, {
    message: 'expected an element path like "name", "price/@currency" or "@id"',
  });

/** An element name, or a path of element names (no attribute), e.g. `item`, `variants/variant`. */
export const ElementPathSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z_][\w.:-]*(\/[A-Za-z_][\w.:-]*)*$/, { message: 'expected an element name or path like "variant" or "variants/variant"' });

/**
 * How a mapped value is read and checked. Every value is trimmed first; an empty value counts
 * as absent (an error only for a `required` field).
 */
export const FieldType = {
  /** Text; a repeated element gives a list. The default for fields without a known type. */
  Text: 'text',
  /** A non-negative decimal number (`12.50`; `12,50` and `1.234,50` with `decimalComma`). */
  Number: 'number',
  /** A non-negative whole number. */
  Integer: 'integer',
  /** An amount with an optional ISO 4217 code before or after it (`170.19 EUR`): the amount goes to the field, the code to `currencyField`. */
  Money: 'money',
  /** A 3-letter ISO 4217 code, stored in upper case. */
  Currency: 'currency',
  /** An http(s) URL. */
  Url: 'url',
  /** A weight with its unit (`2.5 kg`, `500 g`, `3 lb`, `12 oz`), converted to `unit`. */
  Weight: 'weight',
  /** A GTIN (EAN/UPC/ISBN): 8, 12, 13 or 14 digits with a valid check digit. */
  Gtin: 'gtin',
  /** One of `values`, compared without case and with `_` as a space; stored as listed in `values`. */
  Enum: 'enum',
} as const;
/** One of {@link FieldType}. */
export type FieldType = (typeof FieldType)[keyof typeof FieldType];

/** Units a `weight` field can be stored in. */
export const WEIGHT_UNITS = ['kg', 'g', 'lb', 'oz'] as const;

/** The implicit type of a field mapped by a bare path (before field specs existed, and still the shorthand). */
export const IMPLIED_FIELD_TYPES: Readonly<Record<string, FieldType>> = {
  price: FieldType.Money,
  currency: FieldType.Currency,
  stock: FieldType.Integer,
  url: FieldType.Url,
};

/** A product field: `sku`, `name`, `salePrice`, `shippingWeightKg` (becomes a JSON key of the product). */
export const FieldNameSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z_][\w-]*$/, { message: 'expected a field name of letters, digits, "_" or "-", starting with a letter or "_"' })
  // Field names become keys of plain objects (the mapping, each product): never a prototype's.
  .refine((name) => !['__proto__', 'constructor', 'prototype'].includes(name), { message: 'a reserved name; choose another field name' });

/** A field with its path(s) and its typed transform. */
export const FieldSpecSchema = z
  .object({
    /** Where the value is: a path, or alternatives tried in order (the first one with a non-empty value wins). */
    path: z.union([FieldPathSchema, z.array(FieldPathSchema).min(1).max(8)]),
    /** How the value is read. Default `text` (or the implied type of `price`, `currency`, `stock`, `url`). */
    type: z.enum(Object.values(FieldType) as [FieldType, ...FieldType[]]).optional(),
    /** An absent or empty value makes the product invalid. Default false (`sku` and `name` are always required). */
    required: z.boolean().optional(),
    /** Every value becomes an item of a list (repeated elements, and `separator`-split values). Default false. */
    list: z.boolean().optional(),
    /** With `list`: split each value on this text too (e.g. `,`). Default: no split. */
    separator: z.string().min(1).max(10).optional(),
    /** `number`, `integer`, `money`, `weight`: `,` is the decimal mark and `.` groups thousands (`1.234,50`). Default false. */
    decimalComma: z.boolean().optional(),
    /** `money`: the field that gets the code written with the amount. Default `currency` for `price`, else `<field>Currency`. */
    currencyField: FieldNameSchema.optional(),
    /** `weight`: the unit stored. Default `kg`. */
    unit: z.enum(WEIGHT_UNITS).optional(),
    /** `enum`: the allowed values. */
    values: z.array(z.string().min(1).max(200)).min(1).max(100).optional(),
    /** `text`: runs of white space inside the value become one space. Default false. */
    collapseWhitespace: z.boolean().optional(),
  })
  .strict();
/** What a producer writes for one field (besides a bare path). */
export type FieldSpec = z.infer<typeof FieldSpecSchema>;

/**
 * One entry of a payload's `fieldMapping`: a path, a spec, or `null` (remove the field).
 * Dispatched by the value's kind rather than a `z.union`, so an error names the spec's own key
 * (`fieldMapping.price.type`) instead of "no union member matched" at the field.
 */
export const FieldMappingEntrySchema = z
  .custom<string | FieldSpec | null>(() => true)
  .transform((value, ctx): string | FieldSpec | null => {
    const result = value === null ? { success: true as const, data: null } : typeof value === 'string' ? FieldPathSchema.safeParse(value) : FieldSpecSchema.safeParse(value);
    if (result.success) return result.data;
    for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path as (string | number)[] });
    return z.NEVER;
  });

/** A field's mapping: a bare path (the field's implied type), or a spec. */
export type FieldMappingEntry = string | FieldSpec;

/** The field mapping of a payload after validation: field → path or spec. */
export type FieldMapping = Record<string, FieldMappingEntry>;

/** The mapping presets a payload can start from. */
export const XmlImportPreset = {
  /** Google Merchant Center product feeds: RSS 2.0 `<item>` or Atom `<entry>` with the `g:` namespace. */
  GoogleMerchant: 'google-merchant',
} as const;
/** One of {@link XmlImportPreset}. */
export type XmlImportPreset = (typeof XmlImportPreset)[keyof typeof XmlImportPreset];

/** What a preset sets: the record element(s) and the field mapping. */
export interface XmlImportPresetDefinition {
  recordElement: string | string[];
  fieldMapping: FieldMapping;
}

/**
 * Google Merchant Center's product data specification, for RSS 2.0 and Atom feeds. Namespace
 * prefixes are matched as written: the feed must use `g:` (as Google's own templates do).
 * Elements without the prefix (`<title>`, `<link>`, Atom's `<link href>`) are fallbacks.
 */
const GOOGLE_MERCHANT: XmlImportPresetDefinition = {
  recordElement: ['item', 'entry'],
  fieldMapping: {
    sku: { path: 'g:id' },
    name: { path: ['g:title', 'title'] },
    description: { path: ['g:description', 'description', 'summary'], collapseWhitespace: true },
    url: { path: ['g:link', 'link', 'link/@href'], type: FieldType.Url },
    imageLink: { path: 'g:image_link', type: FieldType.Url },
    additionalImageLinks: { path: 'g:additional_image_link', type: FieldType.Url, list: true },
    price: { path: 'g:price', type: FieldType.Money, required: true, currencyField: 'currency' },
    salePrice: { path: 'g:sale_price', type: FieldType.Money, currencyField: 'salePriceCurrency' },
    availability: { path: 'g:availability', type: FieldType.Enum, values: ['in stock', 'out of stock', 'preorder', 'backorder'] },
    condition: { path: 'g:condition', type: FieldType.Enum, values: ['new', 'refurbished', 'used'] },
    brand: { path: 'g:brand' },
    gtin: { path: 'g:gtin', type: FieldType.Gtin },
    mpn: { path: 'g:mpn' },
    productType: { path: 'g:product_type', list: true },
    googleProductCategory: { path: 'g:google_product_category' },
    itemGroupId: { path: 'g:item_group_id' },
    shippingWeightKg: { path: 'g:shipping_weight', type: FieldType.Weight, unit: 'kg' },
  },
};

/** Each preset's record element(s) and field mapping. */
export const XML_IMPORT_PRESETS: Readonly<Record<XmlImportPreset, XmlImportPresetDefinition>> = {
  [XmlImportPreset.GoogleMerchant]: GOOGLE_MERCHANT,
};

/** The mapping without a preset. */
export const DEFAULT_FIELD_MAPPING: FieldMapping = { sku: 'sku', name: 'name' };

/** Fields every product has; they cannot be removed from a mapping. */
export const REQUIRED_FIELDS = ['sku', 'name'] as const;

/**
 * Lays `overrides` over `base`: a spec replaces the field's entry whole, a bare path replaces
 * only the path of a spec (its type and options stay), `null` removes the field.
 */
export function mergeFieldMapping(base: FieldMapping, overrides: Readonly<Record<string, FieldMappingEntry | null>>): FieldMapping {
  const merged: FieldMapping = { ...base };
  for (const [field, entry] of Object.entries(overrides)) {
    if (entry === null) {
      delete merged[field];
      continue;
    }
    const current = merged[field];
    merged[field] = typeof entry === 'string' && current !== undefined && typeof current !== 'string' ? { ...current, path: entry } : entry;
  }
  return merged;
}

/** The type a field's entry resolves to. */
export function fieldTypeOf(field: string, entry: FieldMappingEntry): FieldType {
  return (typeof entry === 'string' ? undefined : entry.type) ?? IMPLIED_FIELD_TYPES[field] ?? FieldType.Text;
}

/** The field that gets a money field's currency code. */
export function currencyFieldOf(field: string, entry: FieldMappingEntry): string {
  return (typeof entry === 'string' ? undefined : entry.currencyField) ?? (field === 'price' ? 'currency' : `${field}Currency`);
}

/** One problem of a mapping, with the path below `fieldMapping`. */
export interface MappingIssue {
  path: (string | number)[];
  message: string;
}

/** Rules no single field's schema can check: options that do not fit the type, clashing fields. */
export function checkFieldMapping(mapping: FieldMapping): MappingIssue[] {
  const issues: MappingIssue[] = [];
  const currencyOwners = new Map<string, string>();
  for (const field of REQUIRED_FIELDS) {
    if (!(field in mapping)) issues.push({ path: [field], message: `a mapping for "${field}" is required` });
  }
  for (const [field, entry] of Object.entries(mapping)) {
    if (typeof entry === 'string') continue;
    const type = fieldTypeOf(field, entry);
    const onlyFor = (option: keyof FieldSpec, types: readonly FieldType[]): void => {
      if (entry[option] !== undefined && !types.includes(type)) {
        issues.push({ path: [field, option], message: `"${option}" applies to ${types.join(', ')} fields, not ${type}` });
      }
    };
    onlyFor('decimalComma', [FieldType.Number, FieldType.Integer, FieldType.Money, FieldType.Weight]);
    onlyFor('currencyField', [FieldType.Money]);
    onlyFor('unit', [FieldType.Weight]);
    onlyFor('values', [FieldType.Enum]);
    onlyFor('collapseWhitespace', [FieldType.Text]);
    if (entry.separator !== undefined && entry.list !== true) issues.push({ path: [field, 'separator'], message: '"separator" needs "list": true' });
    if (type === FieldType.Enum && entry.values === undefined) issues.push({ path: [field, 'values'], message: 'an enum field needs its "values"' });
    if ((field === 'sku' || field === 'name') && (entry.list === true || (type !== FieldType.Text && type !== FieldType.Enum && type !== FieldType.Gtin))) {
      issues.push({ path: [field], message: `"${field}" is one text value: no list, no numeric type` });
    }
    if (type === FieldType.Money) {
      const target = currencyFieldOf(field, entry);
      const owner = currencyOwners.get(target);
      if (owner !== undefined) issues.push({ path: [field, 'currencyField'], message: `"${target}" already gets the currency of ${owner}` });
      currencyOwners.set(target, field);
      const other = mapping[target];
      if (other !== undefined && fieldTypeOf(target, other) !== FieldType.Currency) {
        issues.push({ path: [field, 'currencyField'], message: `"${target}" is mapped as ${fieldTypeOf(target, other)}; the currency of ${field} needs a field of its own or of type currency` });
      }
    }
  }
  return issues;
}
