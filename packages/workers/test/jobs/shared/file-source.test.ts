import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeContentKind, LocalFolderBlobReader, openFileSource, readOpenedFile } from '@kai-jobs/workers';

/** A FILE_ROOT with one file inside, and a secret file beside it (outside the root). */
function layout() {
  const base = mkdtempSync(join(tmpdir(), 'kai-file-source-'));
  const root = join(base, 'root');
  mkdirSync(root);
  writeFileSync(join(root, 'inside.txt'), 'INSIDE');
  mkdirSync(join(base, 'outside'));
  writeFileSync(join(base, 'outside', 'secret.txt'), 'SECRET');
  return { base, root, secret: join(base, 'outside', 'secret.txt') };
}

async function read(path: string, fileRoot: string | undefined): Promise<string> {
  const file = await openFileSource(path, { fileRoot, what: 'file source' });
  try {
    return (await readOpenedFile(file, 1024))?.toString() ?? '(too large)';
  } finally {
    await file.handle.close();
  }
}

describe('openFileSource', () => {
  it('is off without a FILE_ROOT, and says to set it', async () => {
    const { root } = layout();
    await expect(read(join(root, 'inside.txt'), undefined)).rejects.toMatchObject({
      name: 'FileSourceError',
      reason: 'disabled',
      retryable: false,
      message: expect.stringMatching(/file sources are off on this worker; set FILE_ROOT/),
    });
  });

  it('reads a file inside the root, by relative or absolute path, and through a symlink that stays inside', async () => {
    const { root } = layout();
    symlinkSync(join(root, 'inside.txt'), join(root, 'alias.txt'));
    expect(await read('inside.txt', root)).toBe('INSIDE');
    expect(await read(join(root, 'inside.txt'), root)).toBe('INSIDE');
    expect(await read('alias.txt', root)).toBe('INSIDE');
  });

  it('accepts a root named through a symlinked parent', async () => {
    const { base, root } = layout();
    symlinkSync(base, join(base, '..', `${base.split('/').pop()}-link`));
    const viaLink = join(`${base}-link`, 'root');
    expect(await read(join(viaLink, 'inside.txt'), viaLink)).toBe('INSIDE');
    expect(await read('inside.txt', viaLink)).toBe('INSIDE');
    expect(await read(join(root, 'inside.txt'), viaLink)).toBe('INSIDE');
  });

  it('refuses a path outside the root, saying which', async () => {
    const { root, secret } = layout();
    await expect(read('../outside/secret.txt', root)).rejects.toMatchObject({ reason: 'outside_root', message: expect.stringMatching(/is outside FILE_ROOT/) });
    await expect(read(secret, root)).rejects.toMatchObject({ reason: 'outside_root' });
    await expect(read('/etc/passwd', root)).rejects.toMatchObject({ reason: 'outside_root' });
  });

  it('refuses a symlink (to a file or to a folder) that leads out of the root, without echoing the target', async () => {
    const { base, root, secret } = layout();
    symlinkSync(secret, join(root, 'leak.txt'));
    symlinkSync(join(base, 'outside'), join(root, 'dir'));
    symlinkSync('/etc/passwd', join(root, 'passwd'));
    for (const path of ['leak.txt', 'dir/secret.txt', 'passwd', join(root, 'leak.txt')]) {
      const failure = read(path, root);
      await expect(failure).rejects.toMatchObject({ name: 'FileSourceError', reason: 'outside_root' });
      await expect(failure).rejects.not.toThrow(/SECRET|root:|outside\/secret/);
    }
  });

  it('refuses directories and FIFOs without blocking on them, and says a missing file does not exist', async () => {
    const { root } = layout();
    mkdirSync(join(root, 'folder'));
    execFileSync('mkfifo', [join(root, 'pipe')]);
    await expect(read('folder', root)).rejects.toMatchObject({ reason: 'not_regular' });
    // Opened non-blocking: a FIFO with no writer would otherwise hang the worker here forever.
    await expect(read('pipe', root)).rejects.toMatchObject({ reason: 'not_regular' });
    await expect(read('nope.txt', root)).rejects.toMatchObject({ reason: 'not_found', message: expect.stringMatching(/nope\.txt does not exist/) });
    await expect(read('x.txt', join(root, 'no-such-root'))).rejects.toMatchObject({ reason: 'root_unusable', message: expect.stringMatching(/FILE_ROOT/) });
  });

  it('checks the opened descriptor, so a symlink swapped by another process never yields the outside file', async () => {
    const { base, root } = layout();
    writeFileSync(join(base, 'outside', 'secret.txt'), 'SECRET');
    symlinkSync(join(root, 'inside.txt'), join(root, 'good'));
    symlinkSync(join(base, 'outside', 'secret.txt'), join(root, 'bad'));
    symlinkSync(join(root, 'inside.txt'), join(root, 'swap'));
    // Another process flips root/swap between the inside and the outside target as fast as it can
    // (rename(2) is atomic, so the link always exists and points to one or the other).
    const swapper = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('node:fs');
         const [root] = process.argv.slice(1);
         process.stdout.write('go\\n');
         for (;;) {
           fs.symlinkSync(root + '/../outside/secret.txt', root + '/tmp-bad'); fs.renameSync(root + '/tmp-bad', root + '/swap');
           fs.symlinkSync(root + '/inside.txt', root + '/tmp-good'); fs.renameSync(root + '/tmp-good', root + '/swap');
         }`,
        root,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => swapper.stdout.once('data', () => resolve()));
    const outcomes = new Map<string, number>();
    try {
      for (let round = 0; round < 400; round++) {
        const outcome = await read('swap', root).then(
          (text) => `read ${text}`,
          (error: { name?: string; reason?: string }) => `${error.name} ${error.reason}`,
        );
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
    } finally {
      swapper.kill('SIGKILL');
    }
    // Never the outside file's bytes, whatever the interleaving (a check-then-open by path reads SECRET here).
    expect([...outcomes.keys()].sort()).toEqual(['FileSourceError outside_root', 'read INSIDE']);
    // Both outcomes occurred: the swapper really raced the opener (else this test would prove nothing).
    expect(readFileSync(join(base, 'outside', 'secret.txt'), 'utf8')).toBe('SECRET');
  }, 30_000);

  it('backs LocalFolderBlobReader: a symlink in the blob folder does not lead out of it', async () => {
    const { root, secret } = layout();
    symlinkSync(secret, join(root, 'leak.xml'));
    const reader = new LocalFolderBlobReader(root);
    await expect(reader.openRead('leak.xml', new AbortController().signal)).rejects.toMatchObject({ name: 'BlobNotFoundError' });
    const chunks: Uint8Array[] = [];
    for await (const chunk of await reader.openRead('inside.txt', new AbortController().signal)) chunks.push(Buffer.from(chunk));
    expect(Buffer.concat(chunks).toString()).toBe('INSIDE');
  });
});

describe('describeContentKind', () => {
  it.each([
    [Buffer.from('<!doctype html><title>Login</title>'), 'text/html; charset=utf-8', 'HTML (Content-Type text/html)'],
    [Buffer.from('ami-id\nami-launch-index\nhostname\n'), 'text/plain', 'plain text (Content-Type text/plain)'],
    [Buffer.from('{"AccessKeyId":"AKIA..."}'), 'application/json', 'JSON or JSON-like text (Content-Type application/json)'],
    [Buffer.from('<?xml version="1.0"?><a/>'), null, 'XML or other markup (no Content-Type)'],
    [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a]), 'image/png', 'a PNG image (Content-Type image/png)'],
    [Buffer.from([0x00, 0x01, 0x02, 0xff]), 'x/y"><script>', 'binary data (an unrecognised Content-Type)'],
    [Buffer.alloc(0), undefined, 'empty'],
  ])('names the kind of %s, never its bytes', (bytes, contentType, expected) => {
    const described = describeContentKind(bytes, contentType);
    expect(described).toBe(expected);
    if (bytes.byteLength > 4) expect(described).not.toContain(bytes.toString('latin1').slice(0, 8));
  });
});
