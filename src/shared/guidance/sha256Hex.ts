import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';

/**
 * SHA-256 of a string's UTF-8 bytes, as lowercase hex. src/shared hashes in the renderer
 * (guidance edits get their rule ids there) and in the engine alike, synchronously, so it
 * cannot use node:crypto or the async SubtleCrypto; @noble/hashes is an audited
 * implementation that runs in both.
 */
export function sha256Hex(text: string): string {
  return bytesToHex(sha256(utf8ToBytes(text)));
}
