import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LocalFolderArtifactStore, scopeArtifactStore } from '../src/index.js';

describe('LocalFolderArtifactStore', () => {
  const store = new LocalFolderArtifactStore(mkdtempSync(join(tmpdir(), 'kai-art-')));

  it('stores, hashes, lists and overwrites by key', async () => {
    const ref = await store.put('job-1/text_extracted/page-1.txt', 'hello', { contentType: 'text/plain' });
    expect(ref).toEqual({
      key: 'job-1/text_extracted/page-1.txt',
      sha256: createHash('sha256').update('hello').digest('hex'),
      bytes: 5,
      contentType: 'text/plain',
    });
    await store.put('job-1/text_extracted/page-1.txt', 'hello again');
    expect((await store.get('job-1/text_extracted/page-1.txt')).toString()).toBe('hello again');
    await store.put('job-1/text_extracted/page-2.txt', Buffer.from('x'));
    expect(await store.list('job-1')).toEqual(['job-1/text_extracted/page-1.txt', 'job-1/text_extracted/page-2.txt']);
    await store.deletePrefix('job-1');
    expect(await store.list('job-1')).toEqual([]);
    expect(await store.exists('job-1/text_extracted/page-1.txt')).toBe(false);
  });

  it('refuses keys that escape the folder and reports missing artifacts', async () => {
    await expect(store.put('../etc/passwd', 'x')).rejects.toMatchObject({ name: 'InvalidArtifactKeyError' });
    await expect(store.put('a//b', 'x')).rejects.toMatchObject({ name: 'InvalidArtifactKeyError' });
    await expect(store.get('nope/x')).rejects.toMatchObject({ name: 'ArtifactNotFoundError' });
  });

  it('scopes a stage to <job>/<stage>/', async () => {
    const scoped = scopeArtifactStore(store, 'job-2', 'tiles_generated');
    const ref = await scoped.put('page-1/tile-0-0.png', Buffer.from([1, 2]));
    expect(ref.key).toBe('job-2/tiles_generated/page-1/tile-0-0.png');
    expect(await scoped.list()).toEqual(['page-1/tile-0-0.png']);
    expect((await scoped.getByKey(ref.key)).length).toBe(2);
  });
});
