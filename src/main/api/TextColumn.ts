const CHUNK_BYTES = 8 * 1024 * 1024;
const ROW_SEPARATOR = 0x00;

type Chunk = { buffer: Buffer; used: number; firstRow: number; rowStarts: number[] };

/**
 * The lowercase searchable text of every row, packed as UTF-8 in 8 MiB chunks
 * outside the JS heap. A substring search is a run of Buffer.indexOf calls
 * (memchr-speed) plus a binary search from byte position to row.
 * Rows never straddle chunks, so a match never spans two rows.
 */
export class TextColumn {
  private readonly chunks: Chunk[] = [];
  private rows = 0;

  get length(): number {
    return this.rows;
  }

  push(text: string): void {
    const bytes = Buffer.from(text.toLowerCase().replaceAll('\0', ' '), 'utf8');
    const needed = bytes.length + 1;
    let chunk = this.chunks[this.chunks.length - 1];
    if (!chunk || chunk.used + needed > chunk.buffer.length) {
      chunk = { buffer: Buffer.allocUnsafe(Math.max(CHUNK_BYTES, needed)), used: 0, firstRow: this.rows, rowStarts: [] };
      this.chunks.push(chunk);
    }
    chunk.rowStarts.push(chunk.used);
    bytes.copy(chunk.buffer, chunk.used);
    chunk.used += bytes.length;
    chunk.buffer[chunk.used] = ROW_SEPARATOR;
    chunk.used += 1;
    this.rows += 1;
  }

  /** Keeps the first `length` rows (retracting a provisional last row). */
  truncate(length: number): void {
    while (this.rows > length) {
      const chunk = this.chunks[this.chunks.length - 1];
      const start = chunk.rowStarts.pop() as number;
      chunk.used = start;
      this.rows -= 1;
      if (chunk.rowStarts.length === 0) this.chunks.pop();
    }
  }

  /** Sets mask[row] = 1 for rows whose text contains `needle` (case-insensitive). Returns the count. */
  search(needle: string, mask: Uint8Array): number {
    const pattern = Buffer.from(needle.toLowerCase(), 'utf8');
    if (pattern.length === 0) {
      mask.fill(1, 0, this.rows);
      return this.rows;
    }
    let count = 0;
    for (const chunk of this.chunks) {
      const view = chunk.buffer.subarray(0, chunk.used);
      let position = view.indexOf(pattern, 0);
      while (position !== -1) {
        const local = upperBound(chunk.rowStarts, position) - 1;
        const row = chunk.firstRow + local;
        if (mask[row] === 0) {
          mask[row] = 1;
          count += 1;
        }
        const nextStart = local + 1 < chunk.rowStarts.length ? chunk.rowStarts[local + 1] : chunk.used;
        position = view.indexOf(pattern, nextStart);
      }
    }
    return count;
  }

  approximateBytes(): number {
    return this.chunks.reduce((sum, chunk) => sum + chunk.buffer.length + chunk.rowStarts.length * 8, 0);
  }
}

/** First index whose value is > target. */
function upperBound(sorted: number[], target: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
