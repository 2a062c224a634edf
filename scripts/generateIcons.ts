/**
 * `npm run icons`: draws the app icon (resources/icon.png, 512x512) and the sizes the
 * Linux desktop entry uses (resources/icons/NxN.png) without an image library: each
 * pixel is the shape below sampled 4x4 times, written as an RGBA PNG through node:zlib.
 * The shape: a dark slate rounded square, a teal "B" built from bars and rings, and a
 * check-mark badge (the verdict loop). Deterministic, so a rerun changes no file.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { deflateSync } from 'node:zlib';

export const ICON_SIZES = [16, 24, 32, 48, 64, 128, 256, 512] as const;

type Rgba = [number, number, number, number];
const BACKGROUND: Rgba = [30, 41, 59, 255];
const LETTER: Rgba = [45, 212, 191, 255];
const BADGE: Rgba = [250, 250, 250, 255];
const CHECK: Rgba = [22, 163, 74, 255];

function insideRoundedSquare(x: number, y: number, margin: number, radius: number): boolean {
  const lo = margin + radius;
  const hi = 1 - margin - radius;
  const dx = Math.max(lo - x, 0, x - hi);
  const dy = Math.max(lo - y, 0, y - hi);
  return x >= margin && x <= 1 - margin && y >= margin && y <= 1 - margin && dx * dx + dy * dy <= radius * radius;
}

function nearSegment(x: number, y: number, ax: number, ay: number, bx: number, by: number, width: number): boolean {
  const vx = bx - ax;
  const vy = by - ay;
  const t = Math.max(0, Math.min(1, ((x - ax) * vx + (y - ay) * vy) / (vx * vx + vy * vy)));
  const px = ax + t * vx - x;
  const py = ay + t * vy - y;
  return px * px + py * py <= (width / 2) ** 2;
}

/** One bowl of the B: the right half of a ring (a "D") between top and bottom. */
function inBowl(x: number, y: number, left: number, top: number, bottom: number, reach: number, stroke: number): boolean {
  const cy = (top + bottom) / 2;
  const ry = (bottom - top) / 2;
  const straight = left + reach - ry;
  if (x <= straight) return (Math.abs(y - top) <= stroke / 2 || Math.abs(y - bottom) <= stroke / 2) && x >= left;
  const d = Math.hypot(x - straight, y - cy);
  return Math.abs(d - ry) <= stroke / 2;
}

function shapeAt(x: number, y: number): Rgba | null {
  if (!insideRoundedSquare(x, y, 0.04, 0.2)) return null;
  const badgeDx = x - 0.74;
  const badgeDy = y - 0.74;
  if (badgeDx * badgeDx + badgeDy * badgeDy <= 0.17 ** 2) {
    if (nearSegment(x, y, 0.66, 0.745, 0.715, 0.795, 0.05) || nearSegment(x, y, 0.715, 0.795, 0.815, 0.68, 0.05)) return CHECK;
    return BADGE;
  }
  const stroke = 0.085;
  const left = 0.24;
  if (x >= left && x <= left + stroke && y >= 0.2 && y <= 0.78) return LETTER;
  if (inBowl(x, y, left, 0.2 + stroke / 2, 0.49, 0.27, stroke)) return LETTER;
  if (inBowl(x, y, left, 0.49, 0.78 - stroke / 2, 0.32, stroke)) return LETTER;
  return BACKGROUND;
}

/** RGBA pixels of the icon at `size`, 4x4 supersampled (premultiplied average, straight alpha out). */
export function renderIcon(size: number): Buffer {
  const samples = 4;
  const pixels = Buffer.alloc(size * size * 4);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const color = shapeAt((px + (sx + 0.5) / samples) / size, (py + (sy + 0.5) / samples) / size);
          if (!color) continue;
          const alpha = color[3] / 255;
          r += color[0] * alpha; g += color[1] * alpha; b += color[2] * alpha; a += alpha;
        }
      }
      const offset = (py * size + px) * 4;
      const n = samples * samples;
      pixels[offset] = a ? Math.round(r / a) : 0;
      pixels[offset + 1] = a ? Math.round(g / a) : 0;
      pixels[offset + 2] = a ? Math.round(b / a) : 0;
      pixels[offset + 3] = Math.round((a / n) * 255);
    }
  }
  return pixels;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** An 8-bit RGBA PNG (color type 6), filter type 0 on every row. */
export function encodePng(size: number, rgba: Buffer): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8;
  header[9] = 6;
  const rows = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) rgba.copy(rows, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

async function main(): Promise<void> {
  const resources = path.resolve(import.meta.dirname, '..', 'resources');
  await mkdir(path.join(resources, 'icons'), { recursive: true });
  for (const size of ICON_SIZES) {
    const png = encodePng(size, renderIcon(size));
    await writeFile(path.join(resources, 'icons', `${size}x${size}.png`), png);
    if (size === 512) await writeFile(path.join(resources, 'icon.png'), png);
    console.log(`resources/icons/${size}x${size}.png ${png.length} bytes`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
