import type { z } from 'zod';
import { JsonlLineIndex } from './JsonlLineIndex';

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
  ) {}

  /** The up-to-date index of `file` (built on first use, extended when the file grew). */
  async get<T>(file: string, schema: z.ZodType<T>): Promise<JsonlLineIndex<T>> {
    let index = this.entries.get(file) as JsonlLineIndex<T> | undefined;
    if (index) {
      this.entries.delete(file);
    } else {
      index = new JsonlLineIndex(file, schema);
    }
    this.entries.set(file, index as JsonlLineIndex<unknown>);
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
