import { open, stat } from 'node:fs/promises';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { z } from 'zod';
import { StageBError } from '../../shared/errors';
import type { RowFilters, SortField } from '../../shared/api/contract';
import { BOOL_CODE, LABEL_CODE, RowColumns, WARNING_BITS } from './RowColumns';
import { TextColumn } from './TextColumn';
import { loadIndexSidecar, saveIndexSidecar } from './index/IndexSidecar';
import { scanIndexedFields } from './index/scanIndexedFields';

const READ_CHUNK = 1024 * 1024;
/** Lines closer than this are read together by readRows. */
const READ_GAP = 16 * 1024;
/** Longest stretch of indexing work between yields to the event loop. */
const SLICE_MS = 20;
/** A build or extension this large is worth persisting as a sidecar. */
const SIDECAR_MIN_ROWS = 20_000;
const MAX_INVALID_REPORTED = 50;
const NEWLINE = 0x0a;
const KEY_SPACE = 2 ** 30;
const NULL_KEY = KEY_SPACE - 1;

export type InvalidLine = { line: number; message: string };
/**
 * Rows kept by the items (group, epoch) they belong to, for filters whose state lives
 * outside the file (the QA review of an item): `keep` the rows of the listed items, or
 * the rows of every other item.
 */
export type ItemFilter = { epochsByGroup: ReadonlyMap<string, ReadonlySet<number>>; keep: 'listed' | 'unlisted' };
/**
 * Rows the free-text filter also matches through text kept outside the file (the
 * tickets' Stage-A summaries): by group, with the label codes (LABEL_CODE) of the
 * matching tickets, or null when every row of the group matches.
 */
export type TextGroupMatch = ReadonlyMap<string, ReadonlySet<number> | null>;
export type IndexedQuery = { filters: RowFilters; sort: { field: SortField; dir: 'asc' | 'desc' }; offset: number; limit: number; items?: ItemFilter; textGroups?: TextGroupMatch };
export type IndexedPage = { total: number; rows: number[] };
/** sidecar: persist/reuse an index sidecar (default true); sidecarMinRows: rows indexed before a (re)write is worth it. */
export type JsonlLineIndexOptions = { sidecar?: boolean; sidecarMinRows?: number };
/** How far the index is: complete (covers the file as of the last refresh) or a prefix of it. */
export type IndexProgress = { complete: boolean; indexedBytes: number; fileBytes: number };

/** The fields folded into the text column, in order. */
const TEXT_FIELDS = ['group_id', 'ticket_key', 'response_text', 'reason', 'summary', 'critique', 'ineligible_reason'] as const;

/** `rows` reordered by ascending `keys` (parallel arrays; `keys` is used as scratch and clobbered), stable. */
export function radixSortByKey(rows: Uint32Array, keys: Uint32Array): Uint32Array {
  const m = rows.length;
  const counts = new Uint32Array(65536);
  const pass = (shift: number, fromRows: Uint32Array, fromKeys: Uint32Array, toRows: Uint32Array, toKeys: Uint32Array) => {
    counts.fill(0);
    for (let i = 0; i < m; i += 1) counts[(fromKeys[i] >>> shift) & 0xffff] += 1;
    let sum = 0;
    for (let b = 0; b < 65536; b += 1) {
      const count = counts[b];
      counts[b] = sum;
      sum += count;
    }
    for (let i = 0; i < m; i += 1) {
      const slot = counts[(fromKeys[i] >>> shift) & 0xffff]++;
      toRows[slot] = fromRows[i];
      toKeys[slot] = fromKeys[i];
    }
  };
  const lowRows = new Uint32Array(m);
  const lowKeys = new Uint32Array(m);
  const sortedRows = new Uint32Array(m);
  pass(0, rows, keys, lowRows, lowKeys);
  pass(16, lowRows, lowKeys, sortedRows, keys);
  return sortedRows;
}

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
  private readonly useSidecar: boolean;
  private readonly sidecarMinRows: number;
  private columns = new RowColumns();
  private text = new TextColumn();
  private indexedBytes = 0;
  private fileBytes = 0;
  private nextLineNo = 1;
  private provisional: { bytes: number; end: number; lineNo: number } | null = null;
  private identity: string | null = null;
  private invalidLines: InvalidLine[] = [];
  private invalidCount = 0;
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  private progressWaiters: (() => void)[] = [];
  private rowsSinceSidecar = 0;
  private sidecarChecked = false;
  private saving: Promise<void> | null = null;
  private readonly sortCache = new Map<string, { length: number; order: Uint32Array }>();

  constructor(path: string, schema: z.ZodType<T>, options: JsonlLineIndexOptions = {}) {
    this.path = path;
    this.schema = schema;
    this.useSidecar = options.sidecar ?? true;
    this.sidecarMinRows = options.sidecarMinRows ?? SIDECAR_MIN_ROWS;
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

  get progress(): IndexProgress {
    return { complete: this.running === null && this.queued === null, indexedBytes: this.indexedBytes, fileBytes: Math.max(this.fileBytes, this.indexedBytes) };
  }

  approximateBytes(): number {
    return this.columns.approximateBytes() + this.text.approximateBytes();
  }

  /**
   * Brings the index up to date with the file (as of a stat taken after this call).
   * Concurrent callers share passes: at most one runs and one waits behind it.
   */
  refresh(): Promise<void> {
    if (this.queued) return this.queued;
    if (!this.running) return this.startRun();
    const next = this.running.catch(() => undefined).then(() => {
      this.queued = null;
      return this.startRun();
    });
    this.queued = next;
    return next;
  }

  private startRun(): Promise<void> {
    const run = this.refreshNow().finally(() => {
      if (this.running === run) this.running = null;
      this.notifyProgress();
    });
    this.running = run;
    return run;
  }

  /**
   * Refreshes, but resolves early once `minRows` rows are indexed or `maxWaitMs`
   * passed, whichever comes first; the refresh goes on in the background.
   * Resolves to true when the index is complete.
   */
  refreshUntil(minRows: number, maxWaitMs: number): Promise<boolean> {
    const run = this.refresh();
    return new Promise<boolean>((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const waiter = () => {
        if (!settled && this.columns.length >= minRows) settle(this.progress.complete);
      };
      const settle = (complete: boolean) => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        this.progressWaiters = this.progressWaiters.filter((entry) => entry !== waiter);
        resolve(complete);
      };
      run.then(
        () => settle(this.progress.complete),
        (error) => {
          if (settled) return;
          settled = true;
          if (timer) clearTimeout(timer);
          this.progressWaiters = this.progressWaiters.filter((entry) => entry !== waiter);
          reject(error);
        },
      );
      if (Number.isFinite(maxWaitMs)) timer = setTimeout(() => settle(false), maxWaitMs);
      this.progressWaiters.push(waiter);
    });
  }

  private notifyProgress(): void {
    for (const waiter of [...this.progressWaiters]) waiter();
  }

  /** Resolves once a sidecar write in flight (if any) has finished; for tests and the bench. */
  async sidecarWritten(): Promise<void> {
    await this.saving;
  }

  private reset(): void {
    this.columns = new RowColumns();
    this.text = new TextColumn();
    this.indexedBytes = 0;
    this.nextLineNo = 1;
    this.provisional = null;
    this.invalidLines = [];
    this.invalidCount = 0;
    this.rowsSinceSidecar = 0;
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
        this.fileBytes = 0;
        return;
      }
      throw new StageBError('IO_READ_FAILED', `cannot stat ${this.path}: ${(error as Error).message}`, { file: this.path });
    }
    this.fileBytes = info.size;
    const identity = `${info.dev}:${info.ino}`;
    if (this.identity !== identity || info.size < this.indexedBytes) this.reset();
    if (this.identity !== identity && this.useSidecar && !this.sidecarChecked) await this.adoptSidecar(info);
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
    if (this.useSidecar && !this.provisional && this.rowsSinceSidecar >= Math.max(this.sidecarMinRows, this.columns.length / 10)) this.persist(info);
  }

  /** Starts from the persisted index when it matches the file (see IndexSidecar). */
  private async adoptSidecar(info: { size: number; mtimeMs: number }): Promise<void> {
    this.sidecarChecked = true;
    const loaded = await loadIndexSidecar(this.path, info);
    if (!('snapshot' in loaded)) return;
    const { snapshot } = loaded;
    this.columns = snapshot.columns;
    this.text = snapshot.text;
    this.indexedBytes = snapshot.coveredBytes;
    this.nextLineNo = snapshot.nextLineNo;
    this.invalidCount = snapshot.invalidCount;
    this.invalidLines = snapshot.invalidLines;
    this.rowsSinceSidecar = 0;
    this.sortCache.clear();
  }

  /** Writes the sidecar in the background; a failure (read-only run dir) only costs the next open a rebuild. */
  private persist(info: { size: number; mtimeMs: number }): void {
    if (this.saving) return;
    const snapshot = {
      coveredBytes: this.indexedBytes,
      nextLineNo: this.nextLineNo,
      invalidCount: this.invalidCount,
      invalidLines: [...this.invalidLines],
      columns: this.columns,
      text: this.text,
    };
    this.rowsSinceSidecar = 0;
    // saveIndexSidecar takes its views synchronously; rows only ever get appended after them.
    this.saving = saveIndexSidecar(this.path, snapshot, info)
      .catch(() => undefined)
      .finally(() => {
        this.saving = null;
      });
  }

  private async readFrom(start: number, end: number): Promise<void> {
    const handle = await open(this.path, 'r');
    try {
      let buffer = Buffer.allocUnsafe(READ_CHUNK);
      // buffer[0, carried) holds the unfinished line that starts at file offset `lineOffset`.
      let carried = 0;
      let lineOffset = start;
      let position = start;
      let sliceStart = performance.now();
      while (position < end) {
        if (carried === buffer.length) {
          const grown = Buffer.allocUnsafe(buffer.length * 2);
          buffer.copy(grown, 0, 0, carried);
          buffer = grown;
        }
        const { bytesRead } = await handle.read(buffer, carried, Math.min(buffer.length - carried, end - position), position);
        if (bytesRead === 0) break;
        position += bytesRead;
        const filled = carried + bytesRead;
        let lineStart = 0;
        let newline = buffer.indexOf(NEWLINE, carried);
        let sinceCheck = 0;
        while (newline !== -1 && newline < filled) {
          this.indexLine(buffer, lineStart, newline, lineOffset);
          lineOffset += newline + 1 - lineStart;
          lineStart = newline + 1;
          newline = buffer.indexOf(NEWLINE, lineStart);
          if (++sinceCheck === 256) {
            sinceCheck = 0;
            if (performance.now() - sliceStart > SLICE_MS) {
              this.indexedBytes = lineOffset;
              this.notifyProgress();
              await yieldToEventLoop();
              sliceStart = performance.now();
            }
          }
        }
        this.indexedBytes = lineOffset;
        carried = filled - lineStart;
        if (carried > 0 && lineStart > 0) buffer.copy(buffer, 0, lineStart, filled);
        this.notifyProgress();
      }
      if (carried > 0) this.indexTail(Buffer.from(buffer.subarray(0, carried)), lineOffset);
    } finally {
      await handle.close();
    }
  }

  private indexLine(buffer: Buffer, start: number, newline: number, fileOffset: number): void {
    const lineNo = this.nextLineNo;
    this.nextLineNo += 1;
    let stop = newline;
    if (stop > start && buffer[stop - 1] === 0x0d) stop -= 1;
    if (stop === start) return;
    let record: unknown = scanIndexedFields(buffer, start, stop);
    if (record === null) {
      // Not certain for the fast scanner: decide exactly as JSON.parse does.
      const text = buffer.toString('utf8', start, stop);
      if (text.trim() === '') return;
      try {
        record = JSON.parse(text);
      } catch (error) {
        this.noteInvalid(lineNo, `malformed JSON: ${(error as Error).message}`);
        return;
      }
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
    this.rowsSinceSidecar += 1;
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

  /** Rows matching the filters, as a mask (null = every row). One tight pass per filter, no per-row closures. */
  private filterMask(filters: RowFilters, items?: ItemFilter, textGroups?: TextGroupMatch): Uint8Array | null {
    const c = this.columns;
    const n = c.length;
    const needle = filters.text?.trim();
    const hasColumnFilter =
      filters.epoch !== undefined ||
      filters.batch_index !== undefined ||
      filters.label !== undefined ||
      filters.verdict !== undefined ||
      filters.label_match !== undefined ||
      filters.eligible !== undefined ||
      filters.ineligible_reason !== undefined ||
      filters.warning !== undefined ||
      filters.group_id !== undefined ||
      items !== undefined;
    if (!needle && !hasColumnFilter) return null;
    const mask = new Uint8Array(n);
    if (needle) {
      this.text.search(needle, mask);
      if (textGroups && textGroups.size > 0) this.markGroups(mask, textGroups);
    } else mask.fill(1);
    const keepEqual = (column: ArrayLike<number>, value: number) => {
      for (let i = 0; i < n; i += 1) if (mask[i] !== 0 && column[i] !== value) mask[i] = 0;
    };
    const triState = (value: boolean | null) => (value === null ? BOOL_CODE.null : value ? BOOL_CODE.true : BOOL_CODE.false);
    if (filters.epoch !== undefined) keepEqual(c.epoch, filters.epoch);
    if (filters.batch_index !== undefined) keepEqual(c.batchIndex, filters.batch_index);
    if (filters.label !== undefined) keepEqual(c.label, LABEL_CODE[filters.label]);
    if (filters.verdict !== undefined) keepEqual(c.verdict, LABEL_CODE[filters.verdict]);
    if (filters.label_match !== undefined) keepEqual(c.labelMatch, triState(filters.label_match));
    if (filters.eligible !== undefined) keepEqual(c.eligible, triState(filters.eligible));
    if (filters.ineligible_reason !== undefined) keepEqual(c.ineligibleReason, c.ineligibleReasons.idOf(filters.ineligible_reason) ?? -1);
    if (filters.group_id !== undefined) keepEqual(c.groupId, c.groupIds.idOf(filters.group_id) ?? -1);
    if (filters.warning !== undefined) {
      const bit = WARNING_BITS.get(filters.warning) ?? 0;
      const warnings = c.warnings;
      for (let i = 0; i < n; i += 1) if (mask[i] !== 0 && (warnings[i] & bit) === 0) mask[i] = 0;
    }
    if (items) {
      // Looked up by dictionary id, so the pass over the rows stays a pair of array reads.
      const byGroupId: (ReadonlySet<number> | undefined)[] = [];
      for (const [groupId, epochs] of items.epochsByGroup) {
        const id = c.groupIds.idOf(groupId);
        if (id !== undefined) byGroupId[id] = epochs;
      }
      const keepListed = items.keep === 'listed';
      for (let i = 0; i < n; i += 1) {
        if (mask[i] === 0) continue;
        const listed = byGroupId[c.groupId[i]]?.has(c.epoch[i]) ?? false;
        if (listed !== keepListed) mask[i] = 0;
      }
    }
    return mask;
  }

  /** Sets mask[row] = 1 for the rows of the listed groups (and labels); one pass of array reads. */
  private markGroups(mask: Uint8Array, groups: TextGroupMatch): void {
    const c = this.columns;
    const byGroupId: (ReadonlySet<number> | null | undefined)[] = [];
    for (const [groupId, labels] of groups) {
      const id = c.groupIds.idOf(groupId);
      if (id !== undefined) byGroupId[id] = labels;
    }
    for (let i = 0; i < c.length; i += 1) {
      if (mask[i] !== 0) continue;
      const labels = byGroupId[c.groupId[i]];
      if (labels === undefined) continue;
      if (labels === null || labels.has(c.label[i])) mask[i] = 1;
    }
  }

  /** An integer in [0, KEY_SPACE) per row; NULL_KEY for nulls (sorted last either way). */
  private sortKeys(field: Exclude<SortField, 'row'>): (i: number) => number {
    const c = this.columns;
    const small = (array: Int32Array) => (i: number) => (array[i] < 0 ? NULL_KEY : Math.min(array[i], NULL_KEY - 1));
    const code = (array: Uint8Array) => (i: number) => (array[i] === 0 ? NULL_KEY : array[i]);
    const fraction = (array: Float32Array) => (i: number) => (Number.isNaN(array[i]) ? NULL_KEY : Math.min(Math.max(0, Math.round(array[i] * 1e6)), NULL_KEY - 1));
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

  /**
   * `rows` (ascending row ids) ordered by the field: a stable two-pass LSD radix
   * sort on 30-bit keys, so ties keep file order and the cost is linear.
   */
  private sortRows(rows: Uint32Array, field: Exclude<SortField, 'row'>, dir: 'asc' | 'desc'): Uint32Array {
    const key = this.sortKeys(field);
    const m = rows.length;
    const keys = new Uint32Array(m);
    for (let i = 0; i < m; i += 1) {
      let k = key(rows[i]);
      if (dir === 'desc' && k !== NULL_KEY) k = NULL_KEY - 1 - k;
      keys[i] = k;
    }
    return radixSortByKey(rows, keys);
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
    const mask = this.filterMask(query.filters, query.items, query.textGroups);
    const start = query.offset;
    const stop = query.offset + query.limit;
    const { field, dir } = query.sort;
    const cached = this.sortCache.get(`${field}:${dir}`);
    if (field !== 'row' && mask && !(cached && cached.length === n)) {
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
    if (field === 'row' && !mask) {
      total = n;
      for (let k = start; k < Math.min(stop, n); k += 1) rows.push(dir === 'asc' ? k : n - 1 - k);
      return { total, rows };
    }
    const order = field === 'row' ? null : this.sortedOrder(field, dir);
    for (let k = 0; k < n; k += 1) {
      const row = order ? order[k] : dir === 'asc' ? k : n - 1 - k;
      if (mask && mask[row] === 0) continue;
      if (total >= start && total < stop) rows.push(row);
      total += 1;
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
    // Positions are taken now: the index may grow (and reallocate) while we read.
    const c = this.columns;
    const wanted = rows.map((row, order) => ({ order, offset: c.offset[row], length: c.byteLength[row], line: c.lineNo[row] }));
    const byOffset = [...wanted].sort((a, b) => a.offset - b.offset);
    // Neighbouring lines are read in one go (a file-order page is a single read).
    const spans: { start: number; end: number; members: typeof wanted }[] = [];
    for (const entry of byOffset) {
      const last = spans[spans.length - 1];
      if (last && entry.offset - last.end <= READ_GAP && entry.offset + entry.length - last.start <= READ_CHUNK) {
        last.end = Math.max(last.end, entry.offset + entry.length);
        last.members.push(entry);
      } else spans.push({ start: entry.offset, end: entry.offset + entry.length, members: [entry] });
    }
    const texts: string[] = new Array(rows.length);
    const handle = await open(this.path, 'r');
    try {
      await Promise.all(
        spans.map(async (span) => {
          const buffer = Buffer.allocUnsafe(span.end - span.start);
          await handle.read(buffer, 0, buffer.length, span.start);
          for (const member of span.members) texts[member.order] = buffer.toString('utf8', member.offset - span.start, member.offset - span.start + member.length);
        }),
      );
    } finally {
      await handle.close();
    }
    for (const entry of wanted) {
      const line = entry.line;
      let value: unknown;
      try {
        value = JSON.parse(texts[entry.order]);
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
    return { rows: out, invalid };
  }
}
