import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { JobType, XmlImportPreset, type Source } from '@kai-jobs/queue';
import type { OptionSpec } from '../cli/command.js';
import type { ParsedArgs } from '../cli/args.js';
import { UsageError } from '../cli/errors.js';

/** Payload flags and the job types they apply to. */
export const PAYLOAD_OPTIONS: Readonly<Record<string, OptionSpec & { types: readonly JobType[] }>> = {
  'document-id': { type: 'string', valueName: 'id', description: 'pdf: the platform document id (default: a new id)', types: [JobType.Pdf] },
  'session-id': { type: 'string', valueName: 'id', description: 'scrape: the scraping_sessions row id (default: a new id)', types: [JobType.Scrape] },
  'import-job-id': { type: 'string', valueName: 'id', description: 'xml-import: the data_import_jobs row id (default: a new id)', types: [JobType.XmlImport] },
  'source-name': { type: 'string', valueName: 'name', description: 'xml-import: supplier / feed name (products are keyed by it)', types: [JobType.XmlImport] },
  path: { type: 'string', valueName: 'file', description: 'pdf, xml-import: read the input from this file on the worker (made absolute)', types: [JobType.Pdf, JobType.XmlImport] },
  url: { type: 'string', valueName: 'url', description: 'pdf, xml-import: download the input; scrape: the start URL', types: [JobType.Pdf, JobType.XmlImport, JobType.Scrape] },
  'storage-key': { type: 'string', valueName: 'key', description: 'pdf, xml-import: read the input from the blob store', types: [JobType.Pdf, JobType.XmlImport] },
  inline: { type: 'string', valueName: 'file', description: 'pdf, xml-import: send this local file inside the payload (base64, up to 576 KiB)', types: [JobType.Pdf, JobType.XmlImport] },
  'background-job-id': { type: 'string', valueName: 'id', description: 'scrape, xml-import: the linked background_jobs row', types: [JobType.Scrape, JobType.XmlImport] },
  'max-pages': { type: 'string', valueName: 'n', value: { kind: 'int', min: 1 }, description: 'pdf: process the first n pages; scrape: stop after n pages', types: [JobType.Pdf, JobType.Scrape] },
  'skip-tiles': { type: 'boolean', description: 'pdf: do not render tiles', types: [JobType.Pdf] },
  'skip-materials': { type: 'boolean', description: 'pdf: do not extract materials', types: [JobType.Pdf] },
  'render-scale': { type: 'string', valueName: 'x', value: { kind: 'number', min: 0 }, description: 'pdf: page render scale for tiles (1 = 72 dpi)', types: [JobType.Pdf] },
  'tile-size': { type: 'string', valueName: 'px', value: { kind: 'int', min: 1 }, description: 'pdf: tile edge in pixels', types: [JobType.Pdf] },
  'max-depth': { type: 'string', valueName: 'n', value: { kind: 'int', min: 0 }, description: 'scrape: follow links at most n hops', types: [JobType.Scrape] },
  include: { type: 'string', multiple: true, valueName: 'regex', description: 'scrape: only crawl URLs matching (repeatable)', types: [JobType.Scrape] },
  exclude: { type: 'string', multiple: true, valueName: 'regex', description: 'scrape: skip URLs matching (repeatable)', types: [JobType.Scrape] },
  'any-origin': { type: 'boolean', description: 'scrape: follow links to other origins too', types: [JobType.Scrape] },
  preset: { type: 'string', valueName: 'name', description: `xml-import: start from a feed format's record element and mapping (${Object.values(XmlImportPreset).join(', ')})`, types: [JobType.XmlImport] },
  'record-element': { type: 'string', multiple: true, valueName: 'name', description: 'xml-import: the element holding one product (repeatable: item and entry)', types: [JobType.XmlImport] },
  'variant-element': { type: 'string', valueName: 'path', description: 'xml-import: nested variants (e.g. variants/variant), each imported as a product with its parent\'s values', types: [JobType.XmlImport] },
  map: {
    type: 'string',
    multiple: true,
    valueName: 'field=path',
    description:
      'xml-import: add or override one field of the default (sku=sku, name=name) or preset mapping (repeatable); ' +
      'field=path keeps a preset field\'s type, field={"path":…,"type":…} sets a spec, field= removes the field',
    types: [JobType.XmlImport],
  },
  'batch-size': { type: 'string', valueName: 'n', value: { kind: 'int', min: 1 }, description: 'xml-import: products per batch and checkpoint', types: [JobType.XmlImport] },
};

type Json = Record<string, unknown>;

function readPayloadFile(file: string, cwd: string): Json {
  let text: string;
  try {
    text = readFileSync(resolve(cwd, file), 'utf8');
  } catch (error) {
    throw new UsageError(`--file ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, 'enqueue');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--file ${file}: not valid JSON (${(error as Error).message})`, 'enqueue');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UsageError(`--file ${file}: expected a JSON object (the payload), got ${Array.isArray(parsed) ? 'an array' : typeof parsed}`, 'enqueue');
  }
  return parsed as Json;
}

function sourceFromFlags(args: ParsedArgs, cwd: string): Source | undefined {
  const given = (['path', 'url', 'storage-key', 'inline'] as const).filter((name) => args.string(name) !== undefined);
  if (given.length > 1) throw new UsageError(`give one input source, not ${given.map((name) => `--${name}`).join(' and ')}`, 'enqueue');
  const path = args.string('path');
  if (path !== undefined) return { kind: 'file', path: isAbsolute(path) ? path : resolve(cwd, path) };
  const url = args.string('url');
  if (url !== undefined) return { kind: 'url', url };
  const key = args.string('storage-key');
  if (key !== undefined) return { kind: 'storage', key };
  const inline = args.string('inline');
  if (inline !== undefined) {
    try {
      return { kind: 'inline', base64: readFileSync(resolve(cwd, inline)).toString('base64') };
    } catch (error) {
      throw new UsageError(`--inline ${inline}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, 'enqueue');
    }
  }
  return undefined;
}

function newId(type: JobType): string {
  return `${type}-${randomBytes(6).toString('hex')}`;
}

/**
 * `--map` entries as mapping overrides: `field=path`, `field={json spec}`, or `field=` (remove
 * the field). The payload schema checks fields, paths and specs, naming the field.
 */
function parseMappings(entries: readonly string[]): Record<string, unknown> {
  const mapping: Record<string, unknown> = {};
  for (const entry of entries) {
    const at = entry.indexOf('=');
    if (at <= 0) throw new UsageError(`--map "${entry}": expected field=path, e.g. --map price=price/@value`, 'enqueue');
    const field = entry.slice(0, at);
    const value = entry.slice(at + 1).trim();
    if (value === '') mapping[field] = null;
    else if (value.startsWith('{')) {
      try {
        mapping[field] = JSON.parse(value) as unknown;
      } catch (error) {
        throw new UsageError(`--map "${entry}": the spec is not valid JSON (${(error as Error).message})`, 'enqueue');
      }
    } else mapping[field] = value;
  }
  return mapping;
}

/** Refuses payload flags that do not apply to `type`, naming the ones that do. */
export function checkFlagsApply(type: JobType, args: ParsedArgs): void {
  for (const [name, option] of Object.entries(PAYLOAD_OPTIONS)) {
    const given = option.type === 'boolean' ? args.flag(name) : args.string(name) !== undefined || args.list(name).length > 0;
    if (given && !option.types.includes(type)) {
      const valid = Object.entries(PAYLOAD_OPTIONS)
        .filter(([, candidate]) => candidate.types.includes(type))
        .map(([candidate]) => `--${candidate}`);
      throw new UsageError(`--${name} does not apply to ${type} jobs; ${type} takes ${valid.join(', ')}`, 'enqueue');
    }
  }
}

/**
 * The payload of an `enqueue` command line: the `--file` JSON (if any) with the flags laid
 * over it. A missing platform id gets a new one, so `enqueue pdf --path x.pdf` just works;
 * everything else is left to the catalog's schema, whose errors name the field.
 */
export function buildPayload(type: JobType, args: ParsedArgs, cwd: string): Json {
  checkFlagsApply(type, args);
  const file = args.string('file');
  const payload: Json = file === undefined ? {} : readPayloadFile(file, cwd);
  const set = (key: string, value: unknown): void => {
    if (value !== undefined) payload[key] = value;
  };
  const source = sourceFromFlags(args, cwd);
  switch (type) {
    case JobType.Pdf: {
      set('documentId', args.string('document-id'));
      if (payload['documentId'] === undefined) payload['documentId'] = newId(type);
      set('source', source);
      const options: Json = { ...((payload['options'] as Json | undefined) ?? {}) };
      if (args.string('max-pages') !== undefined) options['maxPages'] = args.int('max-pages', { min: 1 });
      if (args.flag('skip-tiles')) options['skipTiles'] = true;
      if (args.flag('skip-materials')) options['skipMaterials'] = true;
      if (args.string('render-scale') !== undefined) options['renderScale'] = args.number('render-scale', { min: 0 });
      if (args.string('tile-size') !== undefined) options['tileSizePx'] = args.int('tile-size', { min: 1 });
      if (Object.keys(options).length > 0) payload['options'] = options;
      return payload;
    }
    case JobType.Scrape: {
      set('sessionId', args.string('session-id'));
      if (payload['sessionId'] === undefined) payload['sessionId'] = newId(type);
      set('sourceUrl', args.string('url'));
      set('backgroundJobId', args.string('background-job-id'));
      set('maxPages', args.int('max-pages', { min: 1 }));
      set('maxDepth', args.int('max-depth', { min: 0 }));
      if (args.list('include').length > 0) payload['includePatterns'] = args.list('include');
      if (args.list('exclude').length > 0) payload['excludePatterns'] = args.list('exclude');
      if (args.flag('any-origin')) payload['sameOrigin'] = false;
      return payload;
    }
    case JobType.XmlImport: {
      set('importJobId', args.string('import-job-id'));
      if (payload['importJobId'] === undefined) payload['importJobId'] = newId(type);
      set('sourceName', args.string('source-name'));
      set('source', source);
      set('backgroundJobId', args.string('background-job-id'));
      set('preset', args.string('preset'));
      const recordElements = args.list('record-element');
      if (recordElements.length > 0) payload['recordElement'] = recordElements.length === 1 ? recordElements[0] : recordElements;
      set('variantElement', args.string('variant-element'));
      if (args.list('map').length > 0) payload['fieldMapping'] = { ...((payload['fieldMapping'] as Json | undefined) ?? {}), ...parseMappings(args.list('map')) };
      set('batchSize', args.int('batch-size', { min: 1 }));
      return payload;
    }
    default: {
      const exhaustive: never = type;
      throw new UsageError(`unknown job type ${String(exhaustive)}`, 'enqueue');
    }
  }
}

/** The flag that sets a payload field, for error messages (`documentId` → `--document-id`). */
export const FLAG_OF_FIELD: Readonly<Record<string, string>> = {
  documentId: '--document-id',
  sessionId: '--session-id',
  importJobId: '--import-job-id',
  sourceName: '--source-name',
  source: '--path, --url, --storage-key or --inline',
  sourceUrl: '--url',
  backgroundJobId: '--background-job-id',
  maxPages: '--max-pages',
  maxDepth: '--max-depth',
  includePatterns: '--include',
  excludePatterns: '--exclude',
  preset: '--preset',
  recordElement: '--record-element',
  variantElement: '--variant-element',
  fieldMapping: '--map',
  batchSize: '--batch-size',
  'options.maxPages': '--max-pages',
  'options.renderScale': '--render-scale',
  'options.tileSizePx': '--tile-size',
};
