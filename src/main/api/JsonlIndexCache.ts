import type { z } from 'zod';
import { JsonlLineIndex, type IndexedQuery, type InvalidLine } from './JsonlLineIndex';

/** A page answered while the index may still be building (see JsonlIndexCache.queryPage). */
export type IndexedRowsPage<T> = {
  total: number;
  rows: { line: number; record: T }[];
  invalid: InvalidLine[];
  indexedRows: number;
  /** true: answered over the prefix indexed so far; total and order cover only that prefix. */
  partial: boolean;
  /** Share of the file's bytes indexed, 0..1. */
  indexedFraction: number;
};

/**
 * Keeps the line indexes of recently used files, least recently used evicted
 * first, within a file count and a memory budget (a 500k-row trajectories index
 * is ~200 MB, mostly its text column), so a reviewer hopping between runs does
 * not pile up memory. The index just used is always kept.
 */
export class JsonlIndexCache {
  private readonly entries = new Map<string, JsonlLineIndex<unknown>>();

  constructor(
    private readonly maxFiles = 8,
    private readonly maxBytes = 400 * 1024 * 1024,
    /** How long a query that needs the whole index waits for a build before answering over the prefix. */
    private readonly partialWaitMs = 250,
    private readonly sidecar = true,
  ) {}

  private entry<T>(file: string, schema: z.ZodType<T>): JsonlLineIndex<T> {
    let index = this.entries.get(file) as JsonlLineIndex<T> | undefined;
    if (index) this.entries.delete(file);
    else index = new JsonlLineIndex(file, schema, { sidecar: this.sidecar });
    this.entries.set(file, index as JsonlLineIndex<unknown>);
    return index;
  }

  /**
   * One page of rows without waiting for a full build. A file-order, unfiltered
   * page is answered as soon as its rows are indexed (the first page of a new
   * 500k-row run reads only the first MiB); any other query waits up to
   * partialWaitMs for the build, then is answered over the prefix indexed so far
   * with partial: true. The build goes on in the background, yielding to the
   * event loop between slices.
   */
  async queryPage<T>(file: string, schema: z.ZodType<T>, query: IndexedQuery): Promise<IndexedRowsPage<T>> {
    const index = this.entry(file, schema);
    const filtered = query.items !== undefined || Object.values(query.filters).some((value) => value !== undefined && value !== '');
    const fileOrderPrefix = !filtered && query.sort.field === 'row' && query.sort.dir === 'asc';
    const complete = await index.refreshUntil(fileOrderPrefix ? query.offset + query.limit : Number.POSITIVE_INFINITY, fileOrderPrefix ? Number.POSITIVE_INFINITY : this.partialWaitMs);
    this.evict();
    // Taken with the query, before readRows yields to the build.
    const page = index.query(query);
    const indexedRows = index.length;
    const { indexedBytes, fileBytes } = index.progress;
    const invalid = [...index.invalid];
    const read = await index.readRows(page.rows);
    return {
      total: page.total,
      rows: read.rows,
      invalid: [...invalid, ...read.invalid],
      indexedRows,
      partial: !complete,
      indexedFraction: complete || fileBytes === 0 ? 1 : Math.min(1, indexedBytes / fileBytes),
    };
  }

  /** The up-to-date index of `file` (built on first use, extended when the file grew). */
  async get<T>(file: string, schema: z.ZodType<T>): Promise<JsonlLineIndex<T>> {
    const index = this.entry(file, schema);
    await index.refresh();
    this.evict();
    return index;
  }

  /** Files currently indexed, least recently used first. */
  get files(): string[] {
    return [...this.entries.keys()];
  }

  private evict(): void {
    const total = () => [...this.entries.values()].reduce((sum, entry) => sum + entry.approximateBytes(), 0);
    while (this.entries.size > 1 && (this.entries.size > this.maxFiles || total() > this.maxBytes)) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}
