import { constants } from 'node:fs';
import { open, realpath, stat, type FileHandle } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { FileSourceError, FileSourceFailureReason } from './errors.js';

/**
 * Flags of every open: read-only; non-blocking so a FIFO or a device planted under the root
 * cannot hang the worker in `open()` (it is refused by the fstat right after); no controlling
 * terminal. No O_NOFOLLOW: a symlink whose target stays inside the root is fine (Kubernetes
 * volumes are made of them); the check below judges where the descriptor really points.
 */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

/** A file opened by {@link openFileSource}: read through `handle` only, then close it. */
export interface OpenedFileSource {
  /** The descriptor that was checked; never re-open the file by path. */
  readonly handle: FileHandle;
  /** Size in bytes at open time (fstat of the descriptor). */
  readonly size: number;
  /** The real path the descriptor refers to, inside the root. */
  readonly realPath: string;
}

/** Where {@link openFileSource} may read from. */
export interface FileSourceOptions {
  /**
   * The one folder file sources may be read from (FILE_ROOT). Undefined turns file sources off:
   * a worker that reads any path a payload names is a file-disclosure bug waiting to happen.
   */
  fileRoot: string | undefined;
  /** Names the source in messages, e.g. `file source` or `feed file`. */
  what: string;
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/**
 * The real path of an open descriptor. On Linux the kernel tells it through
 * `/proc/self/fd/<fd>`. Elsewhere we resolve the opened path and accept it only when that
 * path's (device, inode) is the descriptor's own, so a path swapped after the open cannot
 * stand in for the file actually opened.
 */
async function realPathOf(handle: FileHandle, openedPath: string, device: number, inode: number): Promise<string | null> {
  try {
    return await realpath(`/proc/self/fd/${handle.fd}`);
  } catch {
    // No procfs (macOS, a sandbox): fall back to the identity check below.
  }
  try {
    const candidate = await realpath(openedPath);
    const info = await stat(candidate);
    return info.dev === device && info.ino === inode ? candidate : null;
  } catch {
    return null;
  }
}

function failure(reason: FileSourceFailureReason, what: string, path: string, detail: string, cause?: unknown): FileSourceError {
  return new FileSourceError(reason, path, `${what} ${path} ${detail}`, cause === undefined ? {} : { cause });
}

/**
 * Opens a payload-named file for reading, race-free: the file is opened first, and then the
 * opened descriptor (not a path checked earlier) must be a regular file whose real path lies
 * inside the real path of `fileRoot`. A symlink (anywhere in the path) leading out of the root,
 * or swapped between any check and the open, is refused. Relative paths resolve against the
 * root. Every refusal is a {@link FileSourceError} (not retryable).
 */
export async function openFileSource(path: string, options: FileSourceOptions): Promise<OpenedFileSource> {
  const { what } = options;
  if (options.fileRoot === undefined) {
    throw failure(
      FileSourceFailureReason.Disabled,
      what,
      path,
      'cannot be read: file sources are off on this worker; set FILE_ROOT (option fileRoot) to the folder they may be read from',
    );
  }
  let root: string;
  try {
    root = await realpath(options.fileRoot);
  } catch (error) {
    throw failure(FileSourceFailureReason.RootUnusable, what, path, `cannot be read: FILE_ROOT ${options.fileRoot} does not exist or is not readable`, error);
  }
  // Where to open: `path` resolved against the root's real path, or against FILE_ROOT as
  // written (an absolute payload path may name the root through a symlinked parent). This
  // textual check only gives `../../etc/passwd` a clear message; the real check is on the descriptor.
  const written = resolve(options.fileRoot);
  const full = isInside(root, resolve(root, path)) ? resolve(root, path) : isInside(written, resolve(written, path)) ? resolve(written, path) : null;
  if (full === null) throw failure(FileSourceFailureReason.OutsideRoot, what, path, `is outside FILE_ROOT (${options.fileRoot})`);
  let handle: FileHandle;
  try {
    handle = await open(full, OPEN_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw failure(FileSourceFailureReason.NotFound, what, path, 'does not exist', error);
    if (code === 'EACCES' || code === 'EPERM') throw failure(FileSourceFailureReason.Unreadable, what, path, `is not readable by the worker (${code})`, error);
    if (code === 'ELOOP') throw failure(FileSourceFailureReason.OutsideRoot, what, path, 'is a symlink loop', error);
    throw error;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw failure(FileSourceFailureReason.NotRegular, what, path, 'is not a regular file');
    const real = await realPathOf(handle, full, info.dev, info.ino);
    if (real === null || !isInside(root, real)) {
      // Do not say where it leads: the target's path is itself something the payload should not learn.
      throw failure(FileSourceFailureReason.OutsideRoot, what, path, `leads outside FILE_ROOT (${options.fileRoot}) through a symlink`);
    }
    return { handle, size: info.size, realPath: real };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * Reads a whole opened file into memory, at most `maxBytes`; returns null when it holds more
 * (a file that grows after the fstat cannot slip past the limit). Reads from the descriptor only.
 */
export async function readOpenedFile(file: OpenedFileSource, maxBytes: number): Promise<Buffer | null> {
  const buffer = Buffer.alloc(Math.min(file.size, maxBytes) + 1);
  let filled = 0;
  for (;;) {
    const { bytesRead } = await file.handle.read(buffer, filled, buffer.length - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
    if (filled > maxBytes) return null;
    if (filled === buffer.length) break;
  }
  return buffer.subarray(0, filled);
}

/**
 * Streams an opened file through one reused buffer of `chunkBytes` (a chunk is valid only until
 * the next is requested), and closes the descriptor at the end, on error and on early return.
 */
export async function* readOpenedFileChunks(file: OpenedFileSource, signal: AbortSignal, chunkBytes = 1024 * 1024): AsyncGenerator<Buffer> {
  const buffer = Buffer.allocUnsafe(chunkBytes);
  try {
    for (;;) {
      signal.throwIfAborted();
      const { bytesRead } = await file.handle.read(buffer, 0, buffer.byteLength, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await file.handle.close();
  }
}
