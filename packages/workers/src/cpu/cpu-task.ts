/**
 * A function that runs in a worker thread: the module that exports it and the export name.
 * The module is imported inside the thread (TypeScript is loaded through tsx), so the
 * function must be a top-level export that takes and returns structured-cloneable values.
 */
export interface CpuTask<I, O> {
  /** `import.meta.url`-relative URL or absolute file URL of the module. */
  readonly moduleUrl: string;
  /** The export to call: `(input: I) => O | Promise<O>`. */
  readonly exportName: string;
  /** Longest one run may take (ms) before its thread is stopped; undefined for no limit. */
  readonly timeoutMs?: number;
  /**
   * Whether a run counts toward the pool's `maxTasksPerThread`. Default true. False for pure
   * JavaScript tasks (pdf.js text extraction): recycling is for native state (canvas), and a
   * fresh thread costs seconds of tsx and pdf.js loading.
   */
  readonly countsTowardRecycling?: boolean;
  /** Phantom field carrying the input and output types. */
  readonly __types?: (input: I) => O;
}

/**
 * Declares a CPU task. Usage, in the module that exports `renderPage`:
 * `export const renderPageTask = defineCpuTask<RenderInput, RenderOutput>(import.meta.url, 'renderPage');`
 */
export function defineCpuTask<I, O>(
  moduleUrl: string,
  exportName: string,
  options: Pick<CpuTask<I, O>, 'timeoutMs' | 'countsTowardRecycling'> = {},
): CpuTask<I, O> {
  return { moduleUrl, exportName, ...options };
}

/**
 * The URL of a task module beside `baseUrl` (the caller's `import.meta.url`), named by its
 * TypeScript file (`'../render-page-tiles.ts'`). When the caller is compiled JavaScript
 * (dist/), the compiled `.js` module beside it: the pool's threads then load JavaScript
 * without tsx; from the sources (tests, tsx) the `.ts` file.
 */
export function taskModuleUrl(relativeTsPath: string, baseUrl: string): string {
  const url = new URL(relativeTsPath, baseUrl);
  if (baseUrl.endsWith('.js')) url.pathname = url.pathname.replace(/\.ts$/, '.js');
  return url.href;
}
