import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlibConstants, gzip } from 'node:zlib';

/**
 * How the built renderer is sent: Vite names every asset under assets/ with a
 * content hash, so those never change under their name and are cached for a year
 * (`immutable`: no revalidation on reload). index.html names the current hashes and
 * is never cached, nor is any API response. Text assets are compressed (brotli or
 * gzip, whichever the client prefers), once per file version, and kept in memory.
 */
export const IMMUTABLE_CACHE = 'public, max-age=31536000, immutable';
export const NO_STORE = 'no-store';
/** Unhashed files besides index.html (none today): cached, but revalidated each time. */
export const REVALIDATE = 'no-cache';

const HASHED_ASSET = /^assets\/(?:[^/]+\/)*[^/]+-[A-Za-z0-9_-]{8}\.[A-Za-z0-9]+$/;

export function isHashedAsset(relativePath: string): boolean {
  return HASHED_ASSET.test(relativePath);
}

export function cacheControlFor(relativePath: string): string {
  if (relativePath === 'index.html' || path.extname(relativePath) === '.html') return NO_STORE;
  return isHashedAsset(relativePath) ? IMMUTABLE_CACHE : REVALIDATE;
}

const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.map', '.svg', '.ttf', '.wasm', '.txt']);
/** Below this, compression saves less than a packet's worth and costs a round of CPU. */
export const MIN_COMPRESS_BYTES = 1024;

export function isCompressible(file: string, size: number): boolean {
  return size >= MIN_COMPRESS_BYTES && COMPRESSIBLE.has(path.extname(file).toLowerCase());
}

export type ContentEncoding = 'br' | 'gzip';

/** The encoding to send for an Accept-Encoding header: brotli when accepted, else gzip, else none (q=0 refuses). */
export function pickEncoding(acceptEncoding: string | string[] | undefined): ContentEncoding | null {
  const header = Array.isArray(acceptEncoding) ? acceptEncoding.join(',') : (acceptEncoding ?? '');
  const accepted = new Map<string, number>();
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)).find(Boolean);
    accepted.set(name, q ? Number(q[1]) : 1);
  }
  const weight = (name: ContentEncoding) => accepted.get(name) ?? (accepted.has('*') ? accepted.get('*')! : 0);
  const br = weight('br');
  const gz = weight('gzip');
  if (br > 0 && br >= gz) return 'br';
  if (gz > 0) return 'gzip';
  return null;
}

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

function compress(body: Buffer, encoding: ContentEncoding): Promise<Buffer> {
  // Brotli quality 9: close to 11's ratio on JS at a fraction of the time, paid once per file version.
  return encoding === 'br'
    ? brotli(body, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 9, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: body.length } })
    : gzipAsync(body, { level: 9 });
}

export type StaticBody = { body: Buffer; encoding: ContentEncoding | null };

/**
 * Reads a file and returns it in the wanted encoding. Compressed copies are kept
 * per (path, size, mtime, encoding) up to `maxBytes`, least recently used dropped
 * first; a rebuilt file has a new mtime and so a new entry.
 */
export class CompressedFileCache {
  private readonly entries = new Map<string, Buffer>();
  private bytes = 0;
  private readonly inFlight = new Map<string, Promise<Buffer>>();

  constructor(private readonly maxBytes = 128 * 1024 * 1024) {}

  get cachedBytes(): number {
    return this.bytes;
  }

  async read(file: string, encoding: ContentEncoding | null): Promise<StaticBody> {
    const info = await stat(file);
    if (!encoding || !isCompressible(file, info.size)) return { body: await readFile(file), encoding: null };
    const key = `${encoding}:${info.size}:${info.mtimeMs}:${file}`;
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return { body: hit, encoding };
    }
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = readFile(file).then((raw) => compress(raw, encoding));
      this.inFlight.set(key, pending);
    }
    try {
      const body = await pending;
      if (!this.entries.has(key) && body.length <= this.maxBytes) {
        this.entries.set(key, body);
        this.bytes += body.length;
        for (const [oldKey, old] of this.entries) {
          if (this.bytes <= this.maxBytes) break;
          this.entries.delete(oldKey);
          this.bytes -= old.length;
        }
      }
      return { body, encoding };
    } finally {
      this.inFlight.delete(key);
    }
  }
}
