import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A folder name for a key prefix: the prefix with every character outside `[A-Za-z0-9._-]`
 * replaced by `_` (a Redis Cluster prefix `{kai}` becomes `_kai_`), so each prefix on a host
 * gets its own artifact folder and a sweep of one never touches another's.
 */
export function prefixFolderName(prefix: string): string {
  const name = prefix.replace(/[^A-Za-z0-9._-]/g, '_');
  // "." and ".." are not folder names of their own.
  return /^\.+$/.test(name) ? name.replaceAll('.', '_') : name;
}

/** The default artifact folder of a key prefix: `<os tmp>/kai-jobs-artifacts/<prefix>`. */
export function defaultArtifactsDir(prefix: string): string {
  return join(tmpdir(), 'kai-jobs-artifacts', prefixFolderName(prefix));
}
