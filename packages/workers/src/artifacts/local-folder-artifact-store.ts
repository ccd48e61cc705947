import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { ArtifactRef } from '@kai-jobs/queue';
import { ArtifactNotFoundError, InvalidArtifactKeyError } from '../errors.js';
import type { ArtifactBody } from './artifact-store.js';
import type { ArtifactJobEntry, SweepableArtifactStore } from './artifact-sweeper.js';

const KEY_PATTERN = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/**
 * An {@link ArtifactStore} on a local folder. Writes go to a temporary file renamed into
 * place, so a crash never leaves a half-written artifact under its real key.
 */
export class LocalFolderArtifactStore implements SweepableArtifactStore {
  private readonly root: string;

  /** The folder (absolute). */
  get folder(): string {
    return this.root;
  }

  /** `root` is created on first write. */
  constructor(root: string) {
    this.root = resolve(root);
  }

  private pathOf(key: string): string {
    if (!KEY_PATTERN.test(key) || key.split('/').some((part) => part === '..' || part === '.')) {
      throw new InvalidArtifactKeyError(key);
    }
    return join(this.root, ...key.split('/'));
  }

  async put(key: string, body: ArtifactBody, options: { contentType?: string } = {}): Promise<ArtifactRef> {
    const path = this.pathOf(key);
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(temporary, bytes);
    await rename(temporary, path);
    const ref: ArtifactRef = {
      key,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      bytes: bytes.byteLength,
    };
    if (options.contentType !== undefined) ref.contentType = options.contentType;
    return ref;
  }

  async get(key: string): Promise<Buffer> {
    try {
      return await readFile(this.pathOf(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new ArtifactNotFoundError(key);
      throw error;
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(key))).isFile();
    } catch {
      return false;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const base = this.pathOf(prefix);
    const keys: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) {
        const full = join(dir, entry.name);
        if (entry.isDirectory()) await walk(full);
        else if (!entry.name.endsWith('.tmp')) keys.push(relative(this.root, full).split(sep).join('/'));
      }
    };
    await walk(base);
    return keys.sort();
  }

  async deletePrefix(prefix: string): Promise<void> {
    await rm(this.pathOf(prefix), { recursive: true, force: true });
  }

  /**
   * Every job folder at the root with its newest modification time (of the folder and of its
   * stage folders, whose times change when an artifact is written into them), for the sweep.
   */
  async listJobs(): Promise<ArtifactJobEntry[]> {
    let entries;
    try {
      entries = await readdir(this.root, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const jobs: ArtifactJobEntry[] = [];
    for (const entry of entries) {
      if (!entry.isDirectory() || !KEY_PATTERN.test(entry.name)) continue;
      const dir = join(this.root, entry.name);
      try {
        let modifiedAtMs = (await stat(dir)).mtimeMs;
        for (const child of await readdir(dir, { withFileTypes: true })) {
          modifiedAtMs = Math.max(modifiedAtMs, (await stat(join(dir, child.name))).mtimeMs);
        }
        jobs.push({ jobId: entry.name, modifiedAtMs: Math.floor(modifiedAtMs) });
      } catch (error) {
        // Deleted while listed (another sweep): nothing to report.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    return jobs;
  }

  localPath(key: string): string {
    return this.pathOf(key);
  }
}
