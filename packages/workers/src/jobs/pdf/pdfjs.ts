import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import type * as PdfjsModule from 'pdfjs-dist';
import type { PDFDocumentProxy } from 'pdfjs-dist';
import { PermanentJobError } from '../../errors.js';
import { installArrayBufferTransferPolyfill } from './array-buffer-transfer-polyfill.js';
import { repairXref, XrefRepairImpossible, type XrefRepair } from './xref-repair.js';

/** The pdf.js module (legacy build: the one pdf.js supports on Node). */
export type Pdfjs = typeof PdfjsModule;

let loading: Promise<Pdfjs> | undefined;

/**
 * Built-ins that the core-js bundled in pdf.js's legacy build replaces on Node 20 with
 * JavaScript versions: `JSON.stringify`/`JSON.parse` (to support `JSON.rawJSON`, which Node 20
 * lacks), `Array.prototype.push` (V8 before 12.2 does not throw when pushing nothing onto an
 * array with a read-only length) and `Function.prototype.toString` (to disguise the others). The replacements are process-wide — BullMQ, ioredis and the logger
 * would run on them too — and far slower: stringifying 400 KB of page text took 11 ms instead
 * of 0.6 ms, and `push` half the speed. pdf.js needs none of those fixes, so the natives are
 * put back once pdf.js has loaded. What core-js only adds (Promise.withResolvers, the Set
 * methods, Uint8Array base64…) stays: pdf.js uses it.
 */
const PRESERVED_BUILT_INS: readonly (readonly [object, string])[] = [
  [JSON, 'stringify'],
  [JSON, 'parse'],
  [Array.prototype, 'push'],
  [Function.prototype, 'toString'],
];

/**
 * Loads pdf.js once per thread, after installing the `transferToFixedLength` polyfill (see
 * array-buffer-transfer-polyfill.ts), and keeps the built-ins above native. Lazy, because the
 * module is megabytes of JavaScript that a worker running only scraping jobs never needs.
 */
export function loadPdfjs(): Promise<Pdfjs> {
  loading ??= (async () => {
    installArrayBufferTransferPolyfill();
    const saved = PRESERVED_BUILT_INS.map(([owner, key]) => [owner, key, Object.getOwnPropertyDescriptor(owner, key)] as const);
    try {
      const pdfjs = (await importPdfjsModule('pdfjs-dist/legacy/build/pdf.mjs')) as Pdfjs;
      // On Node pdf.js parses in this thread ("fake worker") and would import its worker
      // module, with a second copy of core-js, at the first getDocument. Import it now, while
      // what it replaces can still be put back, and hand it to pdf.js the documented way.
      const worker = await importPdfjsModule('pdfjs-dist/legacy/build/pdf.worker.mjs');
      (globalThis as { pdfjsWorker?: unknown }).pdfjsWorker = worker;
      return pdfjs;
    } finally {
      for (const [owner, key, descriptor] of saved) if (descriptor !== undefined) Object.defineProperty(owner, key, descriptor);
    }
  })();
  return loading;
}

/**
 * Imports one of pdf.js's modules. In a CPU-pool thread, with `require()` of an ES module
 * (Node ≥ 20.19): the thread registers tsx's ESM hooks only (cpu-thread.mjs), and pushing
 * pdf.js's 3.5 MB of JavaScript through them cost every new thread about 3.4 s of CPU and
 * 7 s of wall time on a loaded 2-core machine, against 1.2 s and 1.4–1.9 s by `require()`
 * (which those hooks do not see; measured with tsx 4.23 on Node 20.20). The main thread keeps
 * `import()`: there `--import tsx` also hooks `require()`, which made it slower still.
 */
function importPdfjsModule(specifier: 'pdfjs-dist/legacy/build/pdf.mjs' | 'pdfjs-dist/legacy/build/pdf.worker.mjs'): Promise<unknown> {
  // Resolved from this package's own location first: a specifier left to `import()` resolves
  // from the importing file, which in the CLI's bundle is apps/cli/dist/bin, whose node_modules
  // (and, in the image's production install, the root's) has no pdf.js.
  if (isMainThread) return import(pathToFileURL(createRequire(import.meta.url).resolve(specifier)).href);
  return Promise.resolve(createRequire(import.meta.url)(specifier) as unknown);
}

/**
 * Folders of pdf.js's data files. Fonts the PDF references but does not embed (the 14
 * standard fonts) are read from `standard_fonts/`; without it text renders in a fallback
 * font or not at all. `cmaps/` serves CJK text, `wasm/` the JPEG 2000 and colour decoders.
 */
function assetFolders(purpose: PdfPurpose): { standardFontDataUrl?: string; cMapUrl: string; wasmUrl: string } {
  const root = dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));
  // pdf.js appends file names to these, so they must end with a separator.
  const folders = { cMapUrl: join(root, 'cmaps') + '/', wasmUrl: join(root, 'wasm') + '/' };
  // Text needs only the standard fonts' metrics, which pdf.js has built in; loading and
  // converting the font files would cost time for the same text (checked in tests).
  return purpose === PdfPurpose.Render ? { ...folders, standardFontDataUrl: join(root, 'standard_fonts') + '/' } : folders;
}

/** What a document is opened for: `text` skips the glyph outlines only rendering needs. */
export const PdfPurpose = {
  Text: 'text',
  Render: 'render',
} as const;
/** One of {@link PdfPurpose}. */
export type PdfPurpose = (typeof PdfPurpose)[keyof typeof PdfPurpose];

/** Why a PDF could not be opened, as the permanent failure's message says it. */
export const PdfOpenFailure = {
  Encrypted: 'encrypted',
  Corrupt: 'corrupt',
  NoPages: 'no-pages',
} as const;
/** One of {@link PdfOpenFailure}. */
export type PdfOpenFailure = (typeof PdfOpenFailure)[keyof typeof PdfOpenFailure];

/** The permanent failure for a PDF that cannot be opened; `reason` is in the message and on the error. */
export class PdfUnreadableError extends PermanentJobError {
  constructor(
    readonly reason: PdfOpenFailure,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

/** Default of `openPdfDocument`'s `maxImagePixels`: the PDF limits' default (40 Mpx, 160 MB RGBA). */
const DEFAULT_MAX_IMAGE_PIXELS = 40_000_000;

/** pdf.js error names that mean "this file is broken", not "this worker is broken". */
const CORRUPT_PDF_ERRORS = new Set(['InvalidPDFException', 'FormatError', 'UnknownErrorException', 'XRefParseException']);

/**
 * Opens a PDF from its bytes (copied: pdf.js may detach the buffer it is given); images over
 * `maxImagePixels` (default 40 million) are not decoded. The caller has checked the document's
 * decoded size first (`scanDecodedSize`): pdf.js itself bounds nothing it decodes. An encrypted
 * PDF that needs a password, a corrupt file, or one without pages throws
 * {@link PdfUnreadableError}; a file pdf.js cannot parse is first retried with its
 * cross-reference table and trailer rebuilt (xref-repair.ts), and the failure then says why
 * that did not work. Anything else (out of memory, a bug) is rethrown as is, so the
 * job is retried. The caller must `destroy()` the document.
 */
export async function openPdfDocument(
  bytes: Uint8Array,
  purpose: PdfPurpose = PdfPurpose.Text,
  options: { maxImagePixels?: number; fontExtraProperties?: boolean } = {},
): Promise<PDFDocumentProxy> {
  let document: PDFDocumentProxy;
  try {
    document = await openWithPdfjs(bytes, purpose, options);
  } catch (error) {
    const failure = classifyOpenError(error);
    if (!(failure instanceof PdfUnreadableError) || failure.reason !== PdfOpenFailure.Corrupt) throw failure;
    // An encrypted file's trailer carries its /Encrypt and /ID: a rebuilt one would lose them.
    if (Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes('/Encrypt')) throw failure;
    // pdf.js rebuilds a table with wrong offsets itself; what it cannot do is find the catalog
    // without a trailer. Rebuild table and trailer from the objects in the file, and retry once.
    let repair: XrefRepair;
    try {
      repair = repairXref(bytes);
    } catch (repairError) {
      if (!(repairError instanceof XrefRepairImpossible)) throw repairError;
      throw new PdfUnreadableError(
        PdfOpenFailure.Corrupt,
        `the PDF is corrupt: its cross-reference table cannot be rebuilt (${repairError.message}), and pdf.js cannot parse it (${describePdfJsFailure(error)})`,
        { cause: error },
      );
    }
    try {
      document = await openWithPdfjs(repair.bytes, purpose, options);
    } catch (retryError) {
      const retryFailure = classifyOpenError(retryError);
      if (!(retryFailure instanceof PdfUnreadableError)) throw retryFailure;
      throw new PdfUnreadableError(
        retryFailure.reason,
        `the PDF is corrupt: even with its cross-reference table rebuilt from the ${repair.objects} objects found, pdf.js cannot parse it (${describePdfJsFailure(retryError)})`,
        { cause: error },
      );
    }
    xrefRepairs.set(document, { objects: repair.objects });
  }
  if (document.numPages < 1) {
    await document.destroy();
    throw new PdfUnreadableError(PdfOpenFailure.NoPages, 'the PDF has no pages (its page tree is empty)');
  }
  return document;
}

/** Documents opened only after their cross-reference table was rebuilt (see xref-repair.ts). */
const xrefRepairs = new WeakMap<PDFDocumentProxy, { objects: number }>();

/** How `document`'s cross-reference table was rebuilt before it could be opened, or undefined when it was not. */
export function xrefRepairOf(document: PDFDocumentProxy): { objects: number } | undefined {
  return xrefRepairs.get(document);
}

async function openWithPdfjs(bytes: Uint8Array, purpose: PdfPurpose, options: { maxImagePixels?: number; fontExtraProperties?: boolean }): Promise<PDFDocumentProxy> {
  const pdfjs = await loadPdfjs();
  const task = pdfjs.getDocument({
    data: new Uint8Array(bytes),
    ...assetFolders(purpose),
    cMapPacked: true,
    // No eval of PDF-provided code paths, no font-face injection (there is no DOM), and no
    // system fonts (results must not depend on the worker's image).
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    // On request only (it slows every page): the fonts' encodings (glyph names) reach the main
    // side, so glyphs without a Unicode mapping can be recovered from their names (extract-page-text.ts).
    fontExtraProperties: options.fontExtraProperties === true,
    // Images over this many pixels are skipped, not decoded: a 100,000 × 100,000 JPEG in a
    // few KB of file would otherwise become a 40 GB bitmap. -1 (pdf.js's default) means no limit.
    maxImageSize: options.maxImagePixels ?? DEFAULT_MAX_IMAGE_PIXELS,
    // Errors only: pdf.js writes warnings with console.log, which would flood worker logs.
    verbosity: pdfjs.VerbosityLevel.ERRORS,
  });
  try {
    return await task.promise;
  } catch (error) {
    await task.destroy().catch(() => undefined);
    throw error;
  }
}

/**
 * What went wrong inside pdf.js, said without quoting the document. pdf.js's messages carry
 * tokens, names and numbers read from the file ("Unknown command …", "Bad FCHECK in flate
 * stream: 120, 156"), and a job's reasons are readable through the API and the board, so only
 * the error's class name is kept (e.g. `pdf.js FormatError`); the message stays on the error's
 * `cause` for the worker's log.
 */
export function describePdfJsFailure(error: unknown): string {
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' && /^[A-Za-z][A-Za-z0-9]{0,59}$/.test(name) ? `pdf.js ${name}` : 'pdf.js error';
}

function classifyOpenError(error: unknown): unknown {
  const name = (error as { name?: unknown } | null)?.name;
  const detail = describePdfJsFailure(error);
  if (name === 'PasswordException') {
    return new PdfUnreadableError(PdfOpenFailure.Encrypted, `the PDF is encrypted and needs a password (${detail})`, { cause: error });
  }
  if (typeof name === 'string' && CORRUPT_PDF_ERRORS.has(name)) {
    return new PdfUnreadableError(PdfOpenFailure.Corrupt, `the PDF is corrupt: pdf.js cannot parse it (${detail})`, { cause: error });
  }
  return error;
}
