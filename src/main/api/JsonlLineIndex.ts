import { open, stat } from 'node:fs/promises';
import type { z } from 'zod';
import { StageBError } from '../../shared/errors';
import type { RowFilters, SortField } from '../../shared/api/contract';
import { BOOL_CODE, LABEL_CODE, RowColumns, WARNING_BITS } from './RowColumns';
import { TextColumn } from './TextColumn';

const READ_CHUNK = 4 * 1024 * 1024;
const MAX_INVALID_REPORTED = 50;
const NEWLINE = 0x0a;
const KEY_SPACE = 2 ** 30;
const NULL_KEY = KEY_SPACE - 1;

export type InvalidLine = { line: number; message: string };
export type IndexedQuery = { filters: RowFilters; sort: { field: SortField; dir: 'asc' | 'desc' }; offset: number; limit: number };
export type IndexedPage = { total: number; rows: number[] };

/** The fields folded into the text column, in order. */
const TEXT_FIELDS = ['group_id', 'ticket_key', 'response_text', 'reason', 'summary', 'critique', 'ineligible_reason'] as const;

function textOf(record: Record<string, unknown>): string {
  let text = '';
  for (const field of TEXT_FIELDS) {
    const value = record[field];
    if (typeof value === 'string' && value.length > 0 && !(field === 'reason' && typeof record.response_text === 'string' && record.response_text.includes(value))) {
      text += value;
      text += '\n';
    }
  }
  return text;
}

/**
 * A line index over one append-only JSONL file (trajectories.jsonl or
 * selections.jsonl): byte offset + length of every line, a columnar copy of the
 * filterable fields, and a lowercase text column. Built by streaming the file
 * once; later refreshes only read the bytes appended since. A torn last line
 * (no newline yet) is not indexed; a complete-looking last line without a
 * newline is indexed provisionally and re-read when the file grows.
 * Queries filter and sort over the columns and read only the page's lines.
 */
export class JsonlLineIndex<T> {
  readonly path: string;
  private readonly schema: z.ZodType<T>;
  private columns = new RowColumns();
  private text = new TextColumn();
  private indexedBytes = 0;
  private nextLineNo = 1;
  private provisional: { bytes: number; end: number; lineNo: number } | null = null;
  private identity: string | null = null;
  private readonly invalidLines: InvalidLine[] = [];
  private invalidCount = 0;
  private pending: Promise<void> = Promise.resolve();
  private readonly sortCache = new Map<string, { length: number; order: Uint32Array }>();

  constructor(path: string, schema: z.ZodType<T>) {
    this.path = path;
    this.schema = schema;
  }

  get length(): number {
    return this.columns.length;
  }

  /** The columns, read-only by convention (qaQueue and charts aggregate over them). */
  get rowColumns(): RowColumns {
    return this.columns;
  }

  get invalid(): InvalidLine[] {
    return this.invalidLines;
  }

  approximateBytes(): number {
    return this.columns.approximateBytes() + this.text.approximateBytes();
  }

  /** Brings the index up to date with the file; concurrent callers share one pass. */
  refresh(): Promise<void> {
    const run = this.pending.then(() => this.refreshNow());
    this.pending = run.catch(() => undefined);
    return run;
  }

  private reset(): void {
    this.columns = new RowColumns();
    this.text = new TextColumn();
    this.indexedBytes = 0;
    this.nextLineNo = 1;
    this.provisional = null;
    this.invalidLines.length = 0;
    this.invalidCount = 0;
    this.sortCache.clear();
  }

  private async refreshNow(): Promise<void> {
    let info;
    try {
      info = await stat(this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        if (this.identity !== null) this.reset();
        this.identity = null;
        return;
      }
      throw new StageBError('IO_READ_FAILED', `cannot stat ${this.path}: ${(error as Error).message}`, { file: this.path });
    }
    const identity = `${info.dev}:${info.ino}`;
    if (this.identity !== identity || info.size < this.indexedBytes) this.reset();
    this.identity = identity;
    if (this.provisional) {
      if (info.size === this.provisional.end) return;
      this.sortCache.clear();
      this.columns.truncate(this.columns.length - 1);
      this.text.truncate(this.text.length - 1);
      this.nextLineNo = this.provisional.lineNo;
      this.indexedBytes = this.provisional.bytes;
      this.provisional = null;
    }
    if (info.size === this.indexedBytes) return;
    await this.readFrom(this.indexedBytes, info.size);
  }

  private async readFrom(start: number, end: number): Promise<void> {
    const handle = await open(this.path, 'r');
    try {
      let position = start;
      let carry: Buffer = Buffer.alloc(0);
      let carryStart = start;
      const chunk = Buffer.allocUnsafe(READ_CHUNK);
      while (position < end) {
        const { bytesRead } = await handle.read(chunk, 0, Math.min(READ_CHUNK, end - position), position);
        if (bytesRead === 0) break;
        position += bytesRead;
        const data = carry.length ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
        const lastNewline = data.lastIndexOf(NEWLINE);
        let lineStart = 0;
        if (lastNewline !== -1) {
          // One decode per chunk, split on '\n' (a single byte in UTF-8, never inside a
          // multi-byte sequence, so the k-th string line is the k-th byte line).
          const lines = data.toString('utf8', 0, lastNewline).split('\n');
          for (const text of lines) {
            const newline = data.indexOf(NEWLINE, lineStart);
            this.indexLine(text, lineStart, newline, carryStart + lineStart);
            lineStart = newline + 1;
          }
        }
        carryStart += lineStart;
        carry = Buffer.from(data.subarray(lineStart));
      }
      this.indexedBytes = carryStart;
      if (carry.length > 0) this.indexTail(carry, carryStart);
    } finally {
      await handle.close();
    }
  }

  private indexLine(raw: string, start: number, end: number, fileOffset: number): void {
    const lineNo = this.nextLineNo;
    this.nextLineNo += 1;
    let stop = end;
    let text = raw;
    if (text.endsWith('\r')) {
      text = text.slice(0, -1);
      stop -= 1;
    }
    if (stop === start || text.trim() === '') return;
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch (error) {
      this.noteInvalid(lineNo, `malformed JSON: ${(error as Error).message}`);
      return;
    }
    this.pushRecord(record, fileOffset, stop - start, lineNo);
  }

  private pushRecord(record: unknown, offset: number, length: number, lineNo: number): boolean {
    if (!record || typeof record !== 'object' || Array.isArray(record)) {
      this.noteInvalid(lineNo, 'line is not a JSON object');
      return false;
    }
    const object = record as Record<string, unknown>;
    if (!this.columns.push(object, offset, length, lineNo)) {
      this.noteInvalid(lineNo, 'missing group_id, epoch or signals');
      return false;
    }
    this.text.push(textOf(object));
    return true;
  }

  private indexTail(tail: Buffer, offset: number): void {
    const text = tail.toString('utf8').replace(/\r$/, '');
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch {
      return; // torn line: wait for the writer to finish it
    }
    const lineNo = this.nextLineNo;
    const before = this.columns.length;
    const invalidBefore = this.invalidCount;
    if (this.pushRecord(record, offset, Buffer.byteLength(text), lineNo)) {
      this.provisional = { bytes: offset, end: offset + tail.length, lineNo };
      this.nextLineNo += 1;
    } else if (this.invalidCount > invalidBefore) {
      // Not indexed; it will be re-read (and reported) once a newline follows.
      this.invalidCount = invalidBefore;
      if (this.invalidLines.length && this.invalidLines[this.invalidLines.length - 1].line === lineNo) this.invalidLines.pop();
      this.columns.truncate(before);
    }
  }

  private noteInvalid(line: number, message: string): void {
    this.invalidCount += 1;
    if (this.invalidLines.length < MAX_INVALID_REPORTED) this.invalidLines.push({ line, message });
  }

  /** Rows matching the filters, as a mask (null = every row). */
  private filterMask(filters: RowFilters): Uint8Array | null {
    const c = this.columns;
    const n = c.length;
    const checks: ((i: number) => boolean)[] = [];
    if (filters.epoch !== undefined) {
      const value = filters.epoch;
      checks.push((i) => c.epoch[i] === value);
    }
    if (filters.batch_index !== undefined) {
      const value = filters.batch_index;
      checks.push((i) => c.batchIndex[i] === value);
    }
    if (filters.label !== undefined) {
      const code = LABEL_CODE[filters.label];
      checks.push((i) => c.label[i] === code);
    }
    if (filters.verdict !== undefined) {
      const code = LABEL_CODE[filters.verdict];
      checks.push((i) => c.verdict[i] === code);
    }
    if (filters.label_match !== undefined) {
      const code = filters.label_match === null ? BOOL_CODE.null : filters.label_match ? BOOL_CODE.true : BOOL_CODE.false;
      checks.push((i) => c.labelMatch[i] === code);
    }
    if (filters.eligible !== undefined) {
      const code = filters.eligible === null ? BOOL_CODE.null : filters.eligible ? BOOL_CODE.true : BOOL_CODE.false;
      checks.push((i) => c.eligible[i] === code);
    }
    if (filters.ineligible_reason !== undefined) {
      const id = c.ineligibleReasons.idOf(filters.ineligible_reason) ?? -1;
      checks.push((i) => c.ineligibleReason[i] === id);
    }
    if (filters.warning !== undefined) {
      const bit = WARNING_BITS.get(filters.warning) ?? 0;
      checks.push((i) => (c.warnings[i] & bit) !== 0);
    }
    if (filters.group_id !== undefined) {
      const id = c.groupIds.idOf(filters.group_id) ?? -1;
      checks.push((i) => c.groupId[i] === id);
    }
    const needle = filters.text?.trim();
    if (!needle && checks.length === 0) return null;
    const mask = new Uint8Array(n);
    if (needle) {
      this.text.search(needle, mask);
    } else {
      mask.fill(1);
    }
    if (checks.length === 0) return mask;
    for (let i = 0; i < n; i += 1) {
      if (mask[i] === 0) continue;
      for (let k = 0; k < checks.length; k += 1) {
        if (!checks[k](i)) {
          mask[i] = 0;
          break;
        }
      }
    }
    return mask;
  }

  /** An integer in [0, KEY_SPACE) per row; NULL_KEY for nulls (sorted last either way). */
  private sortKeys(field: Exclude<SortField, 'row'>): (i: number) => number {
    const c = this.columns;
    const small = (array: Int32Array) => (i: number) => (array[i] < 0 ? NULL_KEY : Math.min(array[i], NULL_KEY - 1));
    const code = (array: Uint8Array) => (i: number) => (array[i] === 0 ? NULL_KEY : array[i]);
    const fraction = (array: Float32Array) => (i: number) => (Number.isNaN(array[i]) ? NULL_KEY : Math.round(array[i] * 1e6));
    switch (field) {
      case 'epoch':
        return small(c.epoch);
      case 'batch_index':
        return small(c.batchIndex);
      case 'guidance_step':
        return small(c.guidanceStep);
      case 'candidate_index':
        return small(c.candidate);
      case 'label':
        return code(c.label);
      case 'verdict':
        return code(c.verdict);
      case 'label_match':
        return code(c.labelMatch);
      case 'eligible':
        return code(c.eligible);
      case 'confidence':
        return fraction(c.confidence);
      case 'self_consistency':
        return fraction(c.selfConsistency);
      case 'group_id': {
        const rank = c.groupIds.ranks();
        return (i) => rank[c.groupId[i]];
      }
    }
  }

  /** Composite keys (sort key × 2^k + row) sort stably with the native typed-array sort. */
  private sortRows(rows: ArrayLike<number>, field: Exclude<SortField, 'row'>, dir: 'asc' | 'desc'): Uint32Array {
    const n = this.columns.length;
    let multiplier = 1;
    while (multiplier <= n) multiplier *= 2;
    const key = this.sortKeys(field);
    const composite = new Float64Array(rows.length);
    for (let i = 0; i < rows.length; i += 1) {
      const row = rows[i];
      let k = key(row);
      if (dir === 'desc' && k !== NULL_KEY) k = NULL_KEY - 1 - k;
      composite[i] = k * multiplier + row;
    }
    composite.sort();
    const order = new Uint32Array(rows.length);
    for (let i = 0; i < rows.length; i += 1) order[i] = composite[i] % multiplier;
    return order;
  }

  /** Row ids of the whole file in sort order (stable: ties keep file order). Cached until the file grows. */
  private sortedOrder(field: Exclude<SortField, 'row'>, dir: 'asc' | 'desc'): Uint32Array {
    const n = this.columns.length;
    const cacheKey = `${field}:${dir}`;
    const cached = this.sortCache.get(cacheKey);
    if (cached && cached.length === n) return cached.order;
    const all = new Uint32Array(n);
    for (let i = 0; i < n; i += 1) all[i] = i;
    const order = this.sortRows(all, field, dir);
    this.sortCache.set(cacheKey, { length: n, order });
    return order;
  }

  /** Filter + sort over the columns; returns the total and the page's row ids. */
  query(query: IndexedQuery): IndexedPage {
    const n = this.columns.length;
    const mask = this.filterMask(query.filters);
    const start = query.offset;
    const stop = query.offset + query.limit;
    const { field, dir } = query.sort;
    if (field !== 'row' && mask && !this.sortCache.has(`${field}:${dir}`)) {
      // A selective filter sorts only its matches instead of building the whole-file order.
      let matches = 0;
      for (let i = 0; i < n; i += 1) matches += mask[i];
      if (matches * 4 < n) {
        const subset = new Uint32Array(matches);
        for (let i = 0, j = 0; i < n; i += 1) if (mask[i]) subset[j++] = i;
        const order = this.sortRows(subset, field, dir);
        return { total: matches, rows: Array.from(order.subarray(start, Math.min(stop, matches))) };
      }
    }
    const rows: number[] = [];
    let total = 0;
    const visit = (row: number) => {
      if (mask && mask[row] === 0) return;
      if (total >= start && total < stop) rows.push(row);
      total += 1;
    };
    if (field === 'row') {
      if (dir === 'asc') for (let i = 0; i < n; i += 1) visit(i);
      else for (let i = n - 1; i >= 0; i -= 1) visit(i);
    } else {
      const order = this.sortedOrder(field, dir);
      for (let i = 0; i < n; i += 1) visit(order[i]);
    }
    return { total, rows };
  }

  /** Row ids of one group, in file order. */
  rowsOfGroup(groupId: string): number[] {
    const id = this.columns.groupIds.idOf(groupId);
    if (id === undefined) return [];
    const rows: number[] = [];
    for (let i = 0; i < this.columns.length; i += 1) if (this.columns.groupId[i] === id) rows.push(i);
    return rows;
  }

  lineNumberOf(row: number): number {
    return this.columns.lineNo[row];
  }

  /**
   * Reads and validates the given rows from disk. Rows that fail the schema are
   * returned in `invalid` instead (the index only checked the filterable fields).
   */
  async readRows(rows: readonly number[]): Promise<{ rows: { line: number; record: T }[]; invalid: InvalidLine[] }> {
    const out: { line: number; record: T }[] = [];
    const invalid: InvalidLine[] = [];
    if (rows.length === 0) return { rows: out, invalid };
    const handle = await open(this.path, 'r');
    try {
      for (const row of rows) {
        const length = this.columns.byteLength[row];
        const buffer = Buffer.allocUnsafe(length);
        await handle.read(buffer, 0, length, this.columns.offset[row]);
        const line = this.columns.lineNo[row];
        let value: unknown;
        try {
          value = JSON.parse(buffer.toString('utf8'));
        } catch (error) {
          invalid.push({ line, message: `malformed JSON: ${(error as Error).message}` });
          continue;
        }
        const parsed = this.schema.safeParse(value);
        if (parsed.success) out.push({ line, record: parsed.data });
        else {
          const issue = parsed.error.issues[0];
          invalid.push({ line, message: `${issue.path.join('.') || '(root)'}: ${issue.message}` });
        }
      }
    } finally {
      await handle.close();
    }
    return { rows: out, invalid };
  }
}
