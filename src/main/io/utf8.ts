import { isUtf8 } from 'node:buffer';
import { StageBError, type ErrorCode } from '../../shared/errors';

/**
 * Strict UTF-8 for every text input (Stage-A files, guidance, config). Node's default
 * decoding replaces invalid bytes with U+FFFD silently, so a summary with broken bytes
 * would reach the model altered while validation says OK; these helpers refuse it and
 * say where the first bad byte is.
 */

/**
 * Byte offset of the first byte that does not start or continue a well-formed UTF-8
 * sequence (Unicode 15, table 3-7: no overlongs, no surrogates, nothing above U+10FFFF);
 * -1 when all of `bytes` is valid.
 */
export function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  if (isUtf8(bytes)) return -1;
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i];
    if (b < 0x80) {
      i += 1;
      continue;
    }
    let length: number;
    let min = 0x80;
    let max = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) length = 2;
    else if (b >= 0xe0 && b <= 0xef) {
      length = 3;
      if (b === 0xe0) min = 0xa0;
      if (b === 0xed) max = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      length = 4;
      if (b === 0xf0) min = 0x90;
      if (b === 0xf4) max = 0x8f;
    } else return i;
    for (let k = 1; k < length; k++) {
      const c = bytes[i + k];
      // A truncated sequence is invalid at its lead byte.
      if (c === undefined) return i;
      const lo = k === 1 ? min : 0x80;
      const hi = k === 1 ? max : 0xbf;
      if (c < lo || c > hi) return i;
    }
    i += length;
  }
  // isUtf8 and this scan agree on every input; reaching here would mean they do not.
  return -1;
}

export type InvalidUtf8 = {
  /** Byte offset in the file (0-based). */
  byteOffset: number;
  /** 1-based line of that byte. */
  line: number;
  /** Byte offset within the line (0-based). */
  lineByteOffset: number;
  /** The offending bytes, up to four, as hex. */
  bytes: string;
};

function hexBytes(bytes: Uint8Array, at: number): string {
  return Array.from(bytes.subarray(at, at + 4), (b) => `0x${b.toString(16).padStart(2, '0')}`).join(' ');
}

/** Where the first invalid byte of `bytes` is, counted in lines; null when valid. */
export function locateInvalidUtf8(bytes: Uint8Array, firstLine = 1, firstLineStartOffset = 0): InvalidUtf8 | null {
  const offset = firstInvalidUtf8Offset(bytes);
  if (offset === -1) return null;
  let line = firstLine;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (bytes[i] === 0x0a) {
      line += 1;
      lineStart = i + 1;
    }
  }
  return { byteOffset: firstLineStartOffset + offset, line, lineByteOffset: offset - lineStart, bytes: hexBytes(bytes, offset) };
}

export function describeInvalidUtf8(where: InvalidUtf8): string {
  return `not valid UTF-8 at byte offset ${where.byteOffset} (line ${where.line}, byte ${where.lineByteOffset} of the line: ${where.bytes}); save the file as UTF-8`;
}

export function invalidUtf8Error(code: ErrorCode, file: string, where: InvalidUtf8): StageBError {
  return new StageBError(code, describeInvalidUtf8(where), { file, line: where.line }, { byte_offset: where.byteOffset, line_byte_offset: where.lineByteOffset });
}

/** Decodes a whole file's bytes, refusing invalid UTF-8 with `code`, the file, the line and the byte offset. */
export function decodeUtf8Strict(bytes: Buffer, file: string, code: ErrorCode): string {
  const where = locateInvalidUtf8(bytes);
  if (where) throw invalidUtf8Error(code, file, where);
  return bytes.toString('utf8');
}
