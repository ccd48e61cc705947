import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { isKaiJobsError } from '@kai-jobs/queue';
import { PermanentJobError } from '../../errors.js';
import { assertNoEntityDeclarations } from './prolog-scan.js';

/** One record element's mapped values: field → every value found, in document order. */
export type RecordValues = Map<string, string[]>;

/** Options of {@link FeedRecordReader}. */
export interface FeedRecordReaderOptions {
  /** Name of the element holding one record (`product`, `item`, `g:item`). */
  recordElement: string;
  /** Field → path inside the record: `sku`, `price/@currency`, `@id`, `images/image`. */
  fieldMapping: Readonly<Record<string, string>>;
  /** Deepest element nesting allowed in the whole document. */
  maxElementDepth: number;
  /** Called for each complete record, synchronously, in document order. */
  onRecord(values: RecordValues): void;
}

interface CompiledMapping {
  /** Element path (relative to the record, `''` = the record) → fields taking its text. */
  text: Map<string, string[]>;
  /** Element path → [attribute, field] pairs. */
  attributes: Map<string, [string, string][]>;
}

function compileMapping(mapping: Readonly<Record<string, string>>): CompiledMapping {
  const text = new Map<string, string[]>();
  const attributes = new Map<string, [string, string][]>();
  for (const [field, path] of Object.entries(mapping)) {
    const segments = path.split('/');
    const last = segments.at(-1) ?? '';
    if (last.startsWith('@')) {
      const element = segments.slice(0, -1).join('/');
      attributes.set(element, [...(attributes.get(element) ?? []), [last.slice(1), field]]);
    } else {
      text.set(path, [...(text.get(path) ?? []), field]);
    }
  }
  return { text, attributes };
}

/**
 * Streams a feed through saxes and hands out one record at a time: only the mapped values
 * of the current record are held, never the document. Entity references other than XML's
 * five are errors (saxes knows no others, and DOCTYPE entity declarations are refused);
 * malformed XML becomes a `PermanentJobError` naming the line and column.
 */
export class FeedRecordReader {
  private readonly parser = new SaxesParser<{ xmlns: false; position: true }>({ xmlns: false, position: true });
  private readonly mapping: CompiledMapping;
  private depth = 0;
  private recordDepth = -1;
  private values: RecordValues = new Map();
  /** Paths of the open elements inside the record (record itself = ''). */
  private readonly paths: string[] = [];
  /** Text collected for each open element inside the record, or null when unmapped. */
  private readonly texts: (string[] | null)[] = [];

  constructor(private readonly options: FeedRecordReaderOptions) {
    this.mapping = compileMapping(options.fieldMapping);
    this.parser.on('doctype', (doctype) => assertNoEntityDeclarations(doctype));
    this.parser.on('opentag', (tag) => this.open(tag));
    this.parser.on('closetag', () => this.close());
    this.parser.on('text', (text) => this.texts.at(-1)?.push(text));
    this.parser.on('cdata', (text) => this.texts.at(-1)?.push(text));
  }

  /** Parses the next piece of the document. */
  write(text: string): void {
    this.guard(() => this.parser.write(text));
  }

  /** Ends the document (fails when elements are left open). */
  end(): void {
    this.guard(() => this.parser.close());
  }

  private guard(step: () => void): void {
    try {
      step();
    } catch (error) {
      if (isKaiJobsError(error)) throw error;
      const message = (error as Error).message.replace(/^\d+:\d+: /, '');
      // saxes' column is the 0-based column of the next character: the 1-based column of the
      // last character read, where the error was found.
      throw new PermanentJobError(`malformed XML at line ${this.parser.line}, column ${this.parser.column}: ${message}`, { cause: error });
    }
  }

  private open(tag: SaxesTagPlain): void {
    this.depth += 1;
    if (this.depth > this.options.maxElementDepth) {
      throw new PermanentJobError(
        `the feed nests elements deeper than ${this.options.maxElementDepth} levels (at line ${this.parser.line}, element <${tag.name}>)`,
      );
    }
    let path: string;
    if (this.recordDepth === -1) {
      if (tag.name !== this.options.recordElement) return;
      this.recordDepth = this.depth;
      this.values = new Map();
      path = '';
    } else {
      const parent = this.paths.at(-1) as string;
      path = parent === '' ? tag.name : `${parent}/${tag.name}`;
    }
    this.paths.push(path);
    this.texts.push(this.mapping.text.has(path) ? [] : null);
    const attributes = this.mapping.attributes.get(path);
    if (attributes !== undefined) {
      for (const [attribute, field] of attributes) {
        const value = tag.attributes[attribute];
        if (value !== undefined) this.add(field, value.trim());
      }
    }
  }

  private close(): void {
    if (this.recordDepth !== -1) {
      const path = this.paths.pop() as string;
      const text = this.texts.pop();
      if (text !== null && text !== undefined) {
        const value = text.join('').trim();
        for (const field of this.mapping.text.get(path) ?? []) this.add(field, value);
      }
      if (this.depth === this.recordDepth) {
        this.recordDepth = -1;
        this.options.onRecord(this.values);
      }
    }
    this.depth -= 1;
  }

  private add(field: string, value: string): void {
    const list = this.values.get(field);
    if (list === undefined) this.values.set(field, [value]);
    else list.push(value);
  }
}
