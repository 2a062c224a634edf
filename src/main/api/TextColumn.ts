const CHUNK_BYTES = 8 * 1024 * 1024;
const ROW_SEPARATOR = 0x00;

/** One chunk: packed rows; rowStarts[k] = byte where row firstRow + k starts. */
export type TextChunk = { buffer: Buffer; used: number; firstRow: number; rowStarts: Uint32Array; rows: number };

/**
 * The lowercase searchable text of every row, packed as UTF-8 in 8 MiB chunks
 * outside the JS heap. A substring search is a run of Buffer.indexOf calls
 * (memchr-speed) plus a forward walk from byte position to row.
 * Rows never straddle chunks, so a match never spans two rows.
 */
export class TextColumn {
  private chunks: TextChunk[] = [];
  private rowCount = 0;

  get length(): number {
    return this.rowCount;
  }

  push(text: string): void {
    const lower = text.toLowerCase().replaceAll('\0', ' ');
    // UTF-8 needs at most 3 bytes per UTF-16 code unit.
    const bound = lower.length * 3 + 1;
    let chunk = this.chunks[this.chunks.length - 1];
    if (!chunk || chunk.used + bound > chunk.buffer.length) {
      chunk = { buffer: Buffer.allocUnsafe(Math.max(CHUNK_BYTES, bound)), used: 0, firstRow: this.rowCount, rowStarts: new Uint32Array(1024), rows: 0 };
      this.chunks.push(chunk);
    }
    if (chunk.rows === chunk.rowStarts.length) {
      const grown = new Uint32Array(chunk.rowStarts.length * 2);
      grown.set(chunk.rowStarts);
      chunk.rowStarts = grown;
    }
    chunk.rowStarts[chunk.rows] = chunk.used;
    chunk.rows += 1;
    chunk.used += lower.length === 0 ? 0 : chunk.buffer.write(lower, chunk.used, 'utf8');
    chunk.buffer[chunk.used] = ROW_SEPARATOR;
    chunk.used += 1;
    this.rowCount += 1;
  }

  /** Keeps the first `length` rows (retracting a provisional last row). */
  truncate(length: number): void {
    while (this.rowCount > length) {
      const chunk = this.chunks[this.chunks.length - 1];
      chunk.rows -= 1;
      chunk.used = chunk.rowStarts[chunk.rows];
      this.rowCount -= 1;
      if (chunk.rows === 0) this.chunks.pop();
    }
  }

  /** Sets mask[row] = 1 for rows whose text contains `needle` (case-insensitive). Returns the count. */
  search(needle: string, mask: Uint8Array): number {
    const pattern = Buffer.from(needle.toLowerCase(), 'utf8');
    if (pattern.length === 0) {
      mask.fill(1, 0, this.rowCount);
      return this.rowCount;
    }
    let count = 0;
    for (const chunk of this.chunks) {
      const view = chunk.buffer.subarray(0, chunk.used);
      const starts = chunk.rowStarts;
      let local = 0;
      let position = view.indexOf(pattern, 0);
      while (position !== -1) {
        // Matches come in increasing position: walk the row cursor forward.
        while (local + 1 < chunk.rows && starts[local + 1] <= position) local += 1;
        const row = chunk.firstRow + local;
        if (mask[row] === 0) {
          mask[row] = 1;
          count += 1;
        }
        if (local + 1 >= chunk.rows) break;
        position = view.indexOf(pattern, starts[local + 1]);
      }
    }
    return count;
  }

  approximateBytes(): number {
    return this.chunks.reduce((sum, chunk) => sum + chunk.buffer.length + chunk.rowStarts.byteLength, 0);
  }

  /** The filled part of every chunk (what an index sidecar stores); views, not copies. */
  snapshot(): { bytes: Buffer; rowStarts: Uint32Array }[] {
    return this.chunks.map((chunk) => ({ bytes: chunk.buffer.subarray(0, chunk.used), rowStarts: chunk.rowStarts.subarray(0, chunk.rows) }));
  }

  /**
   * A column restored from an index sidecar. Throws when the chunks are not
   * well-formed (row starts increasing, each row ending in the separator).
   */
  static restore(chunks: readonly { bytes: Buffer; rowStarts: Uint32Array }[]): TextColumn {
    const column = new TextColumn();
    for (const { bytes, rowStarts } of chunks) {
      if (rowStarts.length === 0 || rowStarts[0] !== 0) throw new Error('text chunk does not start at a row');
      for (let k = 0; k < rowStarts.length; k += 1) {
        const next = k + 1 < rowStarts.length ? rowStarts[k + 1] : bytes.length;
        if (next <= rowStarts[k] || next > bytes.length || bytes[next - 1] !== ROW_SEPARATOR) throw new Error('text chunk rows are not well-formed');
      }
      column.chunks.push({ buffer: bytes, used: bytes.length, firstRow: column.rowCount, rowStarts, rows: rowStarts.length });
      column.rowCount += rowStarts.length;
    }
    return column;
  }
}
