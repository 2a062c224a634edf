import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompressedFileCache, IMMUTABLE_CACHE, NO_STORE, REVALIDATE, cacheControlFor, isCompressible, pickEncoding } from './staticAssets';

describe('cache policy of the built renderer', () => {
  it.each([
    ['assets/index-DlK-r_Gw.js', IMMUTABLE_CACHE],
    ['assets/editor-DjpsE8to.css', IMMUTABLE_CACHE],
    ['assets/codicon-DF1abBS2.ttf', IMMUTABLE_CACHE],
    ['index.html', NO_STORE],
    ['assets/app.js', REVALIDATE],
    ['favicon.png', REVALIDATE],
    ['other/index-DlK-r_Gw.js', REVALIDATE],
  ])('%s → %s', (file, expected) => expect(cacheControlFor(file)).toBe(expected));
});

describe('pickEncoding', () => {
  it.each([
    ['gzip, deflate, br, zstd', 'br'],
    ['gzip', 'gzip'],
    ['br;q=0, gzip', 'gzip'],
    ['gzip;q=1, br;q=0.5', 'gzip'],
    ['*', 'br'],
    ['identity', null],
    ['gzip;q=0', null],
    ['', null],
  ])('"%s" → %s', (header, expected) => expect(pickEncoding(header)).toBe(expected));
  it('reads an absent header as no encoding', () => expect(pickEncoding(undefined)).toBeNull());
});

describe('CompressedFileCache', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'static-assets-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('leaves small and binary files alone', () => {
    expect(isCompressible('a.js', 100)).toBe(false);
    expect(isCompressible('a.png', 100_000)).toBe(false);
    expect(isCompressible('a.js', 100_000)).toBe(true);
  });

  it('returns the same compressed copy for an unchanged file and a fresh one after a rebuild', async () => {
    const file = path.join(dir, 'a-12345678.js');
    await writeFile(file, 'x'.repeat(10_000));
    const cache = new CompressedFileCache();
    const first = await cache.read(file, 'gzip');
    expect(first.encoding).toBe('gzip');
    expect(gunzipSync(first.body).toString()).toBe('x'.repeat(10_000));
    expect((await cache.read(file, 'gzip')).body).toBe(first.body);
    await writeFile(file, 'y'.repeat(10_000));
    await utimes(file, new Date(), new Date(Date.now() + 5000));
    expect(gunzipSync((await cache.read(file, 'gzip')).body).toString()).toBe('y'.repeat(10_000));
  });

  it('stays within its byte budget, dropping the least recently used copy', async () => {
    const cache = new CompressedFileCache(60);
    const files = await Promise.all(['p', 'q', 'r'].map(async (name) => {
      const file = path.join(dir, `${name}.js`);
      await writeFile(file, name.repeat(5000));
      return file;
    }));
    for (const file of files) await cache.read(file, 'br');
    expect(cache.cachedBytes).toBeLessThanOrEqual(60);
    expect(cache.cachedBytes).toBeGreaterThan(0);
  });
});
