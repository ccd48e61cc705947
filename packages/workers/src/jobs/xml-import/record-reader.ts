import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { isKaiJobsError } from '@kai-jobs/queue';
import { PermanentJobError } from '../../errors.js';
import { assertNoEntityDeclarations } from './prolog-scan.js';

/**
 * One record element's mapped values, by slot: each field's paths in the order of the
 * mapping's keys, see `FeedRecordReader.fields` (one slot per field when each has one path):
 * every value found, in document order, or undefined when the record has none. An array rather than a map: records are made by the hundred
 * thousand, and this is the cheapest shape to build, encode and validate.
 */
export type RecordValues = (string[] | undefined)[];

/** Options of {@link FeedRecordReader}. */
export interface FeedRecordReaderOptions {
  /** Name of the element holding one record (`product`, `item`, `g:item`), or several names (`item` and `entry`). */
  recordElement: string | readonly string[];
  /**
   * Field → path inside the record (`sku`, `price/@currency`, `@id`, `images/image`), or
   * several paths, each read into a slot of its own (the validator picks among them).
   */
  fieldMapping: Readonly<Record<string, string | readonly string[]>>;
  /**
   * Path of nested variants inside a record (`variant`, `variants/variant`): each one is
   * handed out as a record of its own, the mapping's paths read from the variant element, and
   * any slot the variant lacks taken from its record. A record without variants is handed out
   * as it is. Default none.
   */
  variantElement?: string | undefined;
  /** Deepest element nesting allowed in the whole document. */
  maxElementDepth: number;
  /** Called for each complete record, synchronously, in document order. */
  onRecord(values: RecordValues): void;
}

/** One step of the mapping's paths: the element's own fields and its mapped descendants. */
interface PathNode {
  children: Map<string, PathNode>;
  /** Positions of the fields taking this element's text. */
  textFields: number[];
  /** [attribute, field position] pairs of this element. */
  attributes: [string, number][];
}

function newNode(): PathNode {
  return { children: new Map(), textFields: [], attributes: [] };
}

/** Compiles the slots' paths into a tree rooted at the record element. */
function compileMapping(paths: readonly string[]): PathNode {
  const root = newNode();
  for (const [field, path] of paths.entries()) {
    const segments = path.split('/');
    const last = segments.at(-1) ?? '';
    const attribute = last.startsWith('@') ? last.slice(1) : null;
    let node = root;
    for (const segment of attribute === null ? segments : segments.slice(0, -1)) {
      let child = node.children.get(segment);
      if (child === undefined) {
        child = newNode();
        node.children.set(segment, child);
      }
      node = child;
    }
    if (attribute === null) node.textFields.push(field);
    else node.attributes.push([attribute, field]);
  }
  return root;
}

/**
 * Streams a feed through saxes and hands out one record at a time: only the mapped values
 * of the current record are held, never the document. Entity references other than XML's
 * five are errors (saxes knows no others, and DOCTYPE entity declarations are refused);
 * malformed XML becomes a `PermanentJobError` naming the line and column.
 */
export class FeedRecordReader {
  private readonly parser = new SaxesParser<{ xmlns: false; position: true }>({ xmlns: false, position: true });
  private readonly root: PathNode;
  /** The field of each slot of {@link RecordValues}, in order (a field with several paths has several slots). */
  readonly fields: readonly string[];
  private readonly recordElements: ReadonlySet<string>;
  private readonly variantPath: readonly string[] | null;
  private depth = 0;
  private recordDepth = -1;
  /** The record's values, or (inside a variant) the variant's. */
  private values: RecordValues = [];
  private recordValues: RecordValues = [];
  private variants: RecordValues[] = [];
  private variantDepth = -1;
  /** How many segments of the variant path the open elements inside the record match (-1: off the path). */
  private readonly variantMatch: number[] = [];
  /** Mapping nodes of the open elements inside the record (null below unmapped elements). */
  private readonly nodes: (PathNode | null)[] = [];
  /** Text of the open elements inside the record (null when their text is unmapped). */
  private readonly texts: (string | null)[] = [];
  /** True when the innermost open element's text is mapped: the hot path of the `text` event. */
  private collecting = false;

  constructor(private readonly options: FeedRecordReaderOptions) {
    const slots = Object.entries(options.fieldMapping).flatMap(([field, paths]) => (typeof paths === 'string' ? [[field, paths]] : paths.map((path) => [field, path])));
    this.root = compileMapping(slots.map(([, path]) => path as string));
    this.fields = slots.map(([field]) => field as string);
    this.recordElements = new Set(typeof options.recordElement === 'string' ? [options.recordElement] : options.recordElement);
    this.variantPath = options.variantElement === undefined ? null : options.variantElement.split('/');
    this.parser.on('doctype', (doctype) => assertNoEntityDeclarations(doctype));
    this.parser.on('opentag', (tag) => this.open(tag));
    this.parser.on('closetag', () => this.close());
    this.parser.on('text', (text) => this.appendText(text));
    this.parser.on('cdata', (text) => this.appendText(text));
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
      // The parser's reason only ("unclosed tag", "undefined entity"), without the names it
      // quotes from the document: an error must not echo what was read. Line and column locate it.
      const message = ((error as Error).message.replace(/^\d+:\d+: /, '').split(/[:.]/)[0] ?? '').slice(0, 80).trim() || 'not well-formed';
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
    let node: PathNode | null;
    if (this.recordDepth === -1) {
      if (!this.recordElements.has(tag.name)) return;
      this.recordDepth = this.depth;
      this.values = new Array<string[] | undefined>(this.fields.length);
      node = this.root;
      if (this.variantPath !== null) {
        this.recordValues = this.values;
        this.variants = [];
        this.variantMatch.push(0);
      }
    } else {
      const parent = this.nodes[this.nodes.length - 1];
      node = parent === null || parent === undefined ? null : (parent.children.get(tag.name) ?? null);
      if (this.variantPath !== null) {
        const matched = this.variantMatch[this.variantMatch.length - 1] as number;
        const next = this.variantDepth === -1 && matched >= 0 && this.variantPath[matched] === tag.name ? matched + 1 : -1;
        this.variantMatch.push(next);
        if (next === this.variantPath.length) {
          // A variant: its own values, read with the mapping from its element down.
          this.variantDepth = this.depth;
          this.values = new Array<string[] | undefined>(this.fields.length);
          node = this.root;
        }
      }
    }
    this.nodes.push(node);
    this.collecting = node !== null && node.textFields.length > 0;
    this.texts.push(this.collecting ? '' : null);
    if (node !== null) {
      for (const [attribute, field] of node.attributes) {
        const value = tag.attributes[attribute];
        if (value !== undefined) this.add(field, value.trim());
      }
    }
  }

  private close(): void {
    if (this.recordDepth !== -1) {
      const node = this.nodes.pop();
      const text = this.texts.pop();
      if (text !== null && text !== undefined && node !== null && node !== undefined) {
        const value = text.trim();
        for (const field of node.textFields) this.add(field, value);
      }
      this.collecting = this.texts.length > 0 && this.texts[this.texts.length - 1] !== null;
      if (this.variantPath !== null) this.variantMatch.pop();
      if (this.depth === this.variantDepth) {
        this.variants.push(this.values);
        this.values = this.recordValues;
        this.variantDepth = -1;
      } else if (this.depth === this.recordDepth) {
        this.recordDepth = -1;
        if (this.variants.length === 0) this.options.onRecord(this.values);
        else this.emitVariants();
      }
    }
    this.depth -= 1;
  }

  /** Each variant of the record just closed, with the record's values where it has none. */
  private emitVariants(): void {
    const variants = this.variants;
    this.variants = [];
    for (const variant of variants) {
      for (let slot = 0; slot < variant.length; slot += 1) variant[slot] ??= this.recordValues[slot];
      this.options.onRecord(variant);
    }
  }

  private appendText(text: string): void {
    if (this.collecting) this.texts[this.texts.length - 1] += text;
  }

  private add(field: number, value: string): void {
    const list = this.values[field];
    if (list === undefined) this.values[field] = [value];
    else list.push(value);
  }
}
