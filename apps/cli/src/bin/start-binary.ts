import * as nodeModule from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where V8's compiled code of the binary is kept between runs (the OS temporary folder: writable in the image too). */
export const COMPILE_CACHE_DIR = join(tmpdir(), 'kai-jobs-compile-cache');

/** `module.enableCompileCache` of Node ≥ 22.1; Node 20 (and so @types/node 20) has none. */
type EnableCompileCache = (directory?: string) => { status: number; message?: string; directory?: string };

/**
 * Switches V8's on-disk compile cache on where Node has it (≥ 22.1, the image's Node 22), so a
 * command's second and later runs skip compiling the bundle's code; a no-op on Node 20, which
 * has no such cache. `NODE_DISABLE_COMPILE_CACHE=1` turns it off, `NODE_COMPILE_CACHE` names
 * another folder (Node's own variables). Returns whether it was switched on.
 */
export function enableCompileCache(): boolean {
  const enable = (nodeModule as { enableCompileCache?: EnableCompileCache }).enableCompileCache;
  if (enable === undefined) return false;
  try {
    // An unusable folder is reported in the result, not thrown; status 1 is ENABLED, 2 ALREADY_ENABLED.
    const { status } = enable(COMPILE_CACHE_DIR);
    return status === 1 || status === 2;
  } catch {
    // Start-up must not fail over a cache.
    return false;
  }
}

/**
 * Runs the `kai-jobs` binary: the compile cache first, then the command's code, imported only
 * now — every module of a static import is compiled before any of them runs, so an import of
 * the code beside the cache's switch would be compiled before the cache is on.
 */
export async function startBinary(argv: readonly string[]): Promise<never> {
  enableCompileCache();
  const { runBinary } = await import('./main.js');
  return runBinary(argv);
}
